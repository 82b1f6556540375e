"""Store-level operations that act before or outside any user's session.

* :func:`create_store` — a new store, its first user its admin (the genesis entry of the
  audit chain names him);
* :func:`verify_chain` and :func:`anchor_chain` — the offline checks an oversight body
  runs on a store or an evidence copy of it: they read the audit chain and its bound rows
  and write nothing, so they need no user of the store (a check that writes an audit
  entry of its own is :meth:`Session.verify_audit`);
* :func:`new_identity_key` — a fresh identity key pair's private half, made locally.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from patriline.store import Database
from patriline.store.audit import Anchor, VerifyResult, read_anchors

__all__ = [
    "anchor_chain",
    "create_store",
    "new_identity_key",
    "read_anchors",
    "verify_chain",
]


def new_identity_key() -> str:
    """A fresh identity key (32 random bytes, URL-safe base64), made locally."""
    from patriline.store.identity import new_identity_key as make

    return make()


def create_store(url: str | Path, admin: str) -> None:
    """Create a store at ``url``; ``admin`` becomes its admin."""
    Database.create(url, admin).close()


def verify_chain(url: str | Path, anchors: Sequence[Anchor] = ()) -> VerifyResult:
    """Check the audit chain of the store at ``url`` (and that it extends ``anchors``)."""
    with Database.open(url) as store:
        return store.verify_audit(anchors)


def anchor_chain(url: str | Path) -> Anchor:
    """The verified head of the audit chain of the store at ``url``."""
    with Database.open(url) as store:
        return store.audit_anchor()
