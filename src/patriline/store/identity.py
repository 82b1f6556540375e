"""Identity data, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``).

The key is the user's (e.g. ``PATRILINE_IDENTITY_KEY``, made with
:func:`new_identity_key`); the store never keeps it. Without the key, identity rows are
opaque tokens; with a wrong key, reading fails with a clear error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, select

from patriline.errors import InputError, NotFound
from patriline.store import audit as _audit
from patriline.store.schema import identities, persons

if TYPE_CHECKING:
    from patriline.store.access import Actor, Case
    from patriline.store.database import Database

__all__ = ["fernet", "new_identity_key", "read_identity", "set_identity"]


def new_identity_key() -> str:
    """A fresh random Fernet key (URL-safe base64 text): keep it outside the store."""
    return Fernet.generate_key().decode()


def fernet(key: str | bytes) -> Fernet:
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise InputError(
            "identity key is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
            "patriline.store.new_identity_key())"
        ) from None


def set_identity(
    db: Database, actor: Actor, person: str, data: dict[str, Any], key: str | bytes
) -> None:
    """Encrypt and store (or replace) the identity of ``person``; the audit entry holds no data."""
    db.authorize(actor, "import")
    token = fernet(key).encrypt(json.dumps(data, sort_keys=True).encode())
    with db.write() as conn:
        if conn.execute(select(persons.c.id).where(persons.c.id == person)).first() is None:
            raise NotFound(f"no person {person!r} in the store")
        conn.execute(delete(identities).where(identities.c.person == person))
        conn.execute(
            insert(identities).values(
                person=person, payload=token, updated_at=_audit.now(), updated_by=actor.name
            )
        )
        _audit.append(
            conn,
            user=actor.name,
            role=actor.role,
            action="identity_write",
            params={"person": person, "fields": sorted(data)},
        )


def read_identity(
    db: Database, actor: Actor, case: str | Case, person: str, key: str | bytes
) -> dict[str, Any]:
    """Decrypt the identity of ``person``: needs a case; audited (also when it fails)."""
    c = db.authorize(actor, "read_identity", case)
    assert c is not None
    with db.read() as conn:
        token = conn.execute(
            select(identities.c.payload).where(identities.c.person == person)
        ).scalar_one_or_none()
    found = token is not None
    db.audit(actor, "read_identity", case=c, params={"person": person}, result={"found": found})
    if token is None:
        raise NotFound(f"no identity stored for person {person!r}")
    try:
        return dict(json.loads(fernet(key).decrypt(bytes(token))))
    except InvalidToken:
        raise InputError(
            "identity key does not decrypt this store's identity data (wrong key)"
        ) from None
