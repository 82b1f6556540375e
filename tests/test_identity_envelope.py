"""Envelope encryption of identities (SQLite and PostgreSQL): one data key per store,
wrapped per user; a user decrypts only with his own key once granted, and revoking him
removes his wrapped key. Issue 17 item 4: "anyone holding the one shared identity key
decrypts every identity"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import insert, select

from patriline.casework import Session
from patriline.errors import AccessDenied, ConflictError, InputError
from patriline.store import new_identity_key
from patriline.store.identity import identity_key_holders, public_identity_key
from patriline.store.schema import identities, meta
from plugins.postgres import record

DATA = {"name": "John Doe", "born": "1970"}


@pytest.fixture
def envelope_fixture(store_fixture: Any) -> tuple[Any, dict[str, str]]:
    """A store with persons P1, P2; admin wrote P1's identity (so holds the data key);
    analysts ana and bob, case C1."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ana", "analyst")
    Session(db, admin).add_user("bob", "analyst")
    Session(db, admin).import_records(
        [
            record("S1", "DYS19=14", person="P1"),
            record("S2", "DYS19=15", person="P2"),
        ],
    )
    Session(db, db.actor("ana")).open_case("C1", purpose="test", legal_basis="test")
    keys = {u: new_identity_key() for u in ("admin", "ana", "bob")}
    Session(db, admin).set_identity("P1", DATA, keys["admin"])
    return db, keys


def _key_entries(db: Any) -> list[Any]:
    return [e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "identity_key"]


def test_envelope__user_keys_do_not_decrypt_the_rows(envelope_fixture: Any) -> None:
    db, keys = envelope_fixture
    with db.read() as conn:
        payload = bytes(conn.execute(select(identities.c.payload)).scalar_one())
        stored = " ".join(v for (v,) in conn.execute(select(meta.c.value)).all())
    for key in keys.values():  # identities are under the data key, not a user's key
        with pytest.raises(InvalidToken):
            Fernet(key.encode()).decrypt(payload)
        assert key not in stored
    assert public_identity_key(keys["admin"]) in stored
    assert identity_key_holders(db) == ["admin"]


def test_envelope__grant_read_revoke(envelope_fixture: Any) -> None:
    db, keys = envelope_fixture
    ana = db.actor("ana")
    with pytest.raises(AccessDenied, match="holds no identity key"):
        Session(db, ana).identity("C1", "P1", keys["ana"])
    Session(db, ana).register_identity_key(keys["ana"])
    with pytest.raises(AccessDenied, match="holds no identity key"):
        Session(db, ana).identity("C1", "P1", keys["ana"])  # registered, not granted
    Session(db, db.actor("admin")).grant_identity_key("ana", keys["admin"])
    assert identity_key_holders(db) == ["admin", "ana"]
    assert Session(db, ana).identity("C1", "P1", keys["ana"]) == DATA
    with pytest.raises(InputError, match="wrong key"):
        Session(db, ana).identity("C1", "P1", keys["admin"])  # another user's key is not hers
    Session(db, ana).set_identity("P2", {"name": "Jane Roe"}, keys["ana"])
    assert Session(db, db.actor("admin")).identity("C1", "P2", keys["admin"]) == {
        "name": "Jane Roe"
    }
    Session(db, db.actor("admin")).revoke_identity_key("ana")
    with pytest.raises(AccessDenied, match="holds no identity key"):
        Session(db, ana).identity("C1", "P1", keys["ana"])
    reads = [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "read_identity"
    ]
    failed = [e for e in reads if "error" in e.result]
    assert len(reads) == 6 and len(failed) == 4
    assert all("John" not in json.dumps(e.to_dict()) for e in reads)
    actions = [e.params for e in _key_entries(db)]
    public = public_identity_key(keys["ana"])
    assert {"register": "ana", "public_key": public, "via": "local"} in actions
    assert {"grant": "ana", "via": "local"} in actions
    assert {"revoke": "ana", "via": "local"} in actions


def test_envelope__only_user_admin_holders_grant(envelope_fixture: Any) -> None:
    db, keys = envelope_fixture
    Session(db, db.actor("ana")).register_identity_key(keys["ana"])
    Session(db, db.actor("admin")).grant_identity_key("ana", keys["admin"])
    Session(db, db.actor("bob")).register_identity_key(keys["bob"])
    with pytest.raises(AccessDenied):
        Session(db, db.actor("ana")).grant_identity_key("bob", keys["ana"])  # analyst
    with pytest.raises(InputError, match="wrong key"):
        Session(db, db.actor("admin")).grant_identity_key("bob", keys["bob"])
    with pytest.raises(ConflictError, match="revoke it first"):
        Session(db, db.actor("ana")).register_identity_key(keys["bob"])
    assert identity_key_holders(db) == ["admin", "ana"]


def test_envelope__last_holder_cannot_be_revoked(envelope_fixture: Any) -> None:
    db, _ = envelope_fixture
    with pytest.raises(ConflictError, match="last holder"):
        Session(db, db.actor("admin")).revoke_identity_key("admin")
    assert identity_key_holders(db) == ["admin"]


def test_envelope__store_from_before_adopts_its_shared_key(store_fixture: Any) -> None:
    """Identities written directly under one shared key (the old scheme) stay readable:
    the first user presenting the key gets the data key wrapped for him."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records([record("S1", "DYS19=14", person="P1")])
    Session(db, admin).open_case("C1", purpose="test", legal_basis="test")
    shared = new_identity_key()
    token = Fernet(shared.encode()).encrypt(json.dumps(DATA, sort_keys=True).encode())
    with db.write() as conn:
        conn.execute(
            insert(identities).values(person="P1", payload=token, updated_at="x", updated_by="x")
        )
    with pytest.raises(InputError, match="wrong key"):
        Session(db, admin).identity("C1", "P1", new_identity_key())
    assert identity_key_holders(db) == []
    assert Session(db, admin).identity("C1", "P1", shared) == DATA
    assert identity_key_holders(db) == ["admin"]
    assert {"data_key": "adopted shared key", "user": "admin"} in [
        e.params for e in _key_entries(db)
    ]
