"""Link readers (CSV, PED, TGF) and the pedigree rules: self-links, two fathers, cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.errors import InputError
from patriline.io.model import ReadError
from patriline.pedigree.links_io import read_links
from patriline.pedigree.model import Link, LinkConflict, Pedigree


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_links__csv_with_source_and_confidence(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "links.csv",
        "son,father,source,confidence\nB,A,church book,0.9\nC,A,,\nD,B,interview,1\n",
    )
    r = read_links(path)
    assert r.format == "csv" and r.rows == 3 and r.accepted == 3
    assert r.links[0] == Link("B", "A", "church book", 0.9, 2)
    assert r.links[1].source is None and r.links[1].confidence is None
    assert r.links[2].line == 4


def test_read_links__csv_semicolon_and_unknown_father(tmp_path: Path) -> None:
    path = _write(tmp_path, "l.txt", "child;father\nB;A\nC;0\n")
    r = read_links(path)
    assert [(x.son, x.father) for x in r.links] == [("B", "A")]
    assert r.skipped == 1 and r.rows == 2


def test_read_links__csv_missing_columns_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match=r"bad\.csv:1: .*'son' and 'father'"):
        read_links(path)


def test_read_links__csv_bad_confidence_strict_and_lenient(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.csv", "son,father,confidence\nB,A,high\nC,A,0.5\n")
    with pytest.raises(ReadError) as info:
        read_links(path)
    p = info.value.problem
    assert (p.line, p.column, p.value) == (2, "confidence", "high")
    assert "c.csv:2" in str(info.value)
    r = read_links(path, strict=False)
    assert r.accepted == 1 and len(r.problems) == 1 and r.rows == 2


def test_read_links__self_link_rejected_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "son,father\nB,A\nC,C\n")
    with pytest.raises(ReadError, match=r"s\.csv:3.*own father"):
        read_links(path)


def test_read_links__two_fathers_in_file_and_against_existing(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "son,father\nB,A\nB,X\n")
    with pytest.raises(ReadError, match=r"t\.csv:3.*column 'son'.*'B'.*already has the father A"):
        read_links(path)
    path2 = _write(tmp_path, "t2.csv", "son,father\nB,Y\nC,A\n")
    r = read_links(path2, strict=False, existing=[Link("B", "A")])
    assert [x.son for x in r.links] == ["C"]
    assert r.problems[0].line == 2 and "already has the father A" in r.problems[0].reason


def test_read_links__same_link_again_is_not_new(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "son,father\nB,A\nB,A\n")
    r = read_links(path, existing=[("C", "A")])
    assert r.accepted == 1 and r.skipped == 1 and r.problems == []


def test_read_links__cycle_rejected_also_through_existing(tmp_path: Path) -> None:
    path = _write(tmp_path, "cy.csv", "son,father\nB,A\nC,B\nA,C\n")
    with pytest.raises(ReadError, match=r"cy\.csv:4.*cycle of fathers: A -> C -> B -> A"):
        read_links(path)
    path2 = _write(tmp_path, "cy2.csv", "son,father\nA,C\n")
    with pytest.raises(ReadError, match="cycle"):
        read_links(path2, existing=[("B", "A"), ("C", "B")])


def test_read_links__ped_takes_male_father_links(tmp_path: Path) -> None:
    text = (
        "# family individual father mother sex phenotype\n"
        "F1 A 0 0 1 0\n"
        "F1 W 0 0 2 0\n"
        "F1 B A W 1 0\n"
        "F1 D A W 2 0\n"
        "F1 C B 0 0 0\n"
        "F1 E C 0 1 0\n"
    )
    r = read_links(_write(tmp_path, "fam.ped", text))
    assert r.format == "ped"
    # D is a daughter (no Y link); C has unknown sex but is E's father, so he is male.
    assert [(x.son, x.father) for x in r.links] == [("B", "A"), ("C", "B"), ("E", "C")]
    assert r.rows == 6 and r.skipped == 3  # A and W without father, D female


def test_read_links__ped_bad_rows(tmp_path: Path) -> None:
    text = "F1 A 0 0 1\nF1 B A 0 7\nF1 C W 0 1\nF1 W 0 0 2\nF1 D\n"
    r = read_links(_write(tmp_path, "bad.ped", text), strict=False)
    reasons = {p.line: p.reason for p in r.problems}
    assert "sex must be" in reasons[2]
    assert "female" in reasons[3]
    assert "needs family" in reasons[5]
    assert r.links == []


def test_read_links__tgf(tmp_path: Path) -> None:
    text = "1 Anders\n2 Bo\n3 Carl\n#\n1 2 register\n2 3\n"
    r = read_links(_write(tmp_path, "tree.tgf", text))
    assert [(x.son, x.father, x.source) for x in r.links] == [
        ("2", "1", "register"),
        ("3", "2", None),
    ]
    assert r.links[0].line == 5


def test_read_links__tgf_errors(tmp_path: Path) -> None:
    r = read_links(_write(tmp_path, "e.tgf", "1\n2\n#\n1 9\n1\n"), strict=False)
    assert [(p.line, p.value) for p in r.problems] == [(4, "9"), (5, "1")]
    with pytest.raises(InputError, match="no '#' line"):
        read_links(_write(tmp_path, "n.tgf", "1\n2\n"), format="tgf")


def test_read_links__detects_format_from_content(tmp_path: Path) -> None:
    assert read_links(_write(tmp_path, "a.dat", "1\n2\n#\n1 2\n")).format == "tgf"
    assert read_links(_write(tmp_path, "b.dat", "son,father\nB,A\n")).format == "csv"
    assert read_links(_write(tmp_path, "c.dat", "F A 0 0 1\nF B A 0 1\n")).format == "ped"
    with pytest.raises(InputError, match="cannot tell"):
        read_links(_write(tmp_path, "d.dat", "hello\n"))
    with pytest.raises(InputError, match="no such file"):
        read_links(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown link format"):
        read_links(_write(tmp_path, "e.csv", "son,father\n"), format="gedcom")


def test_pedigree__rules_and_queries() -> None:
    p = Pedigree([("B", "A"), ("C", "A"), ("D", "B"), ("E", "D")], persons=["Z"])
    assert p.meioses("E", "C") == 4 and p.meioses("E", "A") == 3 and p.meioses("A", "A") == 0
    assert p.meioses("E", "Z") is None
    assert list(p.ancestors("E")) == ["D", "B", "A"]
    assert p.descendants("A") == {"B": 1, "C": 1, "D": 2, "E": 3}
    assert p.descendants("A", 2) == {"B": 1, "C": 1, "D": 2}
    assert sorted(p.roots()) == ["A", "Z"]
    with pytest.raises(LinkConflict, match="own father") as info:
        p.add(Link("Q", "Q"))
    assert info.value.kind == "self"
    with pytest.raises(LinkConflict) as info2:
        p.add(Link("A", "E"))
    assert info2.value.kind == "cycle"
    assert p.add(Link("B", "A")) is False


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=30))
def test_pedigree__meioses_symmetric_and_path_length(parents: list[int]) -> None:
    """On random forests (man i+1's father is an earlier man or none) meioses are
    symmetric and equal depth(a) + depth(b) − 2·depth(common ancestor)."""
    links = [(f"M{i + 1}", f"M{f}") for i, f in enumerate(parents) if f <= i]
    ped = Pedigree(links, [f"M{i}" for i in range(len(parents) + 1)])
    men = list(ped)
    for a in men[:8]:
        for b in men[:8]:
            m = ped.meioses(a, b)
            assert m == ped.meioses(b, a)
            up_a = [a, *ped.ancestors(a)]
            up_b = [b, *ped.ancestors(b)]
            common = [x for x in up_a if x in up_b]
            if common:
                assert m == up_a.index(common[0]) + up_b.index(common[0])
            else:
                assert m is None
