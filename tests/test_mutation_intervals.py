"""The meioses interval: it holds the mode, says where it is the prior's bound, and
covers close relatives as often as it claims (class: "mode outside its own interval,
bound-as-answer", issue 14 items 4 and 22).

The coverage check is an independent simulation: per pair a number of meioses m drawn
from the uniform prior, per locus a rate drawn from its Beta posterior (the catalog's
father-son counts), and per meiosis a one- or two-step change — numpy draws, not the
model's convolution tables. The model's posterior interval is then asked to contain m.
"""

from __future__ import annotations

import numpy as np
import pytest

from patriline.haplotype import compare, parse_haplotype_string
from patriline.reference import default_catalog
from patriline.search.rank import rank_one
from patriline.stats.mutation import (
    ColumnObservation,
    MeiosesPosterior,
    StepwiseModel,
    format_meioses,
    meioses_posterior,
)


def test_interval__falling_posterior__holds_the_mode() -> None:
    """A posterior falling from m = 1 (a clean match on few loci): the equal-tailed
    interval starts above the mode; the highest-density interval starts at it."""
    post = meioses_posterior([ColumnObservation("DYS19", 0)] * 3, StepwiseModel())
    assert post.mode == 1
    assert post.equal_tailed(0.9)[0] > 1  # the defect: the mode outside its interval
    lo, hi = post.interval(0.9)
    assert lo <= post.mode <= hi
    assert post.probabilities[lo - 1 : hi].sum() >= 0.9


@pytest.mark.parametrize("seed", range(20))
def test_interval__any_posterior__holds_the_mode_and_its_mass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(40, 0.3))
    post = MeiosesPosterior(np.arange(1, 41), p, 0.0)
    lo, hi = post.interval(0.9)
    assert lo <= post.mode <= hi
    assert p[lo - 1 : hi].sum() >= 0.9 - 1e-12


def test_format_meioses__bound_is_not_a_figure() -> None:
    assert format_meioses(40, 40) == "≥ 40 (prior bound)"
    assert format_meioses(12, 40) == "12"
    assert format_meioses(None, 40) == "-"


def test_rank_one__distant_candidate__reports_the_bound() -> None:
    trace = parse_haplotype_string("DYS19=14,DYS389I=13,DYS390=24,DYS391=10,DYS392=11,DYS393=13")
    far = parse_haplotype_string("DYS19=17,DYS389I=15,DYS390=21,DYS391=12,DYS392=14,DYS393=16")
    assert compare(trace, far).mismatches == 6
    r = rank_one("X", trace, far)
    assert r.meioses_bound == StepwiseModel().max_meioses
    assert r.to_dict()["meioses_bound"] == 40
    assert r.meioses_90 is not None and r.meioses_90[1] == 40


def _simulated_coverage(n: int, seed: int) -> dict[str, float]:
    catalog = default_catalog()
    cols = []
    for name in catalog.kit("yfiler_plus").loci:
        if name == "DYS389II":  # compared on II − I: left out of this simple simulation
            continue
        locus = catalog.locus(name)
        k, m, _ = locus.rate_counts()
        cols += [(name, k, m)] * locus.copies
    rng = np.random.default_rng(seed)
    model = StepwiseModel(quantile_nodes=8)
    hits: dict[str, list[bool]] = {"1-5": [], "6-20": [], "21-40": [], "all": []}
    for _ in range(n):
        m = int(rng.integers(1, model.max_meioses + 1))
        obs = []
        for name, k, meioses in cols:
            mu = rng.beta(k + 0.5, meioses - k + 0.5)
            mutated = rng.random(m) < mu
            size = np.where(rng.random(m) < model.two_step_share, 2, 1)
            d = int((mutated * size * rng.choice([-1, 1], m)).sum())
            obs.append(ColumnObservation(name, d))
        lo, hi = meioses_posterior(obs, model).interval(0.9)
        inside = lo <= m <= hi
        group = "1-5" if m <= 5 else "6-20" if m <= 20 else "21-40"
        hits[group].append(inside)
        hits["all"].append(inside)
    return {g: float(np.mean(v)) for g, v in hits.items()}


def test_interval__coverage_by_range__simulated_pairs() -> None:
    """1,200 simulated pairs (seed 3): the 90 % interval covers about 90 % overall and no
    less than 85 % for close relatives (1-5 meioses). With the equal-tailed interval the
    same simulation gave 86 % for 1-5 meioses (3,000 pairs; docs/statistics.md)."""
    cov = _simulated_coverage(1200, seed=3)
    assert 0.86 <= cov["all"] <= 0.95
    assert cov["1-5"] >= 0.85
