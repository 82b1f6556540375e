"""Reading real-world-shaped input: the shipped examples, the messy lab export, Excel
encodings, per-copy and DYS389II-I columns, GeneMapper and YHRD-style tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from patriline.encoding import Layout, encode
from patriline.errors import InputError
from patriline.haplotype import NULL, OFF_LADDER, Allele, parse_haplotype_string
from patriline.io import detect_format, read, read_encoded, write
from patriline.io.model import Record

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).parent / "data" / "io"


def test_read__messy_lab_export_reads_correctly() -> None:
    """BOM, CRLF, ';', mixed case, aliases, trailing spaces, empty cells, quoted ';' in a
    cell, a blank line, DYS385a/b columns and DYS389II-I (converted by adding DYS389I)."""
    r = read(EXAMPLES / "messy_lab_export.csv")
    assert r.problems == [] and r.rows == 6
    first = r.records[0]
    assert first.specimen == "LAB-001"
    assert first.haplotype == parse_haplotype_string(
        "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
        "DYS385=11,14,DYS438=12,DYS439=12,YGATAH4=12"
    )
    second = r.records[1]
    assert second.fields == {"Remarks": "re-typed; see case 17"}
    partial = r.records[3]
    assert partial.line == 5
    assert partial.haplotype["DYS391"].kind.value == "missing"
    # one copy given, the other not called: stays partial (issue 14 item 2), never 11,11
    assert partial.haplotype["DYS385"] == Allele.of(11)
    assert r.records[4].line == 7  # after the blank line


def test_read__shipped_examples() -> None:
    wide = read(EXAMPLES / "yfiler_plus.csv")
    assert wide.rows == wide.accepted == 30
    assert {r.kit for r in wide.records} == {"yfiler_plus"}
    kinds = {a.kind.value for r in wide.records for a in r.haplotype.alleles.values()}
    assert kinds == {"value", "null", "ol"}
    assert any(a.intermediate for r in wide.records for a in r.haplotype.alleles.values())
    gm = read(EXAMPLES / "genemapper_export.txt")
    assert gm.format == "genemapper" and gm.accepted == 6
    for a, b in zip(gm.records, wide.records[:6], strict=True):
        assert a.specimen == b.specimen and dict(a.haplotype.alleles) == dict(b.haplotype.alleles)
    assert gm.records[1].line == 2 + 26  # a specimen's line is its first row
    yhrd = read(EXAMPLES / "haplotypes.yhrd.tsv")
    assert yhrd.format == "yhrd" and yhrd.records[0].fields == {"count": "8"}
    assert sum(int(r.fields["count"]) for r in yhrd.records) == 30


def test_read__utf16_excel_and_tab() -> None:
    r = read(DATA / "utf16_excel.txt")
    assert [x.haplotype["DYS385"] for x in r.records] == [Allele.of(11, 14), Allele.of(12, 13)]


def test_read__danes_table_without_ids(danes_path_fixture: Path) -> None:
    """The shared Danish table has no ID column and a count column ``n``: YHRD-style."""
    r = read(danes_path_fixture)
    assert r.format == "yhrd" and r.problems == []
    assert [x.specimen for x in r.records[:2]] == ["H1", "H2"]
    assert r.records[0].haplotype["DYS389II"] == Allele.of(29)
    assert all("n" in x.fields for x in r.records)


def test_read__yhrd_null_and_multicopy(tmp_path: Path) -> None:
    p = tmp_path / "t.yhrd"
    p.write_text("Haplotype\tDYS19\tDYS385\tDYS392\tcount\nY1\t14\t11-14\t0\t3\nY2\tOL\t13\t\t1\n")
    r = read(p)
    assert r.records[0].haplotype["DYS392"] == NULL
    assert r.records[1].haplotype["DYS19"] == OFF_LADDER
    assert r.records[1].haplotype["DYS385"] == Allele.of(13, 13)


def test_read__dys389_difference_conversion(tmp_path: Path) -> None:
    """DYS389II-I = 16 with DYS389I = 13 is DYS389II = 29; without DYS389I it is a problem."""
    p = tmp_path / "d.csv"
    p.write_text("id,DYS389I,DYS389II-I\nA,13,16\nB,,17\n")
    r = read(p, strict=False)
    assert r.records[0].haplotype["DYS389II"] == Allele.of(29)
    assert r.problems[0].specimen == "B" and r.problems[0].locus == "DYS389II"


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("a.csv", "specimen,DYS19", "csv"),
        ("a.txt", "Sample Name\tMarker\tAllele 1", "genemapper"),
        ("a.csv", "Haplotype\tDYS19", "yhrd"),
        ("a.csv", "DYS19,DYS390,n", "yhrd"),
        ("a.dat", '{"format": "patriline-haplotypes"}', "json"),
        ("a.yhrd.txt", "x\tDYS19", "yhrd"),
    ],
)
def test_detect_format__cases(name: str, head: str, fmt: str) -> None:
    assert detect_format(name, head + "\n") == fmt


def test_write__loci_restrict_and_unknown_format(tmp_path: Path) -> None:
    rec = Record("S1", parse_haplotype_string("DYS19=14,DYS390=24"), 2)
    with pytest.raises(InputError, match="DYS390"):
        write([rec], tmp_path / "x.csv", loci=["DYS19"])
    with pytest.raises(InputError, match="unknown format"):
        write([rec], tmp_path / "x.csv", format="xls")
    assert write([rec], tmp_path / "x.csv", loci=["DYS19", "DYS390", "DYS391"]) == 1
    header = (tmp_path / "x.csv").read_text().splitlines()[0]
    assert header == "specimen,DYS19,DYS390,DYS391"


@pytest.mark.parametrize(
    "name",
    ["yfiler_plus.csv", "genemapper_export.txt", "messy_lab_export.csv", "haplotypes.yhrd.tsv"],
)
def test_read_encoded__equals_read_then_encode(name: str) -> None:
    """Fast path (columnar CSV) and fallback (other formats, per-copy columns) both equal
    ``encode(read(...))``."""
    layout = Layout.universal()
    slow = read(EXAMPLES / name)
    fast = read_encoded(EXAMPLES / name, layout)
    expected = encode([r.haplotype for r in slow.records], layout)
    assert fast.ids == [r.specimen for r in slow.records]
    assert fast.lines == [r.line for r in slow.records]
    np.testing.assert_array_equal(fast.encoded.values, expected.values)
    assert fast.encoded.extras == expected.extras
    assert fast.rows == slow.rows


def test_read_genemapper__question_mark_call_is_a_problem(tmp_path: Path) -> None:
    """Problem (issue 14.7): a GeneMapper ``?`` call is a reported problem, not a drop."""
    from patriline.io import read

    path = tmp_path / "gm.txt"
    path.write_text("Sample Name\tMarker\tAllele 1\nG1\tDYS19\t14\nG1\tDYS390\t?\n")
    res = read(path, strict=False)
    assert res.records == []
    (p,) = res.problems
    assert (p.specimen, p.locus, p.value) == ("G1", "DYS390", "?")
    assert "not a documented missing word" in p.reason
