"""The donor-ranking acceptance study (verification/donor_study) on a tiny simulated population.

The figures themselves come from ``benchmarks/pedigree.py``; these tests check the
machinery: the random-tie formula, who counts as an eligible donor, that missing links
remove the donor from the expansion, and that the ranking finds donors far above chance
and is calibrated (its posteriors predict how often the donor is in the top 5) on data
from the population simulator, an independent generator of the truth.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from verification.donor_study import Scenario, Study, StudyConfig, Summary, top_k_share

from patriline.errors import InputError

#: 100 + 150 generations as in the study, ending at 4,000 men (≈ 12,000 living).
TINY = StudyConfig(males=4000, seed=5)


@pytest.fixture(scope="module")
def tiny_study() -> Study:
    return Study(TINY)


@pytest.fixture(scope="module")
def fast_study() -> Study:
    """Rates ×20 (capped at 0.5) in the simulation and the ranking: informative trees."""
    return Study(StudyConfig(males=4000, seed=6, rate_scale=20.0))


def test_top_k_share__matches_enumeration_of_tie_orders() -> None:
    """Independent check: every order of the tied block (itertools.permutations), the
    share of orders that put the donor within the top k."""
    for rank, ties, k in itertools.product(range(1, 8), range(1, 6), range(1, 7)):
        block = list(range(ties))  # man 0 is the donor
        orders = list(itertools.permutations(block))
        inside = sum(rank + order.index(0) <= k for order in orders) / len(orders)
        assert top_k_share(rank, ties, k) == pytest.approx(inside), (rank, ties, k)
    with pytest.raises(ValueError):
        top_k_share(0, 1)


def test_eligible_donors__share_a_registry_ancestor_with_a_member(tiny_study: Study) -> None:
    """Independent check through ``Population.meioses_many``: the common ancestor of a
    donor and his nearest database relative lies in the registry's generations
    (generation (g_d + g_m − meioses) / 2 ≥ the registry's first); men left out have none."""
    pop = tiny_study.population
    db = tiny_study.database(0.10)
    first = pop.n_generations - TINY.registry_generations + 1
    eligible = set(tiny_study.eligible_donors(0.10).tolist())
    rng = np.random.default_rng(0)
    outside = np.setdiff1d(tiny_study.alive, db)
    for donor in rng.choice(outside, 60, replace=False).tolist():
        m = pop.meioses_many(np.full(len(db), donor), db)
        gen = (pop.generation_of(np.array([donor]))[0] + pop.generation_of(db) - m) // 2
        related = bool(np.any((m >= 0) & (gen >= first)))
        assert related == (donor in eligible)
    assert not eligible & set(db.tolist())
    assert min(eligible) >= tiny_study.living_from


def test_study__every_link_missing_the_expansion_never_holds_the_donor(tiny_study: Study) -> None:
    scenario = Scenario("yfiler_plus", 0.10, missing_links=1.0)
    summary, trials = tiny_study.run(scenario, 40, oracle=True)
    assert summary.in_expansion == 0.0
    assert summary.top_k == 0.0
    assert {t.outcome for t in trials} == {"links missing"}
    search, _ = tiny_study.run(scenario, 40)
    assert search.in_expansion == 0.0


def test_study__search_hit_in_the_family_ranks_as_the_oracle(tiny_study: Study) -> None:
    """With a complete registry the expansion (G = 5 over 6 registry generations) is the
    donor's whole registry family from any member of it: a search hit in the right
    family must give the oracle's rank; a hit elsewhere never holds the donor."""
    scenario = Scenario("yfiler_plus", 0.10)
    _, search = tiny_study.run(scenario, 60)
    oracle_summary, oracle = tiny_study.run(scenario, 60, oracle=True)
    assert oracle_summary.in_expansion == 1.0
    assert oracle_summary.outcomes["ranked"] == 1.0
    same = 0
    for s, o in zip(search, oracle, strict=True):
        assert s.donor == o.donor
        if s.outcome == "ranked":
            assert (s.rank, s.ties, s.candidates) == (o.rank, o.ties, o.candidates)
            same += 1
        else:
            assert s.outcome in {"no hit", "wrong family"}
    assert same > 30


def test_study__fast_rates_find_the_donor_far_above_chance(fast_study: Study) -> None:
    """Rates ×20: relatives differ at many loci, so the tree locates the donor. The
    top-5 share must be 1.5 times chance (a random order of the same candidates)."""
    summary, _ = fast_study.run(Scenario("yfiler_plus", 0.10), 80, oracle=True)
    assert summary.mean_candidates > 8
    assert summary.top_k >= 1.5 * summary.chance
    assert summary.top_k >= summary.chance + 0.2
    assert summary.top_k_competition >= summary.top_k - 1e-12


def test_study__posteriors_are_calibrated_against_the_simulator(fast_study: Study) -> None:
    """Independent check: the simulator (not the ranking's model) generates the truth.
    If the ranking's posteriors are right, the donor is in the top 5 as often as the
    posterior mass of the top 5 says: observed − predicted within 3 standard errors."""
    _, trials = fast_study.run(Scenario("yfiler_plus", 0.05), 80, oracle=True)
    d = np.array([t.top_k - t.predicted for t in trials])
    assert abs(d.mean()) <= 3 * d.std(ddof=1) / np.sqrt(len(d)) + 1e-9


def test_summary__rejects_no_trials_and_bad_config() -> None:
    with pytest.raises(InputError):
        Summary.of([])
    with pytest.raises(InputError, match="living_generations"):
        StudyConfig(living_generations=7)


def test_study__tied_hits_include_the_top_hit_and_its_family(tiny_study: Study) -> None:
    """Every hit tied at the top score is expanded: the top hit comes first, the joint
    expansion holds the top hit's family, so a donor inside the top hit's tree stays
    inside; at most ``MAX_FAMILIES`` families."""
    sc = Scenario("yfiler_plus", 0.10, 0.10)
    _, top = tiny_study.run(sc, 60)
    summary, tied = tiny_study.run(sc, 60, rule="tied")
    several = 0
    for a, b in zip(top, tied, strict=True):
        assert a.donor == b.donor and b.hits[:1] == a.hits[:1]
        assert 1 <= b.families <= len(b.hits) <= 10 or b.outcome == "no hit"
        if a.outcome == "ranked":
            assert b.outcome == "ranked" and b.candidates >= a.candidates
        several += b.families > 1
    assert several > 0  # ties between families do occur in this population
    assert summary.in_expansion >= Summary.of(top).in_expansion
    assert summary.mean_families > 1


def test_study__sequential_tests(tiny_study: Study) -> None:
    """Sequential confirmation (test the top man, type him, re-rank). Exact invariants:
    a donor ranked first alone is found by the first test; with at most 5 candidates
    every one is tested within 5 tests, so a donor inside is always found (this fails
    if a tested man were not moved to the typed men); a donor outside the tree never is;
    the summary's share counts the trials found."""
    sc = Scenario("yfiler_plus", 0.10, 0.25)
    summary, trials = tiny_study.run(sc, 80, rule="tied", sequential=True)
    small = 0
    for t in trials:
        if t.outcome != "ranked":
            assert t.sequential is None
            continue
        assert t.sequential is None or 1 <= t.sequential <= 5
        if t.rank == 1 and t.ties == 1:
            assert t.sequential == 1
        if t.candidates <= 5:
            assert t.sequential is not None and t.sequential <= t.candidates
            small += 1
    assert small > 5
    assert summary.sequential == pytest.approx(
        sum(t.sequential is not None for t in trials) / len(trials)
    )
    static, _ = tiny_study.run(sc, 80, rule="tied")
    assert static.sequential == 0.0  # not run
    with pytest.raises(InputError, match="hit rule"):
        tiny_study.trial(sc, int(trials[0].donor), rule="best")
