"""Donor ranking: exact peeling against hand computation, brute-force enumeration and
Monte Carlo; link flags; columns for multi-copy, partial and intermediate profiles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.haplotype import parse_haplotype_string as hap
from patriline.pedigree import _peeling
from patriline.pedigree.donor import (
    FLAG_MESSAGE,
    DonorConfig,
    TreeArrays,
    build_columns,
    exact_match_probabilities,
    monte_carlo_match_probabilities,
    rank_donors,
)
from patriline.pedigree.model import Pedigree
from patriline.stats.mutation import StepwiseModel, difference_table
from patriline.testing import simulate_family

PLAIN = StepwiseModel(two_step_share=0.0, non_stepwise_rate=0.0)


def _three_generations() -> Pedigree:
    return Pedigree([("S1", "F"), ("S2", "F"), ("G1", "S1"), ("G2", "S2")])


def test_rank_donors__hand_checked_father_two_sons_grandsons() -> None:
    """F (typed 14) has sons S1 (typed 15: one mutation) and S2; S1 has G1, S2 has G2.

    One locus, μ = 0.01, one-step mutations only, trace 15. By hand:
    P(S2 = 15) = μ/2 = 0.005 (S2 depends on F only);
    P(G1 = 15) = 1 − μ = 0.99;
    P(G2 = 15) = P(S2 = 15)(1 − μ) + P(S2 = 14) μ/2 = 0.005·0.99 + 0.99·0.005 = 0.0099.
    Uniform prior over S2, G1, G2: posterior = p / (0.005 + 0.99 + 0.0099).
    Likelihood of the data: grid of 8 states (steps −1..0 ± margin 3) → P(F = 14) = 1/8,
    P(S1 = 15 | F) = 0.005 → log10(0.000625).
    """
    cfg = DonorConfig(model=PLAIN, rates={"DYS19": 0.01})
    typed = {"F": hap("DYS19=14"), "S1": hap("DYS19=15")}
    r = rank_donors(_three_generations(), typed, hap("DYS19=15"), cfg)
    expected = {"S2": 0.005, "G1": 0.99, "G2": 0.0099}
    total = sum(expected.values())
    for person, p in expected.items():
        assert r.candidates[person].p_match == pytest.approx(p, rel=1e-9)
        assert r.candidates[person].posterior == pytest.approx(p / total, rel=1e-9)
    assert [c.person for c in r.ranked()] == ["G1", "G2", "S2"]
    assert [c.rank for c in r.ranked()] == [1, 2, 3]
    assert r.log10_likelihood == pytest.approx(math.log10(0.125 * 0.005))
    assert r.candidates["F"].posterior is None and r.candidates["F"].p_match == 0.0
    assert r.flags == []


def test_rank_donors__hand_checked_two_loci_multiply() -> None:
    """Two loci are independent: with DYS390 typed 24 in F and S1 and trace 24, the
    DYS390 factor for S2 is 1 − μ (one meiosis from F), for G2 (1 − μ)² + 2(μ/2)²
    (stay twice, or up then down / down then up), for G1 (1 − μ) (from S1)."""
    mu = 0.02
    cfg = DonorConfig(model=PLAIN, rates={"DYS19": 0.01, "DYS390": mu})
    typed = {"F": hap("DYS19=14,DYS390=24"), "S1": hap("DYS19=15,DYS390=24")}
    r = rank_donors(_three_generations(), typed, hap("DYS19=15,DYS390=24"), cfg)
    assert r.candidates["S2"].p_match == pytest.approx(0.005 * (1 - mu))
    assert r.candidates["G2"].p_match == pytest.approx(0.0099 * ((1 - mu) ** 2 + 2 * (mu / 2) ** 2))
    assert r.candidates["G1"].p_match == pytest.approx(0.99 * (1 - mu))


def test_transition_matrices__kernel_equals_stats_mutation() -> None:
    """The one-meiosis row away from the grid edges equals ``difference_table(μ)[1]``
    of :mod:`patriline.stats.mutation` (an independent implementation)."""
    model = StepwiseModel(two_step_share=0.03, rate_uncertainty=False)
    mu = 0.004
    T = _peeling.transition_matrices(np.array([mu]), 11, 0.03, 0.0)
    table = difference_table(mu, model)
    width = 2 * model.max_meioses
    for d in range(-2, 3):
        assert T[0, 5, 5 + d] == pytest.approx(table[1, width + d])
    assert np.allclose(T.sum(axis=2), 1.0)


def _brute_force(parent: list[int], T: np.ndarray, prior: np.ndarray, evidence: list[int]):
    """Marginals, likelihood and cut-link likelihoods by enumerating every assignment."""
    n, K = len(parent), T.shape[1]
    marg = np.zeros((n, K))
    total = 0.0
    cut = np.zeros(n)
    for states in itertools.product(range(K), repeat=n):
        if any(e >= 0 and s != e for s, e in zip(states, evidence, strict=True)):
            continue
        p = 1.0
        factors = []
        for i, s in enumerate(states):
            f = prior[s] if parent[i] < 0 else T[states[parent[i]], s]
            factors.append(f)
            p *= f
        total += p
        for i, s in enumerate(states):
            marg[i, s] += p
            if parent[i] >= 0 and factors[i] > 0:
                cut[i] += p / factors[i] * prior[s]
            elif parent[i] >= 0:
                rest = np.prod([f for j, f in enumerate(factors) if j != i])
                cut[i] += rest * prior[s]
    return marg / total, total, cut


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 5),
    mu=st.floats(0.01, 0.4),
    two=st.floats(0.0, 0.5),
    jump=st.floats(0.0, 0.1),
)
def test_peel__equals_brute_force_enumeration(
    data: st.DataObject, n: int, mu: float, two: float, jump: float
) -> None:
    """Peeling equals enumeration of all K^n joint states (independent computation) on
    random small forests: marginals, log-likelihood and the cut-link ratios."""
    K = 5
    parent = [-1] + [data.draw(st.integers(-1, i - 1)) for i in range(1, n)]
    evidence = [data.draw(st.integers(-1, K - 1)) for _ in range(n)]
    T = _peeling.transition_matrices(np.array([mu]), K, two, max(jump, 1e-3))
    prior = np.full((1, K), 1.0 / K)
    depth = np.zeros(n, dtype=np.int64)
    for i in range(n):
        depth[i] = 0 if parent[i] < 0 else depth[parent[i]] + 1
    res = _peeling.peel(
        np.array(parent), depth, T, prior, np.array(evidence, dtype=np.int64)[:, None]
    )
    marg, total, cut = _brute_force(parent, T[0], prior[0], evidence)
    assert np.allclose(res.marginals[:, 0, :], marg, atol=1e-10)
    assert res.loglik[0] == pytest.approx(math.log(total), rel=1e-9, abs=1e-9)
    for i in range(n):
        if parent[i] >= 0:
            assert res.cut_logratio[i, 0] == pytest.approx(math.log(cut[i] / total), abs=1e-8)


def test_monte_carlo_match_probabilities__agrees_with_exact_on_medium_trees() -> None:
    """Likelihood-weighted Monte Carlo (independent estimator) agrees with peeling within
    5 standard errors on three simulated 30-45-man trees, 4 loci, a third of men typed."""
    rng = np.random.default_rng(11)
    model = StepwiseModel(two_step_share=0.03, non_stepwise_rate=1e-3)
    loci = ("DYS19", "DYS390", "DYS391", "DYS393")
    cfg = DonorConfig(model=model, rates=dict.fromkeys(loci, 0.08))
    checked = 0
    for _ in range(3):
        fam = simulate_family(5, rng, mean_sons=1.8, max_men=45, rate_scale=10)
        ped = fam.pedigree()
        typed = {
            p: fam.haplotypes[i].restricted(loci)
            for i, p in enumerate(fam.persons)
            if rng.random() < 0.33 and i
        }
        trace = fam.haplotypes[len(fam.persons) - 1].restricted(loci)
        tree = TreeArrays.from_pedigree(ped)
        cols = build_columns(tree.persons, typed, trace, cfg)
        exact, _ = exact_match_probabilities(tree, cols, model)
        mc, ess = monte_carlo_match_probabilities(tree, cols, model, n_samples=40_000, seed=3)
        se = np.sqrt(np.clip(exact * (1 - exact), 1e-4, None) / ess[None, :])
        assert np.all(np.abs(mc - exact) <= 5 * se + 1e-3)
        checked += exact.size
    assert checked > 100


def test_rank_donors__flags_wrong_link_not_single_mutation() -> None:
    """A son differing from his recorded father at 6 of 8 loci by several steps is
    flagged; a son differing by one step at one locus is not."""
    father = hap("DYS19=14,DYS389I=13,DYS390=24,DYS391=11,DYS392=13,DYS393=13,DYS437=15,DYS438=12")
    unrelated = hap(
        "DYS19=17,DYS389I=13,DYS390=21,DYS391=10,DYS392=11,DYS393=15,DYS437=15,DYS438=9"
    )
    mutated = hap("DYS19=15,DYS389I=13,DYS390=24,DYS391=11,DYS392=13,DYS393=13,DYS437=15,DYS438=12")
    ped = Pedigree([("A", "F"), ("B", "F"), ("C", "F")])
    r = rank_donors(ped, {"F": father, "A": unrelated, "B": mutated}, None)
    assert [(f.person, f.father) for f in r.flags] == [("A", "F")]
    assert r.flags[0].message == FLAG_MESSAGE
    assert r.flags[0].log10_ratio > 2


def test_build_columns__multi_copy_segment_and_intermediate() -> None:
    """DYS385 gives two sorted-copy columns; DYS389II is the II − I segment when the trace
    has DYS389I; an intermediate allele off the trace's grid is left out with a note."""
    trace = hap("DYS385=11,14,DYS389I=13,DYS389II=29,DYS458=15")
    typed = {"A": hap("DYS385=11,15,DYS389I=13,DYS389II=30,DYS458=15.2")}
    cols = build_columns(("A", "B"), typed, trace)
    assert cols.names == ["DYS389I", "DYS389II (II-I)", "DYS385[0]", "DYS385[1]", "DYS458"]
    i = cols.names.index("DYS385[1]")
    assert cols.evidence[0, i] - cols.offset[i] == 1  # 15 is one step above the trace's 14
    j = cols.names.index("DYS389II (II-I)")
    assert cols.evidence[0, j] - cols.offset[j] == 1  # segment 17 vs 16
    k = cols.names.index("DYS458")
    assert cols.evidence[0, k] == -1
    assert any("DYS458" in n and "15.2" in n for n in cols.notes)


def test_rank_donors__partial_trace_uses_its_typed_loci_only() -> None:
    """With a trace typed at DYS19 only, match probabilities equal those computed with
    every man restricted to DYS19 (the other loci only inform the link checks)."""
    ped = _three_generations()
    typed = {"F": hap("DYS19=14,DYS390=24"), "S1": hap("DYS19=15,DYS390=23")}
    full = rank_donors(ped, typed, hap("DYS19=15"))
    only = rank_donors(ped, {p: h.restricted(["DYS19"]) for p, h in typed.items()}, hap("DYS19=15"))
    for p in ("S2", "G1", "G2"):
        assert full.candidates[p].p_match == pytest.approx(only.candidates[p].p_match)
    assert "DYS390" in full.columns


def test_rank_donors__prior_weights_and_ties() -> None:
    """Brothers with the same data tie (same rank); a zero prior weight gives posterior 0."""
    ped = Pedigree([("A", "F"), ("B", "F"), ("C", "F")])
    typed = {"F": hap("DYS19=14")}
    r = rank_donors(ped, typed, hap("DYS19=14"))
    assert {r.candidates[p].rank for p in "ABC"} == {1}
    assert sum(r.candidates[p].posterior or 0 for p in "ABC") == pytest.approx(1.0)
    r2 = rank_donors(ped, typed, hap("DYS19=14"), DonorConfig(prior={"A": 0.0}))
    assert r2.candidates["A"].posterior == 0.0
    assert r2.candidates["B"].posterior == pytest.approx(0.5)
    assert r2.candidates["A"].rank == 3


def test_donor_config__rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="margin"):
        DonorConfig(margin=0)
    with pytest.raises(ValueError, match="non-negative"):
        DonorConfig(prior={"A": -1.0})


def test_rank_donors__all_zero_prior_is_noted() -> None:
    ped = Pedigree([("A", "F"), ("B", "F")])
    r = rank_donors(ped, {"F": hap("DYS19=14")}, hap("DYS19=14"), DonorConfig(default_weight=0.0))
    assert r.candidates["A"].posterior == 0.0 and r.candidates["B"].posterior == 0.0
    assert any("every posterior is 0" in n for n in r.notes)
