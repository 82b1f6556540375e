"""Donor ranking's priors: rate uncertainty integrated over the Beta posterior, founder
allele frequencies, and a donor outside the tree — each against an independent
computation (closed-form moments, brute-force grid integration with exact enumeration,
hand arithmetic)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from patriline.errors import InputError
from patriline.haplotype import parse_haplotype_string as hap
from patriline.pedigree import _peeling
from patriline.pedigree.donor import (
    DonorConfig,
    TreeArrays,
    build_columns,
    exact_match_probabilities,
    integrated_match,
    rank_donors,
)
from patriline.pedigree.model import Pedigree
from patriline.pedigree.priors import (
    FounderFrequencies,
    beta_gauss,
    rate_nodes,
    read_founder_frequencies,
)
from patriline.reference import default_catalog
from patriline.stats.mutation import StepwiseModel

PLAIN = StepwiseModel(two_step_share=0.0, non_stepwise_rate=0.0)


def _tree() -> Pedigree:
    return Pedigree([("S1", "F"), ("S2", "F"), ("G1", "S1"), ("G2", "S2")])


def _enumerate(parent: np.ndarray, T: np.ndarray, prior: np.ndarray, evidence: np.ndarray):
    """One column by enumerating all K^n joint states: marginals ``(n, K)``, likelihood,
    and per man the likelihood with his father link cut (his factor replaced by the
    founder prior)."""
    n, K = len(parent), len(prior)
    states = np.array(list(itertools.product(range(K), repeat=n)))
    ok = np.all((evidence < 0) | (states == evidence), axis=1)
    states = states[ok]
    factors = np.empty(states.shape)
    for i in range(n):
        if parent[i] < 0:
            factors[:, i] = prior[states[:, i]]
        else:
            factors[:, i] = T[states[:, parent[i]], states[:, i]]
    joint = factors.prod(axis=1)
    total = joint.sum()
    marg = np.zeros((n, K))
    cut = np.zeros(n)
    for i in range(n):
        np.add.at(marg[i], states[:, i], joint)
        if parent[i] >= 0:
            others = np.prod(np.delete(factors, i, axis=1), axis=1)
            cut[i] = (others * prior[states[:, i]]).sum()
    return marg / total, total, cut


def _grid_integral(locus_name: str, points: int = 201):
    """``points`` equally spaced rates spanning the locus's Beta posterior and Simpson
    weights ∝ pdf (an independent quadrature)."""
    post = default_catalog().locus(locus_name).rate_posterior()
    mus = np.linspace(post.ppf(1e-10), post.ppf(1 - 1e-10), points)
    simpson = np.ones(points)
    simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
    w = post.pdf(mus) * simpson
    return mus, w / w.sum()


def test_beta_gauss__moments_exact() -> None:
    """The Q-node rule integrates μ^j exactly for j < 2Q: compared with the closed-form
    Beta moments Π_{i<j} (a+i)/(a+b+i), for skewed (0.5/100, 3/2220) and tight
    (36/16090) posteriors."""
    for a, b in [(1.0, 100.0), (3.5, 2217.5), (36.5, 16054.5)]:
        for q in (1, 3, 5, 8):
            nodes, weights = beta_gauss(a, b, q)
            assert weights.sum() == pytest.approx(1.0) and np.all(weights > 0)
            assert np.all((nodes > 0) & (nodes < 1))
            for j in range(1, 2 * q):
                exact = math.prod((a + i) / (a + b + i) for i in range(j))
                assert (weights * nodes**j).sum() == pytest.approx(exact, rel=1e-9)


def test_rank_donors__rate_integration_equals_grid_and_enumeration() -> None:
    """DYS643 (3 mutations in 2,220 meioses, a wide posterior), F 10, S1 11 (one
    mutation seen), trace 11. Independent computation: at each of 201 rates spanning the
    Beta posterior, enumerate all joint states of the 5 men (marginals, likelihood, cut
    link), then integrate with Simpson weights ∝ pdf — P(match) = ∫L·P / ∫L. The
    default 5-node ranking agrees to 5e-5 (relative; the grid's own error on the Beta
    moments is 6e-6); the point rate differs by > 30 %."""
    model = StepwiseModel()
    typed = {"F": hap("DYS643=10"), "S1": hap("DYS643=11")}
    trace = hap("DYS643=11")
    ped = _tree()
    tree = TreeArrays.from_pedigree(ped)
    cols = build_columns(tree.persons, typed, trace, DonorConfig())
    K, c0 = cols.n_states, 0
    prior = cols.prior()[c0]
    mus, w = _grid_integral("DYS643")
    L = np.zeros(len(mus))
    P = np.zeros((len(mus), len(tree.persons)))
    cut = np.zeros((len(mus), len(tree.persons)))
    for g, mu in enumerate(mus):
        T = _peeling.transition_matrices(
            np.array([mu]), K, model.two_step_share, model.non_stepwise_rate
        )[0]
        marg, total, c = _enumerate(tree.parent, T, prior, cols.evidence[:, c0])
        L[g], P[g], cut[g] = total, marg[:, cols.trace_state[c0]], c
    expected = (w * L) @ P / (w * L).sum()
    expected_cut = (w @ cut) / (w * L).sum()
    r = rank_donors(ped, typed, trace)
    res = integrated_match(tree, cols, model)
    for i, person in enumerate(tree.persons):
        assert r.candidates[person].p_match == pytest.approx(expected[i], rel=5e-5)
        if tree.parent[i] >= 0:
            assert math.exp(res.cut_logratio[i]) == pytest.approx(expected_cut[i], rel=5e-5)
    assert r.log10_likelihood == pytest.approx(math.log10((w * L).sum()), abs=2e-5)
    point = rank_donors(ped, typed, trace, DonorConfig(rate_points=1))
    assert r.candidates["S2"].p_match > 1.3 * point.candidates["S2"].p_match
    assert "Gauss" in r.prior["rates"] and point.prior["rates"] == "point rates"


def test_rank_donors__multi_copy_copies_share_one_rate() -> None:
    """DYS385 (two sorted copies, per-copy posterior 32/26171): both copy columns use one
    rate, so P(match) = ∫ L₀L₁ P₀P₁ / ∫ L₀L₁ over the posterior (grid of 201 rates,
    each copy enumerated exactly at each rate) — not the product of two separate
    integrals."""
    model = StepwiseModel()
    typed = {"F": hap("DYS385=11,14"), "S1": hap("DYS385=11,15")}
    trace = hap("DYS385=11,15")
    ped = Pedigree([("S1", "F"), ("S2", "F"), ("G2", "S2")])
    tree = TreeArrays.from_pedigree(ped)
    cols = build_columns(tree.persons, typed, trace, DonorConfig())
    assert cols.names == ["DYS385[0]", "DYS385[1]"] and list(cols.groups) == [0, 0]
    mus, w = _grid_integral("DYS385")
    L = np.ones(len(mus))
    P = np.ones((len(mus), len(tree.persons)))
    for g, mu in enumerate(mus):
        T = _peeling.transition_matrices(
            np.array([mu]), cols.n_states, model.two_step_share, model.non_stepwise_rate
        )[0]
        for c in range(2):
            marg, total, _ = _enumerate(tree.parent, T, cols.prior()[c], cols.evidence[:, c])
            L[g] *= total
            P[g] *= marg[:, cols.trace_state[c]]
    expected = (w * L) @ P / (w * L).sum()
    r = rank_donors(ped, typed, trace)
    for i, person in enumerate(tree.persons):
        assert r.candidates[person].p_match == pytest.approx(expected[i], rel=5e-5)


def test_rank_donors__one_rate_point_equals_point_rates() -> None:
    """rate_points 0 and 1, and explicit ``rates`` (always point rates, whatever
    rate_points), give the point-rate peeling of :func:`exact_match_probabilities`."""
    typed = {"F": hap("DYS19=14,DYS385=11,14"), "S1": hap("DYS19=15,DYS385=11,14")}
    trace = hap("DYS19=15,DYS385=11,15")
    ped = _tree()
    tree = TreeArrays.from_pedigree(ped)
    cols = build_columns(tree.persons, typed, trace, DonorConfig(rate_points=1))
    probs, result = exact_match_probabilities(tree, cols, StepwiseModel())
    point = np.prod(probs, axis=1)
    catalog = default_catalog()
    explicit = {n: catalog.locus(n).copy_rate for n in ("DYS19", "DYS385")}
    for cfg in (
        DonorConfig(rate_points=0),
        DonorConfig(rate_points=1),
        DonorConfig(rates=explicit, rate_points=7),
    ):
        r = rank_donors(ped, typed, trace, cfg)
        for i, person in enumerate(tree.persons):
            assert r.candidates[person].p_match == pytest.approx(point[i], rel=1e-12)
        assert r.log10_likelihood == pytest.approx(result.loglik.sum() / math.log(10))
        assert r.prior["rates"] == "point rates"


def test_rate_nodes__per_copy_posterior_of_multi_copy_loci() -> None:
    """A multi-copy locus integrates the per-copy rate (Locus.rate_posterior): the
    nodes' weighted mean is that posterior's mean."""
    for name in ("DYS385", "DYF387S1", "DYS19"):
        locus = default_catalog().locus(name)
        nodes, weights = rate_nodes(locus, 5)
        mean = float(np.dot(nodes, weights))
        assert mean == pytest.approx(locus.rate_posterior().mean(), rel=1e-9)
        assert mean == pytest.approx(locus.copy_rate, rel=0.2)


def test_founder_frequencies__from_haplotypes_counts_and_smoothing() -> None:
    """Counts by hand: DYS19 14 ×3 (one haplotype carried by 2 men), 15 ×1; DYS385 copies
    sorted; the DYS389II segment is counted too. On a grid 12..17 the prior is
    (count + ½) / (4 + 6·½)."""
    haps = [
        hap("DYS19=14,DYS385=11,14,DYS389I=13,DYS389II=29"),
        hap("DYS19=15,DYS385=12,14"),
        hap("DYS19=14"),
    ]
    f = FounderFrequencies.from_haplotypes(haps, [1, 1, 2])
    assert f.table["DYS19"] == {140: 3.0, 150: 1.0}
    assert f.table["DYS385[0]"] == {110: 1.0, 120: 1.0} and f.table["DYS385[1]"] == {140: 2.0}
    assert f.table["DYS389II (II-I)"] == {160: 1.0} and f.table["DYS389II"] == {290: 1.0}
    grid = np.arange(120, 180, 10)
    p = f.column_prior("DYS19", "DYS19", grid)
    assert p is not None
    assert p == pytest.approx(np.array([0.5, 0.5, 3.5, 1.5, 0.5, 0.5]) / 7.0)
    assert f.column_prior("DYS390", "DYS390", grid) is None
    with pytest.raises(InputError, match="non-negative"):
        FounderFrequencies({"DYS19": {140: -1.0}})


def test_read_founder_frequencies__danes_count_column(danes_path_fixture: Path) -> None:
    """The danes file holds 136 distinct haplotypes of 185 men in column ``n``: every
    locus's counts add up to 185."""
    f = read_founder_frequencies(danes_path_fixture)
    assert f.n_haplotypes == 185
    for name in ("DYS19", "DYS389I", "DYS389II", "DYS389II (II-I)", "DYS439"):
        assert sum(f.table[name].values()) == 185
    assert "danes_ystr.csv" in f.describe()


def test_rank_donors__founder_prior_equals_enumeration() -> None:
    """Untyped founder F with sons S1 (typed 15) and S2, μ = 0.1, trace 14. With founder
    frequencies {14: 0.7, 15: 0.1} (+1e-3 per grid state) the match probabilities equal
    exact enumeration with that root prior — and differ from the uniform-root result."""
    ped = Pedigree([("S1", "F"), ("S2", "F"), ("G", "S2")])
    typed = {"S1": hap("DYS19=15")}
    trace = hap("DYS19=14")
    freqs = {"DYS19": {140: 0.7, 150: 0.1}}
    cfg = DonorConfig(model=PLAIN, rates={"DYS19": 0.1}, founder_frequencies=freqs)
    r = rank_donors(ped, typed, trace, cfg)
    tree = TreeArrays.from_pedigree(ped)
    cols = build_columns(tree.persons, typed, trace, cfg)
    alleles = cols.alleles(0)
    root = np.array([freqs["DYS19"].get(int(a), 0.0) for a in alleles]) + 1e-3
    root /= root.sum()
    T = _peeling.transition_matrices(np.array([0.1]), cols.n_states, 0.0, 0.0)[0]
    marg, total, _ = _enumerate(tree.parent, T, root, cols.evidence[:, 0])
    for i, person in enumerate(tree.persons):
        assert r.candidates[person].p_match == pytest.approx(marg[i, cols.trace_state[0]])
    assert r.log10_likelihood == pytest.approx(math.log10(total))
    uniform = rank_donors(ped, typed, trace, DonorConfig(model=PLAIN, rates={"DYS19": 0.1}))
    assert r.candidates["F"].p_match > 1.5 * uniform.candidates["F"].p_match
    assert r.prior["founders"].startswith("allele frequencies")


def test_rank_donors__donor_outside_the_tree_by_hand() -> None:
    """F typed 14, sons A, B untested, μ = 0.01, one-step only; uniform prior over A, B;
    P(outside) = 0.1, outside match 0.02. Trace 14: p_A = p_B = 0.99, so
    Z = 0.9·(½·0.99 + ½·0.99) + 0.1·0.02 = 0.893, P(out) = 0.002/0.893,
    P(A) = 0.4455/0.893. Trace 15: p = 0.005, Z = 0.0045 + 0.002, P(out) = 0.002/0.0065."""
    ped = Pedigree([("A", "F"), ("B", "F")])
    typed = {"F": hap("DYS19=14")}
    cfg = DonorConfig(model=PLAIN, rates={"DYS19": 0.01}, outside_prior=0.1, outside_match=0.02)
    r = rank_donors(ped, typed, hap("DYS19=14"), cfg)
    assert r.outside is not None
    assert r.outside.posterior == pytest.approx(0.002 / 0.893)
    assert r.candidates["A"].posterior == pytest.approx(0.4455 / 0.893)
    total = sum(c.posterior or 0 for c in r.candidates.values()) + r.outside.posterior
    assert total == pytest.approx(1.0)
    r15 = rank_donors(ped, typed, hap("DYS19=15"), cfg)
    assert r15.outside is not None and r15.outside.posterior == pytest.approx(0.002 / 0.0065)
    assert r15.candidates["B"].posterior == pytest.approx(0.00225 / 0.0065)
    assert r15.candidates["A"].rank == r15.candidates["B"].rank == 1
    closed = rank_donors(ped, typed, hap("DYS19=15"), DonorConfig(model=PLAIN))
    assert closed.outside is None and closed.candidates["A"].posterior == pytest.approx(0.5)
    assert r.prior["outside_tree"] == 0.1 and closed.prior["outside_tree"] == 0.0


def test_donor_config__outside_needs_frequency_and_valid_values() -> None:
    with pytest.raises(InputError, match="population frequency"):
        DonorConfig(outside_prior=0.2)
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        DonorConfig(outside_prior=1.0, outside_match=0.1)
    with pytest.raises(InputError, match="population frequency"):
        DonorConfig(outside_prior=0.1, outside_match=1.5)
    with pytest.raises(InputError, match="rate_points"):
        DonorConfig(rate_points=-1)
    # The rule the CLI alone held (--outside-frequency needs --outside-prior > 0).
    with pytest.raises(InputError, match="outside_prior above 0"):
        DonorConfig(outside_match=0.01)
