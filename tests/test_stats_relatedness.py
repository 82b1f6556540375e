"""Tests of relatedness LRs and TMRCA posteriors (patriline.stats.relatedness)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from patriline.errors import InputError
from patriline.haplotype import Allele, AlleleKind, Haplotype, parse_haplotype_string
from patriline.reference import default_catalog
from patriline.stats.dlmix import DLMixFit, FitConfig, fit
from patriline.stats.mutation import StepwiseModel, difference_table
from patriline.stats.reference_set import design_matrix, load_reference
from patriline.stats.relatedness import (
    likelihood_ratio,
    posterior_from_loglik,
    tmrca_posterior,
    walsh_posterior,
)

FULL = (
    "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
    "DYS437=15,DYS438=12,DYS439=12"
)


def test_walsh_posterior__published_12_of_12_mu_0002() -> None:
    """Walsh 2001 (Genetics 158:897): 12/12 match, μ=0.002 → median 14.4, 90% 48.0, 95% 62.4."""
    post = walsh_posterior(12, 12, 0.002)
    assert round(post.median, 1) == 14.4
    assert round(post.quantile(0.90), 1) == 48.0
    assert round(post.quantile(0.95), 1) == 62.4


def test_walsh_posterior__all_match_is_exponential_closed_form() -> None:
    """Independent computation: with k = n the posterior is Exp(2μn); quantile = −ln(1−q)/(2μn)."""
    post = walsh_posterior(20, 20, 0.003)
    for q in (0.25, 0.5, 0.9):
        assert post.quantile(q) == pytest.approx(-math.log(1 - q) / (2 * 0.003 * 20), abs=0.02)


def test_walsh_posterior__fewer_matches_push_the_ancestor_back() -> None:
    assert walsh_posterior(11, 12, 0.002).median > walsh_posterior(12, 12, 0.002).median


def test_walsh_posterior__impossible_input_is_an_error() -> None:
    with pytest.raises(InputError):
        walsh_posterior(13, 12, 0.002)
    with pytest.raises(InputError, match="improper"):
        walsh_posterior(0, 12, 0.002)


def test_posterior_from_loglik__infinite_alleles_likelihood_gives_walsh_on_whole_generations() -> (
    None
):
    """Walsh 2001 check on the discrete grid: P(no mutation in 2t meioses)^12 at μ=0.002
    gives median 14.4, 90% 48.0, 95% 62.4 within one generation (grid rounding)."""
    t = np.arange(1, 301)
    post = posterior_from_loglik(12 * 2 * t * np.log1p(-0.002))
    assert abs(post.median - 14.4) <= 1.0
    assert abs(post.quantile(0.9) - 48.0) <= 1.0
    assert abs(post.quantile(0.95) - 62.4) <= 1.0


def test_posterior_from_loglik__stepwise_back_mutations_lengthen_the_walsh_estimate() -> None:
    """The stepwise generalisation counts hidden back-mutations: for 12 matching loci it can
    only be older than infinite alleles (Walsh), and only slightly at μ=0.002."""
    model = StepwiseModel(two_step_share=0.0, max_meioses=400, rate_uncertainty=False)
    table = difference_table(0.002, model)
    stepwise = posterior_from_loglik(12 * np.log(table[2::2, 2 * model.max_meioses]))
    t = np.arange(1, 201)
    walsh = posterior_from_loglik(12 * 2 * t * np.log1p(-0.002))
    assert walsh.median <= stepwise.median <= 1.25 * walsh.median
    assert walsh.quantile(0.9) <= stepwise.quantile(0.9) <= 1.25 * walsh.quantile(0.9)


def test_tmrca_posterior__more_differences_mean_an_older_ancestor() -> None:
    a = parse_haplotype_string(FULL)
    b = parse_haplotype_string(
        FULL.replace("DYS19=14", "DYS19=15").replace("DYS439=12", "DYS439=13")
    )
    same = tmrca_posterior(a, a)
    diff = tmrca_posterior(a, b)
    assert same.median < diff.median
    assert same.probabilities.sum() == pytest.approx(1.0)


def test_tmrca_posterior__no_shared_locus_is_an_error() -> None:
    with pytest.raises(InputError, match="share no typed locus"):
        tmrca_posterior(parse_haplotype_string("DYS19=14"), parse_haplotype_string("DYS390=24"))


def test_likelihood_ratio__given_frequency_divides_the_numerator() -> None:
    a = parse_haplotype_string(FULL)
    lr1 = likelihood_ratio(a, a, 0.01)
    lr2 = likelihood_ratio(a, a, 0.001)
    assert lr2.lr == pytest.approx(10 * lr1.lr)
    assert lr1.numerator == pytest.approx(lr1.lr * 0.01)
    b = parse_haplotype_string(FULL.replace("DYS390=24", "DYS390=21"))
    assert likelihood_ratio(a, b, 0.01).lr < lr1.lr


def test_likelihood_ratio__bad_frequency_and_no_shared_loci_are_errors() -> None:
    a = parse_haplotype_string(FULL)
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        likelihood_ratio(a, a, 0.0)
    with pytest.raises(InputError, match="share no typed locus"):
        likelihood_ratio(a, parse_haplotype_string("DYS458=17"), 0.1)


def _sample_mixture(f: DLMixFit, n: int, rng: np.random.Generator) -> np.ndarray:
    comp = rng.choice(f.clusters, size=n, p=f.tau)
    p = f.p[comp]
    g1 = rng.geometric(1 - p) - 1
    g2 = rng.geometric(1 - p) - 1
    return f.y[comp] + g1 - g2


def _hap(cols: tuple[str, ...], row: np.ndarray) -> Haplotype:
    return Haplotype(
        {c: Allele(AlleleKind.VALUE, (int(v) * 10,)) for c, v in zip(cols, row, strict=True)}
    )


@pytest.mark.slow
def test_likelihood_ratio__calibrated_on_simulated_pairs(danes_path_fixture: Path) -> None:
    """LR calibration: pairs are related (m ~ U{1..20}, stepwise mutations with the catalog's
    point rates) or unrelated (both drawn from a danes dlmix fit), half and half; among pairs
    with LR ≈ x the related share must be x/(1+x), within 4 binomial standard errors."""
    ref = load_reference(danes_path_fixture)
    loci = [
        "DYS19",
        "DYS389I",
        "DYS390",
        "DYS391",
        "DYS392",
        "DYS393",
        "DYS437",
        "DYS438",
        "DYS439",
    ]
    d = design_matrix(ref, loci)
    f = fit(d.x, d.weights, 4, d.columns, FitConfig(starts=1))
    model = StepwiseModel(non_stepwise_rate=0.0, max_meioses=20, rate_uncertainty=False)
    cat = default_catalog()
    rates = [cat.locus(n).rate_counts()[0] / cat.locus(n).rate_counts()[1] for n in f.columns]
    tables = [difference_table(r, model) for r in rates]
    width = 2 * model.max_meioses
    rng = np.random.default_rng(11)
    n_pairs = 800
    lrs, related = [], []
    cands = _sample_mixture(f, 2 * n_pairs, rng)
    others = _sample_mixture(f, n_pairs, rng)
    for i in range(2 * n_pairs):
        cand = cands[i]
        if i < n_pairs:
            m = rng.integers(1, model.max_meioses + 1)
            steps = [rng.choice(2 * width + 1, p=t[m] / t[m].sum()) - width for t in tables]
            trace = cand + np.array(steps)
        else:
            trace = others[i - n_pairs]
        lr = likelihood_ratio(_hap(f.columns, trace), _hap(f.columns, cand), f, model=model)
        lrs.append(lr.lr)
        related.append(i < n_pairs)
    lrs_a, rel_a = np.array(lrs), np.array(related)
    log_lr = np.log10(np.maximum(lrs_a, 1e-300))
    checked = 0
    for lo, hi in ((-np.inf, -1), (-1, 0), (0, 1), (1, 2), (2, np.inf)):
        sel = (log_lr >= lo) & (log_lr < hi)
        if sel.sum() < 40:
            continue
        expected = float(np.mean(lrs_a[sel] / (1 + lrs_a[sel])))
        observed = float(rel_a[sel].mean())
        se = math.sqrt(max(expected * (1 - expected), 0.01) / sel.sum())
        assert abs(observed - expected) <= 4 * se + 0.02, (lo, hi, observed, expected, sel.sum())
        checked += 1
    assert checked >= 3


def test_likelihood_ratio__reference_set_uses_counting_then_kappa(danes_path_fixture: Path) -> None:
    """Denominator: x/n for a trace seen in the reference, Brenner's (1−κ)/n when unseen."""
    ref = load_reference(danes_path_fixture)
    seen = parse_haplotype_string(FULL)  # 5 of the 185 danes
    lr = likelihood_ratio(seen, seen, ref)
    assert lr.denominator == pytest.approx(5 / 185)
    assert lr.denominator_method.startswith("counting")
    unseen = parse_haplotype_string(FULL.replace("DYS19=14", "DYS19=19"))
    lr2 = likelihood_ratio(unseen, unseen, ref)
    assert lr2.denominator_method.startswith("kappa")
    assert lr2.denominator == pytest.approx((1 - 112 / 185) / 185)
    assert lr2.numerator == pytest.approx(lr.numerator, rel=0.05)
