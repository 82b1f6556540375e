"""``patriline search`` and ``patriline pairs`` in-process (thin layer over the library)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.store import Database
from plugins.approvals import approve
from plugins.postgres import record

FATHER = "DYS19=14;DYS389I=13;DYS389II=29;DYS390=24;DYS391=11;DYS392=13;DYS393=13;DYS385=11,14;DYS437=15;DYS438=12;DYS439=12"
SON = FATHER.replace("DYS439=12", "DYS439=13")


@pytest.fixture
def cli_store_fixture(tmp_path: Path) -> str:
    url = str(tmp_path / "store.db")
    db = Database.create(url, "admin")
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("sue", "supervisor")
    ann = db.actor("ann")
    Session(db, ann).import_records([record("F1", FATHER), record("S1", SON)])
    Session(db, ann).open_case("C1", purpose="test", legal_basis="test")
    # Familial approvals name the trace and bounds searched (and one pairs run).
    approve(db, "sue", "C1", SON, max_mismatches=1)
    approve(db, "sue", "C1", FATHER, max_steps=2)
    approve(db, "sue", "C1", max_mismatches=1)
    db.close()
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_search__json_shape(cli_store_fixture: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "search", "--db", cli_store_fixture, "--user", "ann", "--case", "C1",
        "--haplotype", SON.replace(";", ","), "--max-mismatches", "1", "--json",
    )  # fmt: skip
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    assert set(doc) >= {"query", "candidates", "provenance"}
    first = doc["candidates"][0]
    assert first["specimen"] == "S1" and first["mismatches"] == 0
    assert set(first) >= {
        "specimen",
        "loci_compared",
        "mismatches",
        "steps",
        "meioses_mode",
        "meioses_90",
        "score",
    }
    assert [c["specimen"] for c in doc["candidates"]] == ["S1", "F1"]


def test_search__traces_file_and_table(
    cli_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces = tmp_path / "traces.csv"
    traces.write_text("specimen,DYS19,DYS390,DYS391,DYS392,DYS393,DYS389I,DYS389II,DYS385,DYS437,DYS438,DYS439\n"
                      'T1,14,24,11,13,13,13,29,"11,14",15,12,12\n'
                      'T2,15,22,10,11,14,12,28,"12,15",14,10,11\n')  # fmt: skip
    code, out, _ = run(
        capsys, "search", "--db", cli_store_fixture, "--user", "ann", "--case", "C1",
        "--traces", str(traces), "--json",
    )  # fmt: skip
    assert code == 0
    docs = json.loads(out)
    assert [d["query"]["trace"] for d in docs] == ["T1", "T2"]
    assert [c["specimen"] for c in docs[0]["candidates"]] == ["F1"]
    assert docs[1]["candidates"] == []
    code, out, _ = run(
        capsys, "search", "--db", cli_store_fixture, "--user", "ann", "--case", "C1",
        "--haplotype", FATHER, "--max-steps", "2", "--explain",
    )  # fmt: skip
    assert code == 0 and "S1" in out and "DYS439" in out


def test_pairs__bulk_list_refused(
    cli_store_fixture: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(
        capsys, "pairs", "--db", cli_store_fixture, "--user", "ann", "--case", "C1",
        "--max-mismatches", "1", "--json",
    )  # fmt: skip
    assert code == 3  # a bulk pair list is refused (issue 12 item 7)
    assert "not built" in err


def test_search__errors_are_messages(
    cli_store_fixture: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "search", "--db", cli_store_fixture, "--user", "ann", "--case", "C1",
        "--haplotype", "DYS19=14,DYS390=banana",
    )  # fmt: skip
    assert code == 2 and "error:" in err and "DYS390" in err and "Traceback" not in err
    code, _, err = run(capsys, "search", "--db", cli_store_fixture, "--user", "ann", "--case", "C1")
    assert code == 2 and "exactly one of" in err
