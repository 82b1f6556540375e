"""The search engine equals a plain-Python linear scan with ``patriline.haplotype.compare``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.naive import linear_scan

from patriline.encoding import Encoded, Layout, encode
from patriline.errors import InputError
from patriline.haplotype import Allele, AlleleKind, Haplotype, compare, parse_haplotype_string
from patriline.reference import default_catalog
from patriline.search.index import SearchIndex

CATALOG = default_catalog()
YFP = CATALOG.kit("yfiler_plus").loci
# A small layout with every kind of locus: single-copy, DYS389 I/II, 2- and 3-copy.
SMALL_LOCI = ("DYS19", "DYS389I", "DYS389II", "DYS390", "DYS385", "DYF399S1", "DYS458", "DYS392")
SMALL = Layout.for_loci(SMALL_LOCI)


def as_dict(hits: object) -> dict[str, tuple[int, int, int]]:
    return {
        s: (int(a), int(m), int(t))
        for s, a, m, t in zip(hits.ids, hits.compared, hits.mismatches, hits.steps, strict=True)  # type: ignore[attr-defined]
    }


# ------------------------------------------------------------------ random data, every kind
@st.composite
def alleles(draw: st.DrawFn, locus: str) -> Allele:
    spec = CATALOG.locus(locus)
    kind = draw(st.sampled_from(["value"] * 6 + ["missing", "null", "ol", "extra", "partial"]))
    lo = spec.allele_min
    value = st.integers(lo, lo + 3).map(lambda x: x * 10) | st.integers(lo, lo + 3).map(
        lambda x: x * 10 + 2
    )
    if kind == "missing":
        return Allele(AlleleKind.MISSING)
    if kind == "null":
        return Allele(AlleleKind.NULL)
    if kind == "ol":
        return Allele(AlleleKind.OFF_LADDER)
    if kind == "extra":
        return Allele(
            AlleleKind.VALUE,
            tuple(draw(st.lists(value, min_size=spec.copies + 1, max_size=spec.copies + 1))),
        )
    if kind == "partial" and spec.copies > 1:  # a copy not called: DYS385 = 11,- (issue 14)
        n = draw(st.integers(1, spec.copies - 1))
        return Allele(AlleleKind.VALUE, tuple(draw(st.lists(value, min_size=n, max_size=n))))
    return Allele(
        AlleleKind.VALUE, tuple(draw(st.lists(value, min_size=spec.copies, max_size=spec.copies)))
    )


@st.composite
def haplotypes(draw: st.DrawFn) -> Haplotype:
    return Haplotype({n: draw(alleles(n)) for n in SMALL_LOCI})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(haplotypes(), min_size=1, max_size=25),
    haplotypes(),
    st.sampled_from([(0, None), (1, None), (2, None), (None, 2), (2, 4), (None, None)]),
    st.integers(0, 6),
)
def test_query__equals_linear_scan_random(
    haps: list[Haplotype], trace: Haplotype, bounds: tuple[int | None, int | None], min_loci: int
) -> None:
    """Random profiles with every allele kind (missing, null, OL, intermediate, duplication,
    partial multi-copy): the index answer equals the linear scan with ``compare``."""
    ids = [f"S{i:03d}" for i in range(len(haps))]
    idx = SearchIndex.build(ids, encode(haps, SMALL), index_kit=None)
    for q in (trace, haps[0]):
        got = idx.query(q, max_mismatches=bounds[0], max_steps=bounds[1], min_loci=min_loci)
        assert as_dict(got) == linear_scan(q, ids, haps, bounds[0], bounds[1], min_loci)


# ------------------------------------------------------------------ clustered data
def clustered(n_founders: int, sons: int, seed: int, partial: float = 0.05) -> list[Haplotype]:
    """Lineages from a simple father→son process (each copy mutates ±1 step w.p. 0.03)."""
    return clustered_with_fathers(n_founders, sons, seed, partial)[0]


def clustered_with_fathers(
    n_founders: int, sons: int, seed: int, partial: float = 0.05
) -> tuple[list[Haplotype], list[int]]:
    """As :func:`clustered`, with each profile's father (index; -1 for a founder)."""
    rng = random.Random(seed)
    out = []
    fathers: list[int] = []
    for _ in range(n_founders):
        founder = {
            n: tuple(
                sorted(rng.randint(CATALOG.locus(n).allele_min, CATALOG.locus(n).allele_max) * 10
                       for _ in range(CATALOG.locus(n).copies))
            )
            for n in YFP
        }  # fmt: skip
        family = [founder]
        base = len(out)
        fathers.append(-1)
        for _ in range(sons):
            pick = rng.randrange(len(family))
            fathers.append(base + pick)
            son = dict(family[pick])
            for n in YFP:
                if rng.random() < 0.03 * CATALOG.locus(n).copies:
                    v = list(son[n])
                    j = rng.randrange(len(v))
                    change = rng.choice([-10, 10])
                    v[j] = max(10, v[j] + change)
                    son[n] = tuple(sorted(v))
                    if n == "DYS389I":  # DYS389II contains DYS389I
                        son["DYS389II"] = (son["DYS389II"][0] + change,)
            family.append(son)
        out += family
    haps = []
    for d in out:
        al = {n: Allele(AlleleKind.VALUE, v) for n, v in d.items()}
        if rng.random() < partial:
            al[rng.choice(YFP)] = rng.choice(
                [Allele(AlleleKind.MISSING), Allele(AlleleKind.OFF_LADDER)]
            )
        haps.append(Haplotype(al))
    return haps, fathers


@pytest.fixture(scope="module")
def clustered_fixture() -> tuple[list[str], list[Haplotype], SearchIndex]:
    haps = clustered(25, 10, seed=7)
    ids = [f"P{i:04d}" for i in range(len(haps))]
    return ids, haps, SearchIndex.build(ids, encode(haps, Layout.universal()))


@pytest.mark.parametrize(
    "bounds", [(0, None), (1, None), (2, None), (None, 1), (None, 2), (3, 4), (6, None)]
)
def test_query__equals_linear_scan_clustered(
    clustered_fixture: tuple[list[str], list[Haplotype], SearchIndex],
    bounds: tuple[int | None, int | None],
) -> None:
    """Clustered Yfiler Plus lineages: hash, pigeonhole and scan plans all equal the scan."""
    ids, haps, idx = clustered_fixture
    assert idx.manifest["index_kit"] == "yfiler_plus"
    rng = random.Random(bounds[0] or 0)
    plans = set()
    for q in [*rng.sample(haps, 8), haps[0].restricted(YFP[:12])]:
        got = idx.query(q, max_mismatches=bounds[0], max_steps=bounds[1], min_loci=8)
        plans.add(got.plan)
        assert as_dict(got) == linear_scan(q, ids, haps, bounds[0], bounds[1], 8)
    expected = {(0, None): "exact-hash", (1, None): "pigeonhole", (6, None): "full-scan"}
    if bounds in expected:
        assert expected[bounds] in plans


@pytest.fixture(scope="module")
def all_pairs_fixture(
    clustered_fixture: tuple[list[str], list[Haplotype], SearchIndex],
) -> tuple[SearchIndex, set[tuple[str, str, int, int, int]]]:
    """Every third profile, indexed, and every pair within 3 mismatches by ``compare``."""
    ids, haps, _ = clustered_fixture
    sub = list(range(0, len(haps), 3))
    small = SearchIndex.build(
        [ids[i] for i in sub], encode([haps[i] for i in sub], Layout.universal())
    )
    expected = set()
    for x in range(len(sub)):
        for y in range(x + 1, len(sub)):
            c = compare(haps[sub[x]], haps[sub[y]])
            if c.loci_compared >= 8 and c.mismatches <= 3:
                expected.add((ids[sub[x]], ids[sub[y]], c.loci_compared, c.mismatches, c.steps))
    return small, expected


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_pairs__equals_all_pairs_scan(
    all_pairs_fixture: tuple[SearchIndex, set[tuple[str, str, int, int, int]]], k: int
) -> None:
    """All-vs-all pairs from the pigeonhole blocks equal comparing every pair with compare
    (k = 3 exceeds the 3 blocks' reach and takes the scan path)."""
    small, expected = all_pairs_fixture
    got = small.pairs(max_mismatches=k, min_loci=8)
    found = set(
        zip(
            got.a, got.b, got.compared.tolist(), got.mismatches.tolist(),
            got.steps.tolist(), strict=True,
        )
    )  # fmt: skip
    assert len(found) == len(got)  # each pair once
    assert found == {e for e in expected if e[3] <= k}


# ------------------------------------------------------------------ persistence and updates
def _files(root: Path) -> dict[str, bytes]:
    """The files of the current generation (its manifest without the generation id)."""
    gen = root / (root / "CURRENT").read_text().strip()
    out = {p.name: p.read_bytes() for p in sorted(gen.iterdir()) if p.suffix == ".npy"}
    doc = json.loads((gen / "manifest.json").read_text())
    del doc["generation"]
    for entry in doc["arrays"].values():
        del entry["written_in"]
    out["manifest.json"] = json.dumps(doc, sort_keys=True).encode()
    return out


def test_build__deterministic_whatever_the_input_order(tmp_path: Path) -> None:
    """The same profiles in another order give byte-identical index files."""
    haps = clustered(6, 5, seed=3)
    ids = [f"P{i:03d}" for i in range(len(haps))]
    order = list(range(len(haps)))
    random.Random(1).shuffle(order)
    a = SearchIndex.build(ids, encode(haps, Layout.universal()))
    b = SearchIndex.build(
        [ids[i] for i in order], encode([haps[i] for i in order], Layout.universal())
    )
    assert _files(a.save(tmp_path / "a")) == _files(b.save(tmp_path / "b"))


def test_save_open__roundtrip_and_memory_mapped(tmp_path: Path) -> None:
    haps = clustered(5, 5, seed=4)
    ids = [f"P{i:03d}" for i in range(len(haps))]
    idx = SearchIndex.build(ids, encode(haps, Layout.universal()), seq=17)
    back = SearchIndex.open(idx.save(tmp_path / "ix"))
    assert isinstance(back.values, np.memmap)
    assert back.seq == 17
    for q in haps[:5]:
        assert as_dict(back.query(q, max_mismatches=2)) == as_dict(idx.query(q, max_mismatches=2))
    assert back.haplotype(ids[3]) == Haplotype(haps[3].alleles, None)


def test_add_remove__incremental_equals_rebuild(tmp_path: Path) -> None:
    """Removals (expunged) never come back; additions are found; same answers as a rebuild."""
    haps = clustered(6, 6, seed=5)
    ids = [f"P{i:03d}" for i in range(len(haps))]
    lay = Layout.universal()
    idx = SearchIndex.build(ids[:30], encode(haps[:30], lay))
    idx.remove([ids[0], ids[1]])
    idx.add(ids[30:], encode(haps[30:], lay))
    idx = SearchIndex.open(idx.save(tmp_path / "ix"))
    keep = [i for i in range(len(haps)) if i not in (0, 1)]
    fresh = SearchIndex.build([ids[i] for i in keep], encode([haps[i] for i in keep], lay))
    for q in [haps[0], haps[1], haps[35], haps[12]]:
        got = as_dict(idx.query(q, max_mismatches=2))
        assert ids[0] not in got and ids[1] not in got
        assert got == as_dict(fresh.query(q, max_mismatches=2))
    pg = idx.pairs(max_mismatches=1)
    pf = fresh.pairs(max_mismatches=1)
    assert (pg.a, pg.b) == (pf.a, pf.b)


def test_query__loci_outside_layout_is_input_error() -> None:
    idx = SearchIndex.build(["A"], encode([parse_haplotype_string("DYS19=14")], SMALL))
    with pytest.raises(InputError, match="DYS448"):
        idx.query(parse_haplotype_string("DYS19=14,DYS448=19"))
    with pytest.raises(InputError, match="query haplotype"):
        idx.query("DYS19=banana")


def test_build__duplicate_ids_is_input_error() -> None:
    h = parse_haplotype_string("DYS19=14")
    with pytest.raises(InputError, match="'B' appears twice"):
        SearchIndex.build(["B", "A", "B"], encode([h, h, h], SMALL))


def test_memory__index_not_larger_than_raw() -> None:
    """Index structures take no more bytes than the haplotype matrix (target: <= 2x in all)."""
    haps = clustered(10, 10, seed=8, partial=0.0)
    enc = encode(haps, Layout.for_kit("yfiler_plus"))
    idx = SearchIndex.build([f"P{i:03d}" for i in range(len(haps))], enc)
    mem = idx.memory_bytes()
    assert mem["index"] <= mem["raw"]
    assert isinstance(enc, Encoded)


def test_recall__fathers_found_and_ranked_first() -> None:
    """Simulated truth (father→son process): every father within 2 mismatches is returned
    and a closest relative (father or son, 1 meiosis) ranks first (ties at the top score
    count) for at least 90 % of traces."""
    from patriline.search.rank import rank

    haps, fathers = clustered_with_fathers(12, 12, seed=11, partial=0.0)
    ids = [f"P{i:04d}" for i in range(len(haps))]
    idx = SearchIndex.build(ids, encode(haps, Layout.universal()))
    sons: dict[int, set[int]] = {}
    for i, f in enumerate(fathers):
        sons.setdefault(f, set()).add(i)
    cases = firsts = 0
    for i, f in enumerate(fathers):
        if f < 0:
            continue
        hits = idx.query(haps[i], max_mismatches=2)
        got = set(hits.ids) - {ids[i]}
        if compare(haps[i], haps[f]).mismatches <= 2:
            assert ids[f] in got
            cases += 1
            ranked = rank(haps[i], [(s, idx.haplotype(s)) for s in sorted(got)])
            top = {r.specimen for r in ranked if r.score == ranked[0].score}
            closest = {ids[f]} | {ids[s] for s in sons.get(i, set())}
            firsts += bool(top & closest)
    assert cases > 100
    assert firsts >= 0.9 * cases


def test_query__dys389i_change_carried_by_dys389ii() -> None:
    """Regression: a DYS389I step (which moves DYS389II too) plus one more mismatch is
    2 mismatches; DYS389I and DYS389II fall in different pigeonhole blocks, so the
    DYS389II block must be hashed on II − I to agree."""
    base = {n: str(CATALOG.locus(n).allele_min + 2) for n in YFP}
    base.update({"DYS385": "11,14", "DYF387S1": "35,37", "DYS389I": "13", "DYS389II": "29"})
    rel = {**base, "DYS389I": "14", "DYS389II": "30", "DYS19": str(int(base["DYS19"]) + 1)}
    far = {**base, "DYS390": "30", "DYS391": "6", "DYS392": "20", "DYS393": "9"}
    haps = [Haplotype.parse(x) for x in (base, rel, far)]
    idx = SearchIndex.build(["A", "B", "C"], encode(haps, Layout.universal()))
    assert idx.manifest["index_kit"] == "yfiler_plus"
    hits = idx.query(haps[0], max_mismatches=2)
    assert hits.plan == "pigeonhole"
    assert as_dict(hits) == linear_scan(haps[0], ["A", "B", "C"], haps, 2, None, 9)
    assert "B" in hits.ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(haplotypes(), min_size=1, max_size=12), haplotypes())
def test_rows_distance__python_path_equals_the_kernel(
    rows: list[Haplotype], query: Haplotype
) -> None:
    """A handful of rows (a search's hits) is compared in Python to spare a CLI search
    numba's start-up; counts and flags must be the kernel's, every allele kind drawn."""
    import numpy as np

    from patriline.search import _distance_kernels as dk
    from patriline.search.index import SearchIndex

    layout = Layout.for_loci(SMALL_LOCI)
    enc = encode([*rows, query], layout)
    table = SearchIndex.build([str(i) for i in range(len(rows))], encode(rows, layout)).locus_table
    q = np.ascontiguousarray(enc.values[:, -1])
    idx = np.arange(len(rows), dtype=np.int64)
    kernel = np.empty((len(rows), 4), dtype=np.int32)
    dk._rows_distance_into(enc.values, idx, q, table, kernel, 0, len(rows))
    python = np.array(
        [dk._row_distance_py(q.tolist(), enc.values[:, r].tolist(), table) for r in idx.tolist()]
    )
    assert (python == kernel).all()
