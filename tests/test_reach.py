"""Tests of the reach analysis: the mismatch kernel against ``haplotype.compare``, and
reach / matching-men figures against plain-Python recomputation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.encoding import Layout, decode
from patriline.errors import InputError
from patriline.haplotype import compare
from patriline.search._index_build import locus_table
from patriline.simulate import SimConfig, matching_men, reach, simulate
from patriline.simulate._kernels import match_counts
from patriline.simulate.reach import haplotype_classes, kit_view

LOCI = ("DYS19", "DYS385", "DYS390", "DYF387S1", "DYF399S1")


@pytest.fixture(scope="module")
def reach_pop_fixture():
    return simulate(
        SimConfig(
            males=4000,
            generations=40,
            vrs=0.2,
            kit="yfiler",
            keep_generations=2,
            founders="monomorphic",
            seed=21,
        )
    )


def _rows(draw_values: list[int], n_cols: int) -> np.ndarray:
    return np.array(draw_values, dtype=np.int16).reshape(-1, n_cols)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_match_counts__equals_compare_reference(data: st.DataObject) -> None:
    """The numba mismatch count equals ``patriline.haplotype.compare`` (the reference)
    on random value rows, multi-copy loci (2 and 3 copies) included."""
    layout = Layout.for_loci(LOCI)
    ncol = layout.n_columns
    vals = st.integers(10, 14).map(lambda v: v * 10)
    q = np.array(data.draw(st.lists(vals, min_size=ncol, max_size=ncol)), dtype=np.int16)
    d = np.array(data.draw(st.lists(vals, min_size=ncol, max_size=ncol)), dtype=np.int16)
    for name in layout.loci:  # stored sorted, as the simulator stores multi-copy loci
        sl = layout.slice_of(name)
        q[sl], d[sl] = np.sort(q[sl]), np.sort(d[sl])
    from patriline.encoding import Encoded

    ha, hb = decode(Encoded(layout, np.stack([q, d], axis=1)))
    expected = compare(ha, hb).mismatches
    loci = locus_table(layout)
    for k in range(0, 4):
        got = match_counts(q[None, :], d[None, :], loci, k)[0]
        assert got == int(expected <= k)


def test_haplotype_classes__identical_rows_share_class(reach_pop_fixture) -> None:
    pop = reach_pop_fixture
    view = kit_view(pop, "yfiler")
    v = pop.encoded().values
    inv = haplotype_classes(v, view)
    rows = v[view.columns].T
    for i in range(0, 4000, 397):
        same = (rows == rows[i]).all(axis=1)
        assert np.array_equal(same, inv == inv[i])


def test_kit_view__kit_not_simulated(reach_pop_fixture) -> None:
    with pytest.raises(InputError, match="DYS460"):
        kit_view(reach_pop_fixture, "yfiler_plus")
    with pytest.raises(InputError, match="unknown kit"):
        kit_view(reach_pop_fixture, "bogus")


def test_reach__exact_p_match_equals_naive(reach_pop_fixture) -> None:
    """P(match) against a plain-Python recomputation with the same database sample."""
    from patriline.simulate import database_sample

    pop = reach_pop_fixture
    res = reach(pop, ["yfiler", "minimal"], [0.05], seed=3, n_queries=300)
    living = pop.living
    db = database_sample(pop, 0.05, seed=3)
    cols = kit_view(pop, "minimal").columns
    v = pop.encoded().values[cols].T
    db_set = {tuple(v[i - living[0]]) for i in db}
    outside = np.setdiff1d(living, db)
    naive = np.mean([tuple(v[i - living[0]]) in db_set for i in outside])
    row = next(r for r in res.rows if r.kit == "minimal")
    assert row.p_match == pytest.approx(naive, abs=1e-12)
    assert row.database_size == 200
    # a smaller kit matches at least as often
    yf = next(r for r in res.rows if r.kit == "yfiler")
    assert row.p_match >= yf.p_match
    assert set(res.to_dict()["rows"][0]) >= {"kit", "share", "p_match", "mean_matching_men"}


def test_reach__mismatches_increase_matches(reach_pop_fixture) -> None:
    pop = reach_pop_fixture
    r0 = reach(pop, ["yfiler"], [0.02], n_queries=400, seed=1).rows[0]
    r2 = reach(pop, ["yfiler"], [0.02], n_queries=400, seed=1, max_mismatches=2).rows[0]
    assert r2.p_match >= r0.p_match - 0.05
    assert r2.p_match > 0
    assert sum(r2.closest_meioses.values()) == round(r2.p_match * 400)


def test_reach__closest_meioses_are_true_relatives(reach_pop_fixture) -> None:
    """Given a match in a 2-generation population, fathers/sons in the database
    (1 meiosis) appear among the closest relatives."""
    pop = reach_pop_fixture
    r = reach(pop, ["yfiler"], [0.2], n_queries=500, seed=2, living_generations=2).rows[0]
    assert r.p_within_5_meioses_given_match is not None
    assert 0 < r.p_within_5_meioses_given_match <= 1
    assert "1" in r.closest_meioses or "2" in r.closest_meioses


def test_reach__bad_input(reach_pop_fixture) -> None:
    with pytest.raises(InputError, match="share"):
        reach(reach_pop_fixture, ["yfiler"], [1.5])
    with pytest.raises(InputError, match="mismatches"):
        reach(reach_pop_fixture, ["yfiler"], [0.1], max_mismatches=-1)
    with pytest.raises(InputError, match="living generations"):
        reach(reach_pop_fixture, ["yfiler"], [0.1], living_generations=5)


def test_matching_men__mean_equals_naive(reach_pop_fixture) -> None:
    """Mean number of other living men with the same profile, recomputed by counting."""
    pop = reach_pop_fixture
    mm = matching_men(pop, "yfiler", n_samples=200, seed=1)
    cols = kit_view(pop, "yfiler").columns
    rows = [tuple(r) for r in pop.encoded().values[cols].T]
    from collections import Counter

    c = Counter(rows)
    naive = np.mean([c[r] - 1 for r in rows])
    assert mm.mean == pytest.approx(naive)
    assert sum(mm.meioses.values()) + mm.unrelated > 0
    assert all(k % 2 == 0 for k in mm.meioses)  # same generation: even meioses only
    assert mm.to_dict()["kit"] == "yfiler"
