"""Bad input: every error kind gives a clear problem (file, line, column, specimen, locus,
value, reason, suggestion), never a traceback; strict raises, lenient lists every row."""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.encoding import Layout
from patriline.errors import InputError
from patriline.io import ReadError, read, read_encoded

DATA = Path(__file__).parent / "data" / "io"


def _lenient(name: str, **kw: object):  # type: ignore[no-untyped-def]
    result = read(DATA / name, strict=False, **kw)  # type: ignore[arg-type]
    rejected = {p.line for p in result.problems}
    assert result.rows == result.accepted + result.rejected_rows
    assert result.rejected_rows == len(rejected)  # every rejected row has its problem(s)
    return result


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("binary_garbage.csv", None, "binary"),
        ("latin1.csv", 3, "not UTF-8"),
        ("empty.csv", None, "empty file"),
        ("blank_lines.csv", None, "empty file"),
        ("no_specimen_column.csv", 1, "no specimen column"),
        ("locus_twice.csv", 1, "listed twice"),
        ("locus_twice_copies.csv", 1, "listed twice"),
        ("bad_version.json", None, "version 99"),
        ("broken.json", 3, "not valid JSON"),
    ],
)
def test_read__file_level_errors(name: str, line: int | None, words: str) -> None:
    """File-level problems raise ReadError (an InputError) in strict and lenient mode."""
    for strict in (True, False):
        with pytest.raises(ReadError) as info:
            read(DATA / name, strict=strict)
        problem = info.value.problem
        assert problem.file.endswith(name)
        assert problem.line == line
        assert words in problem.reason
        assert isinstance(info.value, InputError)
        assert name in str(info.value)


def test_read__missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file not found"):
        read(tmp_path / "nope.csv")
    with pytest.raises(ReadError, match="directory"):
        read(tmp_path)


def test_read__unknown_locus_header_suggests() -> None:
    with pytest.raises(ReadError) as info:
        read(DATA / "unknown_locus.csv")
    p = info.value.problem
    assert (p.line, p.column, p.suggestion) == (1, "DYS39O", "DYS390")
    assert "did you mean DYS390?" in str(info.value)
    with pytest.raises(ReadError, match="unknown locus"):
        read(DATA / "unknown_locus_far.csv")


def test_read__duplicate_ids() -> None:
    with pytest.raises(ReadError) as info:
        read(DATA / "duplicate_ids.csv")
    assert info.value.problem.line == 4
    assert "duplicate specimen ID (first on line 2)" in info.value.problem.reason
    result = _lenient("duplicate_ids.csv")
    assert [r.specimen for r in result.records] == ["A1", "A2"]
    assert result.records[0].haplotype["DYS390"].values == (240,)  # the first one is kept
    assert result.rows == 3


def test_read__impossible_values_named() -> None:
    """Negative, 999, 15.7 at a 4-bp locus and text are each reported with their cell."""
    with pytest.raises(ReadError) as info:
        read(DATA / "impossible_values.csv")
    first = info.value.problem
    assert (first.line, first.specimen, first.locus, first.value) == (2, "N1", "DYS19", "-3")
    result = _lenient("impossible_values.csv")
    assert [r.specimen for r in result.records] == ["OK1"]
    got = {(p.specimen, p.locus, p.value) for p in result.problems}
    assert got == {
        ("N1", "DYS19", "-3"),
        ("N2", "DYS19", "999"),
        ("N3", "DYS458", "15.7"),
        ("N4", "DYS390", "abc"),
    }
    reasons = {p.specimen: p.reason for p in result.problems}
    assert "negative" in reasons["N1"]
    assert "plausible range" in reasons["N2"]
    assert "impossible intermediate" in reasons["N3"]
    assert "not a repeat number" in reasons["N4"]


def test_read__ragged_rows() -> None:
    """Extra non-empty cells reject the row; short rows are padded (Excel drops trailing cells)."""
    result = _lenient("ragged_row.csv")
    assert [r.specimen for r in result.records] == ["A1", "A3"]
    assert result.problems[0].line == 3 and "5 cells" in result.problems[0].reason


def test_read__missing_id_unknown_kit_not_in_kit() -> None:
    r = _lenient("missing_id.csv")
    assert [x.specimen for x in r.records] == ["B"] and r.problems[0].reason == "no specimen ID"
    r = _lenient("unknown_kit.csv")
    assert [x.kit for x in r.records] == ["yfiler"]
    assert r.problems[0].value == "yfilre" and "unknown kit" in r.problems[0].reason
    r = _lenient("not_in_kit.csv", kit="Yfiler")
    assert [x.specimen for x in r.records] == ["A2"]
    assert (r.problems[0].locus, r.problems[0].reason) == ("DYS576", "locus not in kit yfiler")
    with pytest.raises(InputError, match="unknown kit"):
        read(DATA / "not_in_kit.csv", kit="nokit")


def test_read_genemapper__problems() -> None:
    """A marker twice for one sample, an unknown marker (with suggestion); Yindel is kept."""
    r = _lenient("genemapper_problems.txt")
    assert r.format == "genemapper" and r.rows == 3
    assert [x.specimen for x in r.records] == ["G3"]
    assert r.records[0].fields == {"Yindel": "2"}
    assert r.records[0].line == 5
    twice, unknown = r.problems
    assert (twice.line, twice.specimen, twice.locus) == (3, "G1", "DYS19")
    assert (unknown.line, unknown.value, unknown.suggestion) == (4, "24", "DYS390")


def test_read_json__problems() -> None:
    r = _lenient("json_problems.json")
    assert r.rows == 4 and [x.specimen for x in r.records] == ["J1"]
    shape, value, locus = r.problems
    assert shape.column == "records[1]" and "specimen" in shape.reason
    assert (value.line, value.locus, value.value) == (3, "DYS19", "999")
    assert locus.suggestion == "DYS390"


def test_read_encoded__same_problems_as_read() -> None:
    """The columnar fast path reports exactly the problems the record reader reports."""
    layout = Layout.universal()
    for name in ("impossible_values.csv", "duplicate_ids.csv", "ragged_row.csv", "missing_id.csv"):
        slow = read(DATA / name, strict=False)
        fast = read_encoded(DATA / name, layout, strict=False)
        assert fast.problems == slow.problems, name
        assert fast.ids == [r.specimen for r in slow.records]
        assert fast.rows == slow.rows
    with pytest.raises(ReadError, match="negative"):
        read_encoded(DATA / "impossible_values.csv", layout)
    small = Layout.for_loci(["DYS19"])
    fast = read_encoded(DATA / "not_in_kit.csv", small, strict=False)
    assert fast.ids == ["A2"] and fast.problems[0].locus == "DYS576"
