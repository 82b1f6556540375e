"""Store-level operations that act before or outside any user's session.

* :func:`create_store` — a new store, its first user its admin (the genesis entry of the
  audit chain names him);
* :func:`verify_chain` and :func:`anchor_chain` — the offline checks an oversight body
  runs on a store or an evidence copy of it: they read the audit chain and its bound rows
  and write nothing, so they need no user of the store (a check that writes an audit
  entry of its own is :meth:`Session.verify_audit`);
* :func:`new_identity_key` — a fresh identity key pair's private half, made locally;
* :func:`upgrade_store` and :func:`grant_service_role` — the database owner's work on a
  PostgreSQL server store: migrations run as the owner of the tables, the service
  connects as a least-privileged role (``patriline.store.roles``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from patriline.store import Database
from patriline.store.audit import Anchor, VerifyResult, read_anchors
from patriline.store.roles import GrantReport

__all__ = [
    "GrantReport",
    "anchor_chain",
    "create_store",
    "grant_service_role",
    "new_identity_key",
    "read_anchors",
    "upgrade_store",
    "verify_chain",
]


def new_identity_key() -> str:
    """A fresh identity key (32 random bytes, URL-safe base64), made locally."""
    from patriline.store.identity import new_identity_key as make

    return make()


def create_store(url: str | Path, admin: str) -> None:
    """Create a store at ``url``; ``admin`` becomes its admin."""
    Database.create(url, admin).close()


def verify_chain(
    url: str | Path, anchors: Sequence[Anchor] = (), *, read_only: bool = False
) -> VerifyResult:
    """Check the audit chain of the store at ``url`` (and that it extends ``anchors``);
    ``read_only`` for an evidence copy (nothing written beside it)."""
    with Database.open(url, read_only=read_only) as store:
        return store.verify_audit(anchors)


def anchor_chain(url: str | Path) -> Anchor:
    """The verified head of the audit chain of the store at ``url``."""
    with Database.open(url) as store:
        return store.audit_anchor()


def upgrade_store(owner_url: str | Path) -> tuple[str | None, str | None]:
    """Migrate the store at ``owner_url`` (connect as its tables' owner): (from, to)."""
    from patriline.store.roles import upgrade_store as upgrade

    return upgrade(owner_url)


def grant_service_role(owner_url: str | Path, role: str) -> GrantReport:
    """Give PostgreSQL role ``role`` the service's least privileges on the store at
    ``owner_url`` (see :func:`patriline.store.roles.grant_service_role`)."""
    from patriline.store.roles import grant_service_role as grant

    return grant(owner_url, role)
