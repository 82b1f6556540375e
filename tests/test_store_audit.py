"""Audit log: hash chain verifies; editing or deleting any entry is detected and named.

The tampering goes through ``plugins.tamper.attacker``, which bypasses the store's
append-only triggers as an attacker with write access would.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from patriline.casework import Session
from patriline.errors import AccessDenied
from patriline.store import Actor, Database
from patriline.store.audit import GENESIS, HEAD_KEY
from patriline.store.schema import audit_log, meta, users
from plugins.postgres import records
from plugins.tamper import attacker, rechain


def _populated(db: Database) -> Database:
    admin = db.actor("admin")
    Session(db, admin).import_records(records(5))
    Session(db, admin).open_case("C1", purpose="burglary 12/2024", legal_basis="CPA s.63")
    Session(db, admin).add_user("ana", "analyst")
    Session(db, admin).audit("search_exact", case="C1", params={"query": "S1"}, result={"hits": 1})
    return db


def test_verify_audit__intact_chain(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    res = db.verify_audit()
    assert res.ok and res.entries == 6 and res.first_bad_id is None


def test_verify_audit__independent_hash(store_fixture: Database) -> None:
    """Independent computation: recompute entry 1's SHA-256 from the stored columns."""
    db = _populated(store_fixture)
    with db.engine.connect() as conn:
        r = conn.execute(select(audit_log).where(audit_log.c.id == 1)).mappings().one()
    body = {
        k: r[k]
        for k in ("id", "at", "user", "role", "case_id", "purpose", "action", "params", "result")
    }
    digest = hashlib.sha256(
        (GENESIS + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    assert r["prev_hash"] == GENESIS and r["hash"] == digest


@pytest.mark.parametrize(
    "column,value", [("user", "mallory"), ("result", '{"hits":0}'), ("case_id", "C2")]
)
def test_verify_audit__edited_entry_is_named(
    store_fixture: Database, column: str, value: str
) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 4).values({column: value}))
    res = db.verify_audit()
    assert not res.ok and res.first_bad_id == 4 and "altered" in (res.reason or "")


def test_verify_audit__rehashed_edit_breaks_next_link(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(hash="f" * 64))
    res = db.verify_audit()
    assert not res.ok and res.first_bad_id == 3


def test_verify_audit__deleted_entry_is_named(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    res = db.verify_audit()
    assert not res.ok and res.first_bad_id == 2 and "missing" in (res.reason or "")


def test_verify_audit__deleted_last_entry_is_detected(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"))
    res = db.verify_audit()
    assert not res.ok and res.first_bad_id == 6


def test_audit_entries__by_case_with_purpose(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    admin = db.actor("admin")
    entries = Session(db, admin).audit_entries(case="C1")
    assert [e.action for e in entries] == ["case_open", "search_exact"]
    assert entries[1].purpose == "burglary 12/2024"
    assert entries[1].result == {"hits": 1} and entries[1].user == "admin"
    assert db.verify_audit().ok  # the read itself was appended to the chain


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(2, 8),
    data=st.data(),
)
def test_verify_audit__any_single_edit_is_found(
    tmp_path_factory: pytest.TempPathFactory, n: int, data: st.DataObject
) -> None:
    """Invariant (SQLite): editing any column of any one entry is reported at that entry."""
    db = Database.create(tmp_path_factory.mktemp("h") / "a.db", "admin")
    admin = db.actor("admin")
    for i in range(n):
        Session(db, admin).audit("stats", params={"i": i}, result={"n": i * i})
    total = n + 2
    victim = data.draw(st.integers(1, total))
    column = data.draw(
        st.sampled_from(["at", "user", "role", "purpose", "action", "params", "result"])
    )
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == victim).values({column: "tampered"}))
    res = db.verify_audit()
    db.close()
    assert not res.ok and res.first_bad_id == victim


def test_verify_audit__missing_head_is_named(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(delete(meta).where(meta.c.key == HEAD_KEY))
    res = db.verify_audit()
    assert not res.ok and "chain head is missing" in (res.reason or "")


def test_verify_audit__chain_without_genesis_is_refused(store_fixture: Database) -> None:
    """A log rebuilt from scratch (first entry not the store's ``init``) is caught."""
    db = _populated(store_fixture)
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 1).values(action="stats"))
        rechain(conn)
    res = db.verify_audit()
    assert not res.ok and res.first_bad_id == 1 and "genesis" in (res.reason or "")


def test_set_role__is_chained_and_a_rollback_of_the_row_is_named(store_fixture: Database) -> None:
    db = _populated(store_fixture)
    admin = db.actor("admin")
    with db.engine.connect() as conn:
        before = conn.execute(select(users).where(users.c.name == "ana")).mappings().one()
    assert Session(db, admin).set_role("ana", "supervisor") == Actor("ana", "supervisor")
    assert db.actor("ana").role == "supervisor" and db.verify_audit().ok
    entry = Session(db, admin).audit_entries(limit=1)[0]
    assert entry.params == {
        "set_role": "ana",
        "role": "supervisor",
        "was": "analyst",
        "via": "local",
    }
    assert entry.result["bound"][0]["table"] == "users"
    with pytest.raises(AccessDenied):
        Session(db, db.actor("ana")).set_role("ana", "admin")  # only admins manage users
    with db.engine.begin() as conn:  # put the old row back, binding and all
        conn.execute(update(users).where(users.c.name == "ana").values(**before))
    res = db.verify_audit()
    assert not res.ok and (res.table, res.key) == ("users", "'ana'")
    assert f"names audit entry {before['audit_id']} but entry" in (res.reason or "")
