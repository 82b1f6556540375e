"""The identity CLI, in-process through ``patriline.cli.main`` (SQLite and PostgreSQL):
atomic and lenient import, reads only within a case and with the right role, audit
entries without identity data, the key never taken from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.store import Database, new_identity_key

CSV = "specimen,person,DYS19,DYS390\nA1,P1,14,24\nA2,P2,15,23\nA3,P3,15,22\n"
IDS = "person,name,born\nP1,John Doe,1970\nP2,Jane Roe,1980\nP9,Nobody,1900\n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def id_store_fixture(
    store_url_fixture: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> str:
    """A store with persons P1–P3, an analyst ana, an auditor aud, case C1 (by ana) and
    the identity key in the environment."""
    monkeypatch.setenv("PATRILINE_DB", store_url_fixture)
    monkeypatch.setenv("PATRILINE_USER", "boss")
    monkeypatch.setenv("PATRILINE_IDENTITY_KEY", new_identity_key())
    assert _run(capsys, "init", store_url_fixture)[0] == 0
    f = tmp_path / "h.csv"
    f.write_text(CSV)
    assert _run(capsys, "import", str(f))[0] == 0
    assert _run(capsys, "user", "add", "ana", "--role", "analyst")[0] == 0
    assert _run(capsys, "user", "add", "aud", "--role", "auditor")[0] == 0
    # Envelope encryption: ana registers her key and boss (admin) grants her the data key.
    assert _run(capsys, "identity", "register", "--user", "ana")[0] == 0
    assert _run(capsys, "identity", "grant", "ana")[0] == 0
    code = _run(
        capsys,
        "case",
        "open",
        "C1",
        "--purpose",
        "missing person",
        "--legal-basis",
        "order 3",
        "--user",
        "ana",
    )[0]
    assert code == 0
    return store_url_fixture


def _entries(url: str, action: str) -> list[object]:
    with Database.open(url) as db:
        return [e for e in Session(db, db.actor("boss")).audit_entries() if e.action == action]


def test_cli_identity_import__atomic_then_lenient(
    id_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Strict: the unknown person P9 (line 4) stops the import, nothing is stored and
    the refusal is audited. Lenient: P1 and P2 are stored, P9 is listed; again, P1 and
    P2 are replaced. No audit entry holds a name."""
    f = tmp_path / "ids.csv"
    f.write_text(IDS)
    code, _, err = _run(capsys, "identity", "import", str(f), "--user", "ana")
    assert code == 2 and "ids.csv:4" in err and "'P9'" in err and "nothing was written" in err
    with Database.open(id_store_fixture) as db:
        assert db.info().identities == 0
    code, out, err = _run(capsys, "identity", "import", str(f), "--lenient", "--json")
    assert code == 0
    doc = json.loads(out)
    assert {k: doc[k] for k in ("rows", "added", "replaced", "rejected")} == {
        "rows": 3,
        "added": 2,
        "replaced": 0,
        "rejected": 1,
    }
    assert doc["problems"] == [{"line": 4, "person": "P9", "reason": "no such person in the store"}]
    code, out, _ = _run(capsys, "identity", "import", str(f), "--lenient")
    assert code == 0 and "0 added, 2 replaced, 1 rejected" in out
    writes = _entries(id_store_fixture, "identity_write")
    assert len(writes) == 3
    assert writes[0].result["added"] == 0 and "P9" in writes[0].result["error"]
    assert writes[1].params["persons"] == ["P1", "P2"]
    assert writes[1].params["fields"] == ["born", "name"]
    text = json.dumps([(e.params, e.result) for e in writes])
    assert "John" not in text and "1970" not in text


def test_cli_identity_import__bad_rows_and_header(
    id_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "ids.csv"
    f.write_text("person,name\nP1,A\nP1,B\n,C\nP2,\n")
    code, out, _ = _run(capsys, "identity", "import", str(f), "--lenient", "--json")
    assert code == 0
    reasons = {(p["line"], p["reason"].split(" (")[0]) for p in json.loads(out)["problems"]}
    assert reasons == {(3, "person given twice"), (4, "empty person"), (5, "no identity field")}
    f.write_text("name,born\nX,1\n")
    code, _, err = _run(capsys, "identity", "import", str(f))
    assert code == 2 and "person column" in err


def test_cli_identity_show__case_role_audit(
    id_store_fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``show`` needs a case and a role that may read identities; every read, refused
    or failed ones too, is audited with the person ID only."""
    f = tmp_path / "ids.csv"
    f.write_text("person;name;born\nP1;John Doe;1970\n")
    assert _run(capsys, "identity", "import", str(f), "--user", "ana")[0] == 0
    code, out, _ = _run(
        capsys, "identity", "show", "--case", "C1", "--person", "P1", "--user", "ana", "--json"
    )
    assert code == 0
    assert json.loads(out) == {
        "person": "P1",
        "case": "C1",
        "identity": {"born": "1970", "name": "John Doe"},
    }
    code, out, _ = _run(capsys, "identity", "show", "--case", "C1", "--person", "P1")
    assert code == 0 and "name: John Doe" in out
    code, _, err = _run(
        capsys, "identity", "show", "--case", "C1", "--person", "P1", "--user", "aud"
    )
    assert code == 3
    code, _, err = _run(capsys, "identity", "show", "--case", "NOPE", "--person", "P1")
    assert code == 3 and "NOPE" in err
    code, _, err = _run(capsys, "identity", "show", "--case", "C1", "--person", "P3")
    assert code == 4 and "P3" in err
    reads = _entries(id_store_fixture, "read_identity")
    assert [(e.user, e.case, e.params, e.result) for e in reads] == [
        ("ana", "C1", {"person": "P1", "via": "local"}, {"found": True}),
        ("boss", "C1", {"person": "P1", "via": "local"}, {"found": True}),
        ("boss", "C1", {"person": "P3", "via": "local"}, {"found": False}),
    ]
    denied = _entries(id_store_fixture, "access_denied")
    assert {e.params["action"] for e in denied} == {"read_identity"}
    assert len(denied) == 2


def test_cli_identity__key_from_file_only_and_wrong_key(
    id_store_fixture: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    f = tmp_path / "ids.csv"
    f.write_text("person,name\nP1,John Doe\n")
    assert _run(capsys, "identity", "import", str(f))[0] == 0
    monkeypatch.delenv("PATRILINE_IDENTITY_KEY")
    code, _, err = _run(capsys, "identity", "show", "--case", "C1", "--person", "P1")
    assert code == 2 and "PATRILINE_IDENTITY_KEY" in err
    keyfile = tmp_path / "other.key"
    code, out, _ = _run(capsys, "identity", "new-key")
    keyfile.write_text(out)
    code, _, err = _run(
        capsys, "identity", "show", "--case", "C1", "--person", "P1", "--key-file", str(keyfile)
    )
    assert code == 2 and "wrong key" in err
