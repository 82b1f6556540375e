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
    db.add_user(admin, "ana", "analyst")
    db.add_user(admin, "bob", "analyst")
    db.import_records(
        admin,
        [
            record("S1", "DYS19=14", person="P1"),
            record("S2", "DYS19=15", person="P2"),
        ],
    )
    db.open_case(db.actor("ana"), "C1", purpose="test", legal_basis="test")
    keys = {u: new_identity_key() for u in ("admin", "ana", "bob")}
    db.set_identity(admin, "P1", DATA, keys["admin"])
    return db, keys


def _key_entries(db: Any) -> list[Any]:
    return [e for e in db.audit_entries(db.actor("admin")) if e.action == "identity_key"]


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
        db.identity(ana, "C1", "P1", keys["ana"])
    db.register_identity_key(ana, keys["ana"])
    with pytest.raises(AccessDenied, match="holds no identity key"):
        db.identity(ana, "C1", "P1", keys["ana"])  # registered, not granted
    db.grant_identity_key(db.actor("admin"), "ana", keys["admin"])
    assert identity_key_holders(db) == ["admin", "ana"]
    assert db.identity(ana, "C1", "P1", keys["ana"]) == DATA
    with pytest.raises(InputError, match="wrong key"):
        db.identity(ana, "C1", "P1", keys["admin"])  # another user's key is not hers
    db.set_identity(ana, "P2", {"name": "Jane Roe"}, keys["ana"])
    assert db.identity(db.actor("admin"), "C1", "P2", keys["admin"]) == {"name": "Jane Roe"}
    db.revoke_identity_key(db.actor("admin"), "ana")
    with pytest.raises(AccessDenied, match="holds no identity key"):
        db.identity(ana, "C1", "P1", keys["ana"])
    reads = [e for e in db.audit_entries(db.actor("admin")) if e.action == "read_identity"]
    failed = [e for e in reads if "error" in e.result]
    assert len(reads) == 6 and len(failed) == 4
    assert all("John" not in json.dumps(e.to_dict()) for e in reads)
    actions = [e.params for e in _key_entries(db)]
    assert {"register": "ana", "public_key": public_identity_key(keys["ana"])} in actions
    assert {"grant": "ana"} in actions and {"revoke": "ana"} in actions


def test_envelope__only_user_admin_holders_grant(envelope_fixture: Any) -> None:
    db, keys = envelope_fixture
    db.register_identity_key(db.actor("ana"), keys["ana"])
    db.grant_identity_key(db.actor("admin"), "ana", keys["admin"])
    db.register_identity_key(db.actor("bob"), keys["bob"])
    with pytest.raises(AccessDenied):
        db.grant_identity_key(db.actor("ana"), "bob", keys["ana"])  # analyst
    with pytest.raises(InputError, match="wrong key"):
        db.grant_identity_key(db.actor("admin"), "bob", keys["bob"])
    with pytest.raises(ConflictError, match="revoke it first"):
        db.register_identity_key(db.actor("ana"), keys["bob"])
    assert identity_key_holders(db) == ["admin", "ana"]


def test_envelope__last_holder_cannot_be_revoked(envelope_fixture: Any) -> None:
    db, _ = envelope_fixture
    with pytest.raises(ConflictError, match="last holder"):
        db.revoke_identity_key(db.actor("admin"), "admin")
    assert identity_key_holders(db) == ["admin"]


def test_envelope__store_from_before_adopts_its_shared_key(store_fixture: Any) -> None:
    """Identities written directly under one shared key (the old scheme) stay readable:
    the first user presenting the key gets the data key wrapped for him."""
    db = store_fixture
    admin = db.actor("admin")
    db.import_records(admin, [record("S1", "DYS19=14", person="P1")])
    db.open_case(admin, "C1", purpose="test", legal_basis="test")
    shared = new_identity_key()
    token = Fernet(shared.encode()).encrypt(json.dumps(DATA, sort_keys=True).encode())
    with db.write() as conn:
        conn.execute(
            insert(identities).values(person="P1", payload=token, updated_at="x", updated_by="x")
        )
    with pytest.raises(InputError, match="wrong key"):
        db.identity(admin, "C1", "P1", new_identity_key())
    assert identity_key_holders(db) == []
    assert db.identity(admin, "C1", "P1", shared) == DATA
    assert identity_key_holders(db) == ["admin"]
    assert {"data_key": "adopted shared key", "user": "admin"} in [
        e.params for e in _key_entries(db)
    ]
