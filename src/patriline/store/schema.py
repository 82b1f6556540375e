"""The store's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

The schema is created and upgraded only through the Alembic migrations in
``patriline/store/migrations`` (run programmatically by :meth:`Database.create` and
:meth:`Database.open`); these ``Table`` objects are what the library's queries use and
what a new migration is compared against (``alembic revision --autogenerate``).

Nothing here holds a name: specimens and persons are pseudonymous IDs, and identity data
live in ``identities`` encrypted with a key the user keeps (Fernet, ``cryptography``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "CASE_TYPES",
    "CATEGORIES",
    "ROLES",
    "api_tokens",
    "approval_requests",
    "approvals",
    "audit_log",
    "cases",
    "credentials",
    "haplotypes",
    "identities",
    "import_batches",
    "jobs",
    "meta",
    "metadata",
    "paternal_links",
    "persons",
    "removals",
    "specimens",
    "users",
    "web_sessions",
]

#: Specimen categories (what the law usually treats differently).
CATEGORIES = (
    "reference",
    "arrestee",
    "volunteer",
    "relative_of_missing",
    "crime_scene",
    "unidentified_remains",
    "unspecified",
)
#: Case types (``cases.case_type``; NULL in a row from before migration 0004 reads
#: ``criminal``).
CASE_TYPES = ("criminal", "missing_person", "remains_identification", "quality_control")
#: Roles of the access model, see :mod:`patriline.store.access`.
ROLES = ("analyst", "supervisor", "auditor", "admin")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Key/value facts about the store: layout of the encoded column, audit chain head,
#: the change-feed counter.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(128), nullable=True),
    # bound to the audit chain (see patriline.store.audit.BOUND)
    Column("audit_id", Integer, nullable=True),
    Column("audit_hash", String(64), nullable=True),
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # haplotypes | links
    Column("file", Text, nullable=True),
    Column("file_hash", String(64), nullable=True),
    Column("format", String(32), nullable=True),
    Column("software_version", String(64), nullable=False),
    Column("user", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("conflicts", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("batch_id", Integer, nullable=True),
)

identities = Table(
    "identities",
    metadata,
    Column("person", String(128), ForeignKey("persons.id"), primary_key=True),
    Column("payload", LargeBinary, nullable=False),  # Fernet token
    Column("updated_at", String(32), nullable=False),
    Column("updated_by", String(128), nullable=False),
)

specimens = Table(
    "specimens",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("person", String(128), ForeignKey("persons.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("kit", String(32), nullable=True),
    Column("collected_at", String(32), nullable=True),
    Column("agency", Text, nullable=True),
    Column("legal_basis", Text, nullable=True),
    Column("consent_ref", Text, nullable=True),
    Column("retention_until", String(10), nullable=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ix_specimens_person", "person"),
)

#: One row per specimen. ``encoded`` is the int16 little-endian row under the layout in
#: ``meta['layout']``; ``seq`` is the change-feed position of the ``add``.
haplotypes = Table(
    "haplotypes",
    metadata,
    Column("specimen", String(128), ForeignKey("specimens.id"), primary_key=True),
    Column("canonical", Text, nullable=False),
    Column("encoded", LargeBinary, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_haplotypes_seq", "seq"),
)

#: Change-feed ``remove`` events (``add`` events are ``haplotypes.seq``); also the
#: tombstones that stop an expunged specimen from being imported again.
removals = Table(
    "removals",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("specimen", String(128), nullable=False),
    Column("removed_at", String(32), nullable=False),
    Index("ix_removals_specimen", "specimen"),
)

paternal_links = Table(
    "paternal_links",
    metadata,
    Column("son", String(128), ForeignKey("persons.id"), primary_key=True),
    Column("father", String(128), ForeignKey("persons.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=True),
    Index("ix_paternal_links_father", "father"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("purpose", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("opened_by", String(128), nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("familial_approved_by", String(128), nullable=True),
    Column("familial_approved_at", String(32), nullable=True),
    # bound to the audit chain (see patriline.store.audit.BOUND)
    Column("audit_id", Integer, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    # a closed case allows no more searches, expansions or identity reads (migration 0004)
    Column("closed_at", String(32), nullable=True),
    Column("closed_by", String(128), nullable=True),
    Column("closed_reason", Text, nullable=True),
    # criminal | missing_person | remains_identification | quality_control (NULL: criminal)
    Column("case_type", String(32), nullable=True),
)

#: Familial approvals: each names one trace (its SHA-256; none for ``kind = "pairs"``) and
#: the bounds it allows, expires and is used up (``data/search_policy.toml``).
#: ``audit_id`` is the audit entry written in the same transaction as the row.
approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # search | pairs
    Column("trace_sha256", String(64), nullable=True),
    Column("max_mismatches", Integer, nullable=True),
    Column("max_steps", Integer, nullable=True),
    Column("min_loci", Integer, nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("approved_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("uses_left", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("audit_id", Integer, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index("ix_approvals_case_id", "case_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("user", String(128), nullable=False),
    Column("role", String(16), nullable=True),
    Column("case_id", String(128), nullable=True),
    Column("purpose", Text, nullable=True),
    Column("action", String(32), nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_case_id", "case_id"),
)

# ---------------------------------------------------------------- the lab service (0004)
#: Login credentials of the lab service, apart from ``users`` (bound to the chain) because
#: they change at every login: the Argon2id hash of the password, the TOTP secret of the
#: second factor (``totp_last_step``: the last time step accepted, so a code is used once),
#: and the failed-login counter and lock of the lockout rule.
credentials = Table(
    "credentials",
    metadata,
    Column("user", String(128), ForeignKey("users.name"), primary_key=True),
    Column("password_hash", Text, nullable=True),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_confirmed", Boolean, nullable=False),
    Column("totp_last_step", BigInteger, nullable=True),
    Column("must_change", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("first_failed_at", String(32), nullable=True),
    Column("locked_until", String(32), nullable=True),
    Column("updated_at", String(32), nullable=False),
)

#: Server-side browser sessions: the cookie holds a random token, the store its SHA-256.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user", String(128), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_seen_at", String(32), nullable=False),
    Column("ended_at", String(32), nullable=True),
    Column("client", Text, nullable=True),
    Index("ix_web_sessions_user", "user"),
)

#: Per-user API tokens for programs: the secret is shown once; the store keeps its SHA-256,
#: its scopes (comma-separated: read, search, admin), expiry and revocation.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(128), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("last_used_at", String(32), nullable=True),
    Index("ix_api_tokens_user", "user"),
)

#: An analyst's request for a familial approval of one trace within stated bounds, and a
#: supervisor's decision (status: pending | approved | refused | withdrawn).
approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # search | pairs
    Column("trace", Text, nullable=True),  # the canonical haplotype
    Column("trace_sha256", String(64), nullable=True),
    Column("max_mismatches", Integer, nullable=True),
    Column("max_steps", Integer, nullable=True),
    Column("min_loci", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", String(32), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("approval_id", Integer, nullable=True),
    Index("ix_approval_requests_status", "status"),
)

#: Background jobs (large imports): status queued | running | done | failed | cancelled.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("user", String(128), nullable=False),
    Column("case_id", String(128), nullable=True),
    Column("status", String(16), nullable=False),
    Column("done", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
)
