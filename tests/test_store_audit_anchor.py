"""Audit anchors: a head kept outside the store catches a rewrite of the whole chain.

The attacker here has write access to the database: he edits an old entry, recomputes
every later hash with the published rule and rewrites the head, so the chain alone
verifies. Only the anchor (entry n's hash kept elsewhere) shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import InputError
from patriline.store import Database
from patriline.store.audit import Anchor, read_anchors
from patriline.store.schema import audit_log
from plugins.postgres import records
from plugins.tamper import attacker, rechain


def _populated(db: Database, searches: int = 4) -> Database:
    admin = db.actor("admin")
    Session(db, admin).import_records(records(3))
    Session(db, admin).open_case("C1", purpose="burglary 12/2024", legal_basis="CPA s.63")
    for i in range(searches):
        Session(db, admin).audit("search_exact", case="C1", params={"q": i}, result={"hits": i})
    return db


def _rechain(db: Database) -> None:
    """Recompute every hash, the head and the bound rows, as someone with write access could."""
    with attacker(db) as conn:
        rechain(conn)


def test_anchor__rewritten_chain_verifies_alone_but_not_against_the_anchor(
    store_fixture: Database,
) -> None:
    db = _populated(store_fixture)
    anchor = db.audit_anchor()
    assert anchor.entries == db.verify_audit().entries
    Session(db, db.actor("admin")).audit(
        "search_exact", case="C1", params={"q": 9}, result={"hits": 0}
    )
    assert db.verify_audit([anchor]).ok  # appending keeps extending the anchor
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(user="mallory"))
    _rechain(db)
    assert db.verify_audit().ok  # the chain alone cannot tell
    res = db.verify_audit([anchor])
    assert not res.ok and res.first_bad_id == anchor.entries
    assert "rewritten" in (res.reason or "")


def test_anchor__truncated_and_rechained_log_is_caught(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    anchor = db.audit_anchor()
    with attacker(db) as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id >= anchor.entries - 1))
    _rechain(db)
    assert db.verify_audit().ok
    res = db.verify_audit([anchor])
    assert not res.ok and f"records {anchor.entries} entries" in (res.reason or "")


def test_anchor__broken_chain_is_not_anchored(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 2).values(action="x"))
    with pytest.raises(InputError, match="broken at entry 2"):
        db.audit_anchor()


def test_read_anchors__bad_lines_name_file_line_and_field(tmp_path: Path) -> None:
    good = Anchor(3, "a" * 64, "2026-01-01T00:00:00+00:00")
    f = tmp_path / "anchors.jsonl"
    f.write_text(good.to_line() + "\n\n" + good.to_line() + "\n")
    assert read_anchors(f) == [good, good]
    bad = json.loads(good.to_line()) | {"hash": "zz"}
    f.write_text(good.to_line() + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"anchors.jsonl, line 2: hash must be 64 hex"):
        read_anchors(f)
    f.write_text('{"format": "other"}\n')
    with pytest.raises(InputError, match="line 1: format"):
        read_anchors(f)
    f.write_text("")
    with pytest.raises(InputError, match="no anchor"):
        read_anchors(f)


def test_cli_audit_anchor_then_verify(
    store_url_fixture: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATRILINE_DB", store_url_fixture)
    monkeypatch.setenv("PATRILINE_USER", "boss")
    assert main(["init", store_url_fixture]) == 0
    anchors = tmp_path / "anchors.jsonl"
    assert main(["audit", "anchor", "--out", str(anchors)]) == 0
    assert main(["case", "open", "C", "--purpose", "p", "--legal-basis", "l"]) == 0
    assert main(["audit", "anchor", "--out", str(anchors)]) == 0
    capsys.readouterr()
    lines = anchors.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["entries"] > json.loads(lines[0])["entries"]
    assert main(["audit", "verify", "--anchor", str(anchors), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["anchors"] == 2
    with Database.open(store_url_fixture) as db:
        with attacker(db) as conn:
            conn.execute(update(audit_log).where(audit_log.c.id == 1).values(user="mallory"))
        _rechain(db)
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "verify", "--anchor", str(anchors)]) == 1
    assert "no longer has the anchored hash" in capsys.readouterr().err
