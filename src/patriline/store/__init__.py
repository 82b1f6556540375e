"""The store: records, users and cases, hash-chained audit log, expungement (SQLite / PostgreSQL)."""

from typing import Any

from patriline.store.access import Actor, Approval, Case
from patriline.store.audit import AuditEntry, AuditRecord, VerifyResult
from patriline.store.database import Database
from patriline.store.records import (
    Conflict,
    ExpungeReport,
    ImportSummary,
    Link,
    SpecimenInfo,
    StoreInfo,
)
from patriline.store.schema import CATEGORIES, ROLES


def __getattr__(name: str) -> Any:
    # cryptography loads only where identities are handled, not when a store is opened.
    if name == "new_identity_key":
        from patriline.store.identity import new_identity_key

        return new_identity_key
    raise AttributeError(f"module 'patriline.store' has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "ROLES",
    "Actor",
    "Approval",
    "AuditEntry",
    "AuditRecord",
    "Case",
    "Conflict",
    "Database",
    "ExpungeReport",
    "ImportSummary",
    "Link",
    "SpecimenInfo",
    "StoreInfo",
    "VerifyResult",
    "new_identity_key",
]
