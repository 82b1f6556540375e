"""The store: records, access model, hash-chained audit log, expungement (SQLite / PostgreSQL)."""

from patriline.store.access import ACTIONS, CASE_ACTIONS, PERMISSIONS, Actor, Case
from patriline.store.audit import AuditEntry, VerifyResult
from patriline.store.database import Database
from patriline.store.identity import new_identity_key
from patriline.store.records import (
    Conflict,
    ExpungeReport,
    ImportSummary,
    Link,
    SpecimenInfo,
    StoreInfo,
)
from patriline.store.schema import CATEGORIES, ROLES

__all__ = [
    "ACTIONS",
    "CASE_ACTIONS",
    "CATEGORIES",
    "PERMISSIONS",
    "ROLES",
    "Actor",
    "AuditEntry",
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
