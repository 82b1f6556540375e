"""Real exports read as published (issue 14 item 21), with documented options only.

Classes: both DYS389II and DYS389II-I present (checked I + (II − I) = II, refused only
when they disagree); ``0`` for a null allele (``zero_null``, and a hint in the range
error); a derived column set aside (``ignore_columns``); duplicate IDs reported with
their populations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.haplotype import AlleleKind
from patriline.io import read

PURPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "purps2014_ppy23.csv"


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


def test_dys389_both_forms__agree_or_refused(tmp_path: Path) -> None:
    f = _csv(tmp_path, "id,DYS389I,DYS389II,DYS389II.I\nA,13,29,16\nB,13,29,17\n")
    res = read(f, strict=False)
    assert [r.specimen for r in res.records] == ["A"]
    assert res.records[0].haplotype["DYS389II"].values == (290,)
    (problem,) = res.problems
    assert (
        problem.specimen == "B"
        and "disagree" in problem.reason
        and "13 + 17 = 30" in problem.reason
    )


def test_zero_null__option_and_hint(tmp_path: Path) -> None:
    f = _csv(tmp_path, "id,DYS19,DYS448\nA,14,0\n")
    res = read(f, strict=False)
    assert not res.records and "--zero-null" in res.problems[0].reason
    res = read(f, strict=False, zero_null=True)
    assert res.records[0].haplotype["DYS448"].kind is AlleleKind.NULL


def test_ignore_column__derived_column_set_aside(tmp_path: Path) -> None:
    f = _csv(tmp_path, 'id,DYS19,DYS385ab,DYS385sum\nA,14,"11,14",25\n')
    with pytest.raises(Exception, match="DYS385sum"):
        read(f)
    res = read(f, ignore_columns=["dys385SUM"])
    assert res.records[0].haplotype["DYS385"].values == (110, 140)
    assert res.records[0].fields == {"DYS385sum": "25"}


def test_duplicate_ids__reported_with_their_populations(tmp_path: Path) -> None:
    f = _csv(tmp_path, "ID,Population,DYS19\n1,Basel,14\n1,Beijing,15\n2,Basel,14\n2,Basel,14\n")
    res = read(f, strict=False)
    reasons = {p.line: p.reason for p in res.problems}
    assert "population 'Basel' there, 'Beijing' here" in reasons[3]
    assert "population" not in reasons[5]  # same population: a plain duplicate


@pytest.mark.skipif(not PURPS.exists(), reason="shared/data/purps2014_ppy23.csv not present")
def test_purps2014__reads_with_documented_options() -> None:
    """The 19,630-man PPY23 table as published: with ``zero_null`` every problem left is
    a duplicate ID (IDs repeat across populations) or a duplicated DYS389II-I allele."""
    res = read(PURPS, strict=False, zero_null=True)
    assert res.rows == 19630
    left = [p.reason for p in res.problems if "duplicate specimen ID" not in p.reason]
    assert all("not a repeat number (DYS389II-I)" in r for r in left) and len(left) <= 10
    nulls = sum(
        1 for r in res.records for a in r.haplotype.alleles.values() if a.kind is AlleleKind.NULL
    )
    assert nulls > 50  # the published 0 cells (DYS448 alone has dozens)
