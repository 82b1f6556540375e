"""Identity data: importing it (``import``), reading it within a case (``read_identity``,
audited also when it fails) and managing who holds the data key (``user_admin``).

Encryption (envelope: one data key wrapped per user) is the store's
(:mod:`patriline.store.identity`); who may write, read or grant is decided here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline.casework.access import Action
from patriline.errors import NotFound
from patriline.store import identity as _identity
from patriline.store.access import Case
from patriline.store.identity import IdentityImport

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = [
    "grant_identity_key",
    "identity",
    "import_identities",
    "register_identity_key",
    "revoke_identity_key",
    "set_identity",
]


def set_identity(session: Session, person: str, data: dict[str, Any], key: str | bytes) -> None:
    """Encrypt and store (or replace) the identity of ``person``; audited (no data)."""
    session.authorize(Action.IMPORT)
    entry = session.entry("identity_write")
    _identity.set_identity(session.store, person, data, key, entry=entry)


def import_identities(
    session: Session, path: str | Path, key: str | bytes, *, lenient: bool = False
) -> IdentityImport:
    """Encrypt and store the identities of a CSV file (``person`` + field columns):
    atomic unless ``lenient``, one audit entry (see
    :func:`patriline.store.identity.import_identities`)."""
    session.authorize(Action.IMPORT)
    entry = session.entry("identity_write")
    return _identity.import_identities(session.store, path, key, lenient=lenient, entry=entry)


def identity(session: Session, case: str | Case, person: str, key: str | bytes) -> dict[str, Any]:
    """Decrypt the identity of ``person`` within ``case``; audited (also when it fails)."""
    c = session.authorize(Action.READ_IDENTITY, case)
    assert c is not None
    token, dek, error = _identity.open_identity(session.store, session.user, person, key)
    result: dict[str, Any] = {"found": token is not None}
    if error is not None:
        result["error"] = str(error)
    session.audit(Action.READ_IDENTITY, case=c, params={"person": person}, result=result)
    if token is None:
        raise NotFound(f"no identity stored for person {person!r}")
    if error is not None:
        raise error
    return _identity.decrypt_identity(token, dek)


def register_identity_key(session: Session, key: str | bytes) -> str:
    """Record the user's public identity key so a holder can grant him the data key.

    Idempotent for the same key; a different key while a data key is wrapped for him
    must be revoked first. Returns the public key. Audited (``identity_key``).
    """
    session.role()  # still a user of the store
    return _identity.register_identity_key(session.store, key, entry=session.entry("identity_key"))


def grant_identity_key(session: Session, user: str, key: str | bytes) -> None:
    """Wrap the store's identity data key for ``user`` (``user_admin``, and a holder:
    ``key`` is the granting user's own)."""
    session.authorize(Action.USER_ADMIN)
    _identity.grant_identity_key(session.store, user, key, entry=session.entry("identity_key"))


def revoke_identity_key(session: Session, user: str) -> None:
    """Remove ``user``'s wrapped identity data key (``user_admin``; never the last holder's)."""
    session.authorize(Action.USER_ADMIN)
    _identity.revoke_identity_key(session.store, user, entry=session.entry("identity_key"))
