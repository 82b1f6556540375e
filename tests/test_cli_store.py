"""The store CLI, in-process through ``patriline.cli.main`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patriline.cli import main
from patriline.store import Database
from plugins.tamper import attacker

CSV = 'specimen,category,retention_until,DYS19,DYS390,DYS385\nA1,arrestee,2020-01-01,14,24,"11,14"\nA2,volunteer,,15,23,"12,13"\nA3,bogus,,15,23,12\n'


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_store_fixture(
    store_url_fixture: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.setenv("PATRILINE_DB", store_url_fixture)
    monkeypatch.setenv("PATRILINE_USER", "boss")
    code, out, _ = _run(capsys, "init", store_url_fixture)
    assert code == 0 and "admin: boss" in out
    return store_url_fixture


def test_cli_import__atomic_then_lenient_json(
    cli_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "h.csv"
    f.write_text(CSV)
    code, _, err = _run(capsys, "import", str(f))
    assert code == 2 and "h.csv:4" in err and "'bogus'" in err and "Traceback" not in err
    rej = tmp_path / "rej.csv"
    code, out, _ = _run(capsys, "import", str(f), "--lenient", "--rejects", str(rej), "--json")
    assert code == 0
    assert json.loads(out) == {"rows": 3, "added": 2, "unchanged": 0, "conflicts": 0, "rejected": 1}
    assert "bogus" in rej.read_text()
    code, out, _ = _run(capsys, "import", str(f), "--lenient", "--rejects", str(rej), "--json")
    assert json.loads(out)["unchanged"] == 2


def test_cli_import__conflict_exits_5_unless_allowed(
    cli_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ConflictError (issue 14.5): exit 5 and nothing written; --allow-conflicts imports the rest."""
    f = tmp_path / "h.csv"
    f.write_text("specimen,category,DYS19\nA1,arrestee,14\n")
    assert _run(capsys, "import", str(f))[0] == 0
    f.write_text("specimen,category,DYS19\nA1,arrestee,15\nA2,arrestee,16\n")
    code, _, err = _run(capsys, "import", str(f))
    assert code == 5 and "specimen A1" in err and "stored DYS19=14" in err
    assert "incoming DYS19=15" in err and "Traceback" not in err
    code, out, _ = _run(capsys, "import", str(f), "--json")
    assert code == 5
    code, out, _ = _run(capsys, "import", str(f), "--allow-conflicts", "--json")
    assert code == 0 and json.loads(out)["added"] == 1 and json.loads(out)["conflicts"] == 1


def test_cli_case_audit_expunge_retention_info(
    cli_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "h.csv"
    f.write_text(CSV.rsplit("A3", 1)[0])
    assert _run(capsys, "import", str(f))[0] == 0
    assert _run(capsys, "user", "add", "sue", "--role", "supervisor")[0] == 0
    assert _run(capsys, "user", "add", "aud", "--role", "auditor")[0] == 0
    assert _run(capsys, "user", "set-role", "aud", "--role", "analyst")[0] == 0
    code, out, _ = _run(capsys, "user", "list")
    assert code == 0 and "aud\tanalyst" in out.splitlines()
    assert _run(capsys, "user", "set-role", "aud", "--role", "auditor")[0] == 0
    assert (
        _run(capsys, "case", "open", "C1", "--purpose", "robbery", "--legal-basis", "warrant 7")[0]
        == 0
    )
    # The approval names the trace (here by its digest) and the bounds.
    trace = ["--trace-sha256", "ab" * 32, "--max-mismatches", "2"]
    code, _, err = _run(capsys, "case", "approve", "C1", "--familial", *trace)
    assert code == 3 and "another supervisor" in err
    assert _run(capsys, "case", "approve", "C1", "--familial", *trace, "--user", "sue")[0] == 0
    code, out, _ = _run(capsys, "audit", "show", "--case", "C1", "--json", "--user", "aud")
    # the refused self-approval is audited too
    assert [e["action"] for e in json.loads(out)] == ["case_open", "access_denied", "case_approve"]
    code, out, _ = _run(capsys, "case", "list")
    assert code == 0 and [ln.split("\t")[0] for ln in out.splitlines()] == ["C1"]
    code, out, _ = _run(capsys, "case", "show", "C1")
    assert code == 0 and "case C1" in out and "familial approval: sue at" in out
    code, out, _ = _run(capsys, "retention", "apply", "--dry-run", "--json")
    assert code == 0 and json.loads(out) == ["A1"]
    code, out, _ = _run(capsys, "retention", "apply", "--json")
    assert code == 0 and [r["specimen"] for r in json.loads(out)] == ["A1"]
    code, _, err = _run(capsys, "expunge", "A2", "--reason", "acquitted")
    assert code != 0 and "--yes" in err and "A2" in err  # not a TTY: refuse without --yes
    code, out, _ = _run(capsys, "expunge", "A2", "--reason", "acquitted", "--yes")
    assert code == 0 and "expunged specimen A2" in out
    code, _, err = _run(capsys, "expunge", "A2", "--reason", "again", "--yes")
    assert code == 4 and "no specimen 'A2'" in err
    code, out, _ = _run(capsys, "info", "--json")
    info = json.loads(out)
    assert (info["specimens"], info["cases"], info["users"]) == (0, 1, 3)
    code, out, _ = _run(capsys, "audit", "verify")
    assert code == 0 and "chain intact" in out


def test_cli_audit_verify__tampered_exits_1(
    cli_store_fixture: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Database.open(cli_store_fixture) as db, attacker(db) as conn:
        conn.exec_driver_sql("UPDATE audit_log SET action = 'nothing' WHERE id = 2")
    code, _, err = _run(capsys, "audit", "verify")
    assert code == 1 and "BROKEN at entry 2" in err


def test_cli__unknown_user_and_missing_store(
    cli_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "case", "open", "C", "--purpose", "p", "--legal-basis", "l", "--user", "eve"
    )
    assert code == 4 and "no user 'eve'" in err
    code, _, err = _run(capsys, "info", "--user", "eve")
    assert code == 4 and "no user 'eve'" in err
    code, _, err = _run(capsys, "info", "--db", str(tmp_path / "none.db"))
    assert code == 4 and "no store at" in err
    code, _, err = _run(capsys, "user", "add", "x", "--role", "god")
    assert code == 2 and "unknown role" in err


def test_audit_show__filters_and_whole_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14 item 10: filter by user, action and date; --by-user is not --user (who
    reads); TSV with whole values and the purpose when not a terminal."""
    db = str(tmp_path / "a.db")
    assert main(["init", db, "--user", "admin"]) == 0
    assert main(["user", "add", "ana", "--role", "analyst", "--db", db, "--user", "admin"]) == 0
    assert main(["case", "open", "C1", "--purpose", "a long purpose that a table would cut",
                 "--legal-basis", "w", "--db", db, "--user", "ana"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["audit", "show", "--db", db, "--user", "admin", "--by-user", "ana"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    assert rows and {r["user"] for r in rows} == {"ana"}
    assert [r["purpose"] for r in rows if r["action"] == "case_open"] == [
        "a long purpose that a table would cut"
    ]
    assert main(["audit", "show", "--db", db, "--user", "admin", "--action", "user_admin"]) == 0
    acts = [line.split("\t")[6] for line in capsys.readouterr().out.strip().splitlines()[1:]]
    assert acts and set(acts) == {"user_admin"}
    assert main(["audit", "show", "--db", db, "--user", "admin", "--until", "2000-01-01"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1  # header only
    assert main(["audit", "show", "--db", db, "--user", "admin", "--since", "yesterday"]) == 2
