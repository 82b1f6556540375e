"""``patriline links import`` and ``patriline expand`` run in-process against a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.haplotype import parse_haplotype_string as hap
from patriline.io.model import Record
from patriline.store.database import Database
from plugins.approvals import approve

#: The specimens below are named by hand, not hits of a search: the audited reason.
REASON = ["--reason", "test: hit named by hand"]


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "store.db")
    with Database.create(path, "admin") as db:
        admin = db.actor("admin")
        Session(db, admin).add_user("ana", "analyst")
        Session(db, db.actor("ana")).open_case("C1", purpose="cold case", legal_basis="court order")
        # Expansion needs a live familial approval of the case (and hits, or --reason).
        approve(db, "admin", "C1", "DYS19=15,DYS390=24", max_mismatches=1)
        Session(db, admin).import_records(
            [
                Record("spF", hap("DYS19=14,DYS390=24"), 2, person="F"),
                Record("spS1", hap("DYS19=15,DYS390=24"), 3, person="S1"),
            ],
        )
    return path


def _links(tmp_path: Path, text: str, name: str = "links.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_links_import__json_summary(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _links(tmp_path, "son,father\nS1,F\nS2,F\nG1,S1\nG2,S2\n")
    code = main(["links", "import", f, "--db", store_path, "--user", "ana", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["rows"] == 4 and doc["added"] == 4 and doc["rejected"] == 0
    with Database.open(store_path) as db:
        assert {(x.son, x.father) for x in db.links()} >= {("S1", "F"), ("G2", "S2")}
    # Importing again changes nothing.
    assert main(["links", "import", f, "--db", store_path, "--user", "ana", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == 0


def test_links_import__strict_error_names_file_and_line(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "links",
                "import",
                _links(tmp_path, "son,father\nS1,F\n"),
                "--db",
                store_path,
                "--user",
                "ana",
            ]
        )
        == 0
    )
    bad = _links(tmp_path, "son,father\nS2,F\nF,S1\n", "bad.csv")
    code = main(["links", "import", bad, "--db", store_path, "--user", "ana"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.csv:3" in err and "cycle" in err and "Traceback" not in err
    with Database.open(store_path) as db:
        assert ("S2", "F") not in {(x.son, x.father) for x in db.links()}  # all or nothing


def test_links_import__lenient_ped(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ped = _links(tmp_path, "X F 0 0 1\nX S1 F 0 1\nX S3 F 0 7\nX D F 0 2\n", "fam.ped")
    code = main(
        ["links", "import", ped, "--db", store_path, "--user", "ana", "--lenient", "--json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["format"] == "ped" and doc["added"] == 1 and doc["rejected"] == 1
    assert doc["problems"][0]["line"] == 3 and doc["problems"][0]["column"] == "sex"


def test_expand__json_members_and_svg(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _links(tmp_path, "son,father\nS1,F\nS2,F\nG1,S1\nG2,S2\n")
    assert main(["links", "import", f, "--db", store_path, "--user", "ana"]) == 0
    capsys.readouterr()
    svg = tmp_path / "tree.svg"
    args = [
        "expand",
        "--db",
        store_path,
        "--user",
        "ana",
        "--case",
        "C1",
        "--specimen",
        "spS1",
        *REASON,
    ]
    code = main([*args, "--haplotype", "DYS19=15,DYS390=24", "--json", "--svg", str(svg)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["hit"] == "spS1"
    members = {m["person"]: m for m in doc["members"]}
    assert set(members) == {"F", "S1", "S2", "G1", "G2"}
    assert set(members["G1"]) >= {
        "person",
        "specimen",
        "meioses_from_hit",
        "typed",
        "p_match",
        "rank",
    }
    assert members["G1"]["rank"] == 1 and members["F"]["specimen"] == "spF"
    assert svg.read_text().lstrip().startswith("<?xml")
    # Table output, and a trace file instead of --haplotype.
    trace = tmp_path / "trace.csv"
    trace.write_text("specimen,DYS19,DYS390\nT1,15,24\n", encoding="utf-8")
    assert main([*args, "--trace", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "G1" in out and "P(donor)" in out


def test_expand__json_two_families(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two unrelated hits: one JSON document with both families, every member tagged
    with his family's first hit, posteriors summing to 1 over both families."""
    f = _links(tmp_path, "son,father\nS1,F\nS2,F\nB1,B0\nB2,B0\n")
    assert main(["links", "import", f, "--db", store_path, "--user", "ana"]) == 0
    with Database.open(store_path) as db:
        Session(db, db.actor("admin")).import_records(
            [Record("spB1", hap("DYS19=15,DYS390=24"), 4, person="B1")]
        )
    capsys.readouterr()
    args = ["expand", "--db", store_path, "--user", "ana", "--case", "C1", *REASON]
    args += ["--specimen", "spS1", "--specimen", "spB1", "--haplotype", "DYS19=15,DYS390=24"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["hits"] == ["spS1", "spB1"]
    assert [x["family"] for x in doc["families"]] == ["spS1", "spB1"]
    fam = {m["person"]: m["family"] for m in doc["members"]}
    assert fam == {"F": "spS1", "S1": "spS1", "S2": "spS1", "B0": "spB1", "B1": "spB1",
                   "B2": "spB1"}  # fmt: skip
    gen = {m["person"]: m["generation"] for m in doc["members"]}
    assert gen["B0"] == -1 and gen["B2"] == 0
    untested = [m for m in doc["members"] if not m["typed"]]
    assert sum(m["posterior"] for m in untested) == pytest.approx(1.0)
    assert sum(x["posterior"] for x in doc["families"]) == pytest.approx(1.0)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 families" in out and "P(donor in this family)" in out


def test_expand__errors_are_messages(store_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["expand", "--db", store_path, "--user", "ana", "--specimen", "spS1", *REASON]
    assert main([*args, "--case", "NOPE"]) == 3
    assert "does not exist" in capsys.readouterr().err
    assert main([*args, "--case", "C1", "--haplotype", "DYS19=999"]) == 2
    err = capsys.readouterr().err
    assert "DYS19" in err and "999" in err
    assert (
        main(
            [
                "expand",
                "--db",
                store_path,
                "--user",
                "ana",
                "--case",
                "C1",
                "--specimen",
                "nope",
                *REASON,
            ]
        )
        == 4
    )


def test_expand__rate_founder_and_outside_options(
    tmp_path: Path, store_path: str, danes_path_fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--outside-prior/--outside-frequency: the JSON's outside posterior equals
    π·q / (π·q + (1 − π)·mean p_match of the untested men) recomputed from the members;
    --founder-frequencies and --rate-points are described in ``prior``; the SVG legend
    shows P(outside)."""
    f = _links(tmp_path, "son,father\nS1,F\nS2,F\nG1,S1\nG2,S2\n")
    assert main(["links", "import", f, "--db", store_path, "--user", "ana"]) == 0
    capsys.readouterr()
    args = [
        "expand",
        "--db",
        store_path,
        "--user",
        "ana",
        "--case",
        "C1",
        "--specimen",
        "spS1",
        *REASON,
    ]
    args += ["--haplotype", "DYS19=15,DYS390=24", "--json"]
    svg = tmp_path / "tree.svg"
    extra = ["--outside-prior", "0.2", "--outside-frequency", "0.01", "--svg", str(svg)]
    assert main([*args, *extra, "--founder-frequencies", str(danes_path_fixture)]) == 0
    doc = json.loads(capsys.readouterr().out)
    untested = [m for m in doc["members"] if not m["typed"]]
    tree = 0.8 * sum(m["p_match"] for m in untested) / len(untested)
    assert doc["outside"]["posterior"] == pytest.approx(0.002 / (0.002 + tree))
    total = doc["outside"]["posterior"] + sum(m["posterior"] for m in untested)
    assert total == pytest.approx(1.0)
    assert "danes_ystr.csv" in doc["prior"]["founders"] and "Gauss" in doc["prior"]["rates"]
    assert doc["prior"]["outside_tree"] == 0.2
    assert "P(donor outside the tree)" in svg.read_text()
    assert main([*args, "--rate-points", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outside"] is None and doc["prior"]["rates"] == "point rates"
    assert doc["prior"]["founders"].startswith("uniform")
    assert main([*args, "--outside-frequency", "0.01"]) == 2
    assert "--outside-prior" in capsys.readouterr().err
    assert main([*args, "--outside-prior", "0.1"]) == 2
    assert "population frequency" in capsys.readouterr().err


BASE = "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=10,DYS392=13,DYS393=13,DYS437=15,DYS438=12,DYS439=11"


def test_expand__top_hits_searches_then_expands_every_tied_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two unrelated men carry the trace's profile (tied at the top score) and a third
    differs by one step: `--top-hits` searches the case, expands both tied families
    together and leaves the third out; the search and the expansion are both audited."""
    path = str(tmp_path / "store.db")
    near = BASE.replace("DYS19=14", "DYS19=15")
    with Database.create(path, "admin") as db:
        admin = db.actor("admin")
        Session(db, admin).add_user("ana", "analyst")
        Session(db, admin).add_user("sam", "supervisor")
        Session(db, db.actor("ana")).open_case("C1", purpose="cold case", legal_basis="court order")
        Session(db, admin).import_records(
            [
                Record("spA", hap(BASE), 2, person="A1"),
                Record("spB", hap(BASE), 3, person="B1"),
                Record("spC", hap(near), 4, person="C1"),
            ],
        )
    f = _links(tmp_path, "son,father\nA1,A0\nA2,A0\nB1,B0\nB2,B0\nC1,C0\nC2,C0\n")
    assert main(["links", "import", f, "--db", path, "--user", "ana"]) == 0
    args = ["expand", "--db", path, "--user", "ana", "--case", "C1", "--top-hits"]
    assert main([*args, "--haplotype", BASE]) == 3  # familial search needs approval
    assert "needs approval" in capsys.readouterr().err
    with Database.open(path) as db:
        approve(db, "sam", "C1", BASE, max_mismatches=3)  # the trace and bounds searched
    assert main([*args, "--haplotype", BASE, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(doc["top_hits"]["specimens"]) == ["spA", "spB"]
    assert doc["top_hits"]["tied"] == 2 and not doc["top_hits"]["truncated"]
    assert {x["family"] for x in doc["families"]} == {"spA", "spB"}
    persons = {m["person"] for m in doc["members"]}
    assert persons == {"A0", "A1", "A2", "B0", "B1", "B2"}
    with Database.open(path) as db:
        actions = [e.action for e in Session(db, db.actor("admin")).audit_entries(case="C1")]
    assert actions[-3:] == ["search_familial", "read_identity", "expand"]
    assert main([*args, "--haplotype", BASE, "--specimen", "spA"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(args) == 2
    assert "--trace or --haplotype" in capsys.readouterr().err


def test_expand__prior_file_restricts_and_weights_the_donors(
    tmp_path: Path, store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--prior person,weight`: unlisted men get weight 0 (or --default-weight); the
    posterior is w·p_match normalised — recomputed here from the printed p_match."""
    f = _links(tmp_path, "son,father\nS1,F\nS2,F\nG1,S1\nG2,S2\n")
    assert main(["links", "import", f, "--db", store_path, "--user", "ana"]) == 0
    prior = tmp_path / "prior.csv"
    prior.write_text("person,weight\nG1,0\nG2,2\n", encoding="utf-8")
    args = [
        "expand",
        "--db",
        store_path,
        "--user",
        "ana",
        "--case",
        "C1",
        "--specimen",
        "spS1",
        *REASON,
    ]
    args += ["--haplotype", "DYS19=15,DYS390=24", "--json", "--prior", str(prior)]
    capsys.readouterr()
    assert main(args) == 0
    post = {m["person"]: m["posterior"] for m in json.loads(capsys.readouterr().out)["members"]}
    assert post["G2"] == pytest.approx(1.0) and post["G1"] == 0 and post["S2"] == 0
    assert main([*args, "--default-weight", "1"]) == 0
    members = {m["person"]: m for m in json.loads(capsys.readouterr().out)["members"]}
    w = {"G1": 0.0, "G2": 2.0, "S2": 1.0}
    total = sum(w[p] * members[p]["p_match"] for p in w)
    for p in w:
        assert members[p]["posterior"] == pytest.approx(w[p] * members[p]["p_match"] / total)
    prior.write_text("person,weight\nG1,0\nG2,-1\n", encoding="utf-8")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "prior.csv: line 3, column weight: '-1'" in err
    prior.write_text("man,weight\nG1,1\n", encoding="utf-8")
    assert main(args) == 2
    assert "'person' and 'weight'" in capsys.readouterr().err
