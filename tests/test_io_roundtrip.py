"""Round trips: write∘read is the identity for every format and every allele kind.

Also the shared hypothesis strategies for alleles, haplotypes and records (imported by
the encoding tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patriline.encoding import Layout, encode
from patriline.haplotype import NULL, OFF_LADDER, Allele, AlleleKind, Haplotype
from patriline.io import read, read_encoded, write, write_encoded
from patriline.io.model import Record
from patriline.reference import Locus, default_catalog

CATALOG = default_catalog()
LOCI = CATALOG.all_loci
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def allele_st(draw: st.DrawFn, locus: Locus) -> Allele:
    """Any allele kind at ``locus``: integer, intermediate, multi-copy, null,
    duplication, off-ladder (missing is the locus left out of the haplotype)."""
    kind = draw(st.sampled_from(["int", "intermediate", "null", "ol", "duplication"]))
    if kind == "null":
        return NULL
    if kind == "ol":
        return OFF_LADDER

    def value(intermediate: bool) -> int:
        whole = draw(st.integers(locus.allele_min, locus.allele_max))
        part = draw(st.integers(1, locus.repeat_unit - 1)) if intermediate else 0
        return whole * 10 + part

    n = locus.copies if locus.copies > 1 else 1
    if kind == "duplication":
        n += 1
    elif locus.copies > 1:
        n = draw(st.integers(1, locus.copies))  # fewer than copies: partly typed (11,-)
    values = [value(kind == "intermediate" and i == 0) for i in range(n)]
    return Allele(AlleleKind.VALUE, tuple(values))


@st.composite
def haplotype_st(draw: st.DrawFn, loci: tuple[str, ...] = LOCI) -> Haplotype:
    chosen = draw(st.lists(st.sampled_from(loci), unique=True, max_size=len(loci)))
    return Haplotype({n: draw(allele_st(CATALOG.locus(n))) for n in chosen})


_ID = (
    st.text(
        alphabet=st.sampled_from("ABCXYZabcxyz0123456789-_./ #,;\"'æøÅ"), min_size=1, max_size=12
    )
    .map(str.strip)
    .filter(bool)
)
_TEXT = (
    st.text(alphabet=st.sampled_from("abcXYZ019 -_,;.\"'é"), min_size=1, max_size=10)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def records_st(draw: st.DrawFn, meta: bool = True) -> list[Record]:
    ids = draw(st.lists(_ID, min_size=1, max_size=6, unique=True))
    out = []
    for i, specimen in enumerate(ids):
        person = draw(st.one_of(st.none(), _ID)) if meta else None
        fields = (
            draw(st.dictionaries(st.sampled_from(["category", "agency", "note"]), _TEXT))
            if meta
            else {}
        )
        out.append(Record(specimen, draw(haplotype_st()), i + 2, None, person, fields))
    return out


def _same(a: list[Record], b: list[Record], *, meta: bool) -> None:
    assert [r.specimen for r in a] == [r.specimen for r in b]
    for x, y in zip(a, b, strict=True):
        assert dict(x.haplotype.alleles) == dict(y.haplotype.alleles), x.specimen
        if meta:
            assert (x.person, x.kit, x.fields) == (y.person, y.kit, y.fields)


@pytest.mark.parametrize(
    ("name", "meta"),
    [
        ("out.csv", True),
        ("out.tsv", True),
        ("out.json", True),
        ("out.gm.txt", False),
        ("out.yhrd.tsv", False),
    ],
)
@SETTINGS
@given(data=st.data())
def test_write_read__identity_every_format(
    tmp_path: Path, name: str, meta: bool, data: st.DataObject
) -> None:
    """write∘read = identity (GeneMapper and YHRD carry specimen IDs and alleles only)."""
    records = data.draw(records_st(meta=meta))
    path = tmp_path / name
    assert write(records, path) == len(records)
    result = read(path)
    assert result.rows == len(records) == result.accepted
    assert result.problems == []
    _same(records, result.records, meta=meta)


@SETTINGS
@given(data=st.data())
def test_write_read__explicit_loci_and_kit(tmp_path: Path, data: st.DataObject) -> None:
    """Records typed under a kit keep it through CSV and JSON; ``loci`` fixes the columns."""
    kit = CATALOG.kit("yfiler_plus")
    recs = [
        Record(f"S{i}", h, i, kit.id, None, {})
        for i, h in enumerate(data.draw(st.lists(haplotype_st(kit.loci), min_size=1, max_size=4)))
    ]
    for name in ("k.csv", "k.json"):
        write(recs, tmp_path / name, loci=kit.loci)
        back = read(tmp_path / name, kit="Yfiler Plus")
        assert [r.kit for r in back.records] == [kit.id] * len(recs)
        _same(recs, back.records, meta=True)


@SETTINGS
@given(data=st.data())
def test_write_encoded__equals_write_then_read_encoded(tmp_path: Path, data: st.DataObject) -> None:
    """write_encoded → read (slow path) and read_encoded (columnar fast path) both give
    back the encoded matrix and extras exactly."""
    haps = data.draw(st.lists(haplotype_st(), min_size=1, max_size=8))
    layout = Layout.universal()
    enc = encode(haps, layout)
    ids = [f"X{i}" if i % 2 else f'X{i}, "q"' for i in range(len(haps))]
    path = tmp_path / "enc.csv"
    assert write_encoded(ids, enc, path, extra_columns={"category": ["a"] * len(ids)}) == len(ids)
    slow = read(path)
    assert [dict(r.haplotype.alleles) for r in slow.records] == [dict(h.alleles) for h in haps]
    assert slow.records[0].fields == {"category": "a"}
    fast = read_encoded(path, layout)
    assert fast.ids == ids and fast.problems == [] and fast.rows == len(ids)
    np.testing.assert_array_equal(fast.encoded.values, enc.values)
    assert fast.encoded.extras == enc.extras
