"""Reach within ``k`` mismatches counts as the search and ``haplotype.compare`` do:
DYS389II on its ``II - I`` segment, multi-copy loci under the best pairing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.encoding import Encoded, Layout, decode
from patriline.haplotype import compare
from patriline.reference import default_catalog
from patriline.search._distance_kernels import row_distance, row_mismatches
from patriline.search._index_build import locus_table
from patriline.simulate import SimConfig, database_sample, reach, simulate
from patriline.simulate._kernels import match_counts, match_lists
from patriline.simulate.reach import kit_locus_table, kit_view

RULE_LOCI = ("DYS19", "DYS389I", "DYS389II", "DYS385", "DYF387S1", "DYF399S1")


@pytest.fixture(scope="module")
def rules_pop_fixture():
    return simulate(
        SimConfig(
            males=3000,
            generations=40,
            vrs=0.2,
            kit="yfiler",
            founders="monomorphic",
            seed=5,
        )
    )


def _pair(layout: Layout, q: np.ndarray, d: np.ndarray):
    return decode(Encoded(layout, np.stack([q, d], axis=1).astype(np.int16)))


def test_match_counts__dys389i_step_counts_once() -> None:
    """A hand-made pair differing only by one DYS389I step (so DYS389II, which contains
    it, is one repeat longer too) is one mismatch, as ``compare`` counts it."""
    layout = Layout.for_kit("yfiler")
    i1, i2 = layout.dys389
    q = np.full(layout.n_columns, 150, dtype=np.int16)
    q[i1], q[i2] = 130, 290
    d = q.copy()
    d[i1] += 10
    d[i2] += 10
    ha, hb = _pair(layout, q, d)
    assert compare(ha, hb).mismatches == 1
    loci = locus_table(layout)
    assert row_mismatches(q, d, loci, 10) == 1
    assert match_counts(q[None, :], d[None, :], loci, 0)[0] == 0
    assert match_counts(q[None, :], d[None, :], loci, 1)[0] == 1
    # a change of the II - I segment alone is one mismatch too
    d2 = q.copy()
    d2[i2] += 10
    assert row_mismatches(q, d2, loci, 10) == 1


def _rule_rows(data: st.DataObject, layout: Layout) -> np.ndarray:
    cat = default_catalog()
    row = []
    for name in layout.loci:
        lo = {"DYS389I": 12, "DYS389II": 28}.get(name, 10)
        vals = st.integers(lo, lo + 3).map(lambda v: v * 10) | st.sampled_from([lo * 10 + 2])
        row += sorted(
            data.draw(
                st.lists(vals, min_size=cat.locus(name).copies, max_size=cat.locus(name).copies)
            )
        )
    return np.array(row, dtype=np.int16)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_row_mismatches__equals_compare_and_row_distance(data: st.DataObject) -> None:
    """The value-only kernel against ``haplotype.compare`` on decoded rows (the
    reference) and against the search's ``row_distance``: equal counts up to the limit,
    and a count above the limit exactly when the true count is above it."""
    layout = Layout.for_loci(RULE_LOCI)
    q, d = _rule_rows(data, layout), _rule_rows(data, layout)
    ha, hb = _pair(layout, q, d)
    expected = compare(ha, hb).mismatches
    loci = locus_table(layout)
    buf = np.empty(3, dtype=np.int64), np.empty(3, dtype=np.int64)
    assert row_distance(q, d, loci, *buf)[1] == expected
    assert row_mismatches(q, d, loci, 100) == expected
    for k in range(4):
        got = row_mismatches(q, d, loci, k)
        assert (got <= k) == (expected <= k)
        if expected <= k:
            assert got == expected


def test_kit_locus_table__matches_kit_view(rules_pop_fixture) -> None:
    """The locus table of a kit's columns has the kit view's starts and copies, and the
    DYS389 columns where the view put them."""
    pop = rules_pop_fixture
    for kit in ("yfiler", "minimal", "ppy12"):
        view = kit_view(pop, kit)
        t = kit_locus_table(pop.layout, view)
        assert np.array_equal(t.starts, view.starts)
        assert np.array_equal(t.copies, view.copies)
        i1, i2 = pop.layout.dys389
        assert view.columns[t.i1] == i1 and view.columns[t.i2] == i2


def _within(pop, kit: str, queries: np.ndarray, db: np.ndarray, k: int) -> list[dict[int, int]]:
    """Brute force: database men within ``k`` mismatches of each query, by ``compare``
    (position in ``db`` -> mismatches)."""
    loci = default_catalog().kit(kit).loci
    v = pop.encoded().values
    haps = decode(Encoded(pop.layout, v[:, np.concatenate([queries, db])]))
    hq, hd = haps[: len(queries)], haps[len(queries) :]
    out = []
    for a in hq:
        m = {j: compare(a, b, loci).mismatches for j, b in enumerate(hd)}
        out.append({j: x for j, x in m.items() if x <= k})
    return out


@pytest.mark.parametrize("k", [1, 2])
def test_reach__within_k_equals_compare_brute_force(rules_pop_fixture, k: int) -> None:
    """reach's P(match within k) and ``match_lists`` equal a brute-force count with
    ``haplotype.compare`` on the decoded rows (an independent computation), with the
    same database sample and queries; the sample includes pairs that differ by a
    DYS389I step (the case a raw DYS389II column would count twice)."""
    pop = rules_pop_fixture
    share, n_queries, seed = 0.03, 120, 4
    res = reach(pop, ["yfiler"], [share], max_mismatches=k, n_queries=n_queries, seed=seed)
    living, _ = pop.alive(1)
    db_local = database_sample(pop, share, seed=seed, among=living)
    in_db = np.zeros(len(living), dtype=bool)
    in_db[db_local] = True
    rng = np.random.default_rng([seed, 0, 7])
    q_local = rng.choice(np.flatnonzero(~in_db), n_queries, replace=False)
    lists = _within(pop, "yfiler", q_local, db_local, k)
    naive = np.mean([len(s) > 0 for s in lists])
    assert res.rows[0].p_match == pytest.approx(naive, abs=1e-12)
    assert 0 < naive < 1

    view = kit_view(pop, "yfiler")
    kv = np.ascontiguousarray(pop.encoded().values[view.columns].T)
    indptr, idx = match_lists(kv[q_local], kv[db_local], kit_locus_table(pop.layout, view), k)
    for i, s in enumerate(lists):
        assert set(idx[indptr[i] : indptr[i + 1]].tolist()) == set(s)

    # the DYS389 rule matters here: some pair within k would be above k if DYS389II
    # were compared as a raw column (a DYS389I step counted twice)
    i1, i2 = pop.layout.dys389
    v = pop.encoded().values.astype(np.int64)
    qa, da = v[:, q_local], v[:, db_local]

    def raw(i: int, j: int, m: int) -> int:
        seg = int(qa[i2, i] - qa[i1, i] != da[i2, j] - da[i1, j])
        return m - seg + int(qa[i2, i] != da[i2, j])

    assert any(raw(i, j, m) > k for i, s in enumerate(lists) for j, m in s.items())
