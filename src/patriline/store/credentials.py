"""Rows of the lab service's logins: credentials, browser sessions, API tokens.

Persistence only: what is checked (passwords, lockout, timeouts, scopes) is decided by
:mod:`patriline.casework.auth`. The store keeps the Argon2id hash of a password (never
the password), the SHA-256 of a session token or token secret (never the token), and the
TOTP secret (a shared secret, see ``docs/service.md``). Times are ISO 8601 UTC strings
of one format (microseconds, ``+00:00``), so they compare as strings.

Writers that the audit log must record take the :class:`~patriline.store.audit.AuditRecord`
to append and write it in the same transaction as their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from patriline.errors import NotFound
from patriline.store import audit as _audit
from patriline.store.schema import api_tokens, credentials, users, web_sessions

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = [
    "CredentialRow",
    "TokenRow",
    "WebSessionRow",
    "append_entry",
    "end_user_sessions",
    "end_web_session",
    "find_credentials",
    "find_token",
    "find_web_session",
    "insert_token",
    "insert_web_session",
    "list_tokens",
    "record_failure",
    "revoke_token",
    "set_password_hash",
    "set_totp",
    "take_totp_step",
    "touch_token",
    "touch_web_session",
    "update_password_hash",
]


@dataclass(frozen=True)
class CredentialRow:
    """A user's login facts (``role`` from ``users``; None fields: not set)."""

    user: str
    role: str
    password_hash: str | None
    totp_secret: str | None
    totp_confirmed: bool
    totp_last_step: int | None
    must_change: bool
    failed_logins: int
    first_failed_at: str | None
    locked_until: str | None
    updated_at: str


@dataclass(frozen=True)
class WebSessionRow:
    token_sha256: str
    user: str
    csrf_token: str
    created_at: str
    last_seen_at: str
    ended_at: str | None
    client: str | None


@dataclass(frozen=True)
class TokenRow:
    id: str
    user: str
    token_sha256: str
    label: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None


# ---------------------------------------------------------------------- credentials
def _credentials(conn: Connection, user: str, *, for_update: bool = False) -> CredentialRow | None:
    q = (
        select(users.c.role, credentials)
        .select_from(users.outerjoin(credentials, credentials.c.user == users.c.name))
        .where(users.c.name == user)
    )
    if for_update and conn.dialect.name == "postgresql":
        # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join: lock the
        # credentials row on its own (SQLite's write transaction is exclusive already).
        conn.execute(select(credentials.c.user).where(credentials.c.user == user).with_for_update())
    r = conn.execute(q).first()
    if r is None:
        return None
    if r.updated_at is None:  # a user without a credentials row
        return CredentialRow(user, r.role, None, None, False, None, False, 0, None, None, "")
    return CredentialRow(
        user,
        r.role,
        r.password_hash,
        r.totp_secret,
        bool(r.totp_confirmed),
        None if r.totp_last_step is None else int(r.totp_last_step),
        bool(r.must_change),
        int(r.failed_logins),
        r.first_failed_at,
        r.locked_until,
        r.updated_at,
    )


def find_credentials(db: Database, user: str) -> CredentialRow | None:
    """The login facts of ``user`` (None if there is no such user)."""
    with db.read() as conn:
        return _credentials(conn, user)


def _ensure_row(conn: Connection, user: str, at: str) -> None:
    if conn.execute(select(credentials.c.user).where(credentials.c.user == user)).first() is None:
        conn.execute(
            insert(credentials).values(
                user=user,
                password_hash=None,
                totp_secret=None,
                totp_confirmed=False,
                totp_last_step=None,
                must_change=False,
                failed_logins=0,
                first_failed_at=None,
                locked_until=None,
                updated_at=at,
            )
        )


def _require_user(conn: Connection, user: str) -> None:
    if conn.execute(select(users.c.name).where(users.c.name == user)).first() is None:
        raise NotFound(f"no user {user!r} in this store")


def set_password_hash(
    db: Database,
    user: str,
    password_hash: str,
    *,
    must_change: bool,
    at: str,
    entry: _audit.AuditRecord,
    end_sessions: bool = False,
) -> None:
    """Store a new password hash of ``user`` (clearing the failure counter and lock) and
    append ``entry``; with ``end_sessions`` end every browser session of the user."""
    with db.write() as conn:
        _require_user(conn, user)
        _ensure_row(conn, user, at)
        conn.execute(
            update(credentials)
            .where(credentials.c.user == user)
            .values(
                password_hash=password_hash,
                must_change=must_change,
                failed_logins=0,
                first_failed_at=None,
                locked_until=None,
                updated_at=at,
            )
        )
        if end_sessions:
            _end_user_sessions(conn, user, at)
        _audit.append_record(conn, entry)


def update_password_hash(db: Database, user: str, old_hash: str, new_hash: str, at: str) -> bool:
    """Replace ``old_hash`` by ``new_hash`` (the same password, rehashed with the current
    parameters) unless the password changed meanwhile; whether it was replaced. Not
    audited: nothing a user or an admin did changed."""
    with db.write() as conn:
        done = conn.execute(
            update(credentials)
            .where(credentials.c.user == user, credentials.c.password_hash == old_hash)
            .values(password_hash=new_hash, updated_at=at)
        )
        return bool(done.rowcount == 1)


def record_failure(
    db: Database,
    user: str | None,
    *,
    at: str,
    window_start: str,
    max_failures: int,
    locked_until: str,
    entry: _audit.AuditRecord,
    lock_entry: _audit.AuditRecord,
) -> tuple[int, str | None]:
    """Count a failed login of ``user`` (None or a name without credentials: only audit).

    In one transaction: the counter restarts at 1 when the first counted failure is
    older than ``window_start`` or a lock has run out; at ``max_failures`` the account is
    locked until ``locked_until`` and ``lock_entry`` is appended too. ``entry`` gets the
    count in its result. Returns (failures counted, locked until or None).
    """
    with db.write() as conn:
        row = _credentials(conn, user, for_update=True) if user is not None else None
        if row is None or not row.updated_at:
            _audit.append_record(conn, entry)
            return 0, None
        stale = (
            row.first_failed_at is None
            or row.first_failed_at < window_start
            or (row.locked_until is not None and row.locked_until <= at)
        )
        count = 1 if stale else row.failed_logins + 1
        first = at if stale else row.first_failed_at
        lock = locked_until if count >= max_failures else None
        conn.execute(
            update(credentials)
            .where(credentials.c.user == user)
            .values(failed_logins=count, first_failed_at=first, locked_until=lock, updated_at=at)
        )
        _audit.append_record(conn, entry.but(result={**(entry.result or {}), "failures": count}))
        if lock is not None:
            _audit.append_record(
                conn, lock_entry.but(result={**(lock_entry.result or {}), "locked_until": lock})
            )
        return count, lock


def append_entry(db: Database, entry: _audit.AuditRecord) -> int:
    """Append ``entry`` in its own transaction, also for a name that is not a user (a
    failed or refused login as typed); its ID."""
    with db.write() as conn:
        return _audit.append_record(conn, entry)


def set_totp(
    db: Database,
    user: str,
    *,
    secret: str | None,
    confirmed: bool,
    last_step: int | None,
    at: str,
    entry: _audit.AuditRecord,
    end_sessions: bool = False,
) -> None:
    """Store the TOTP state of ``user`` (secret, confirmed, last step) and ``entry``."""
    with db.write() as conn:
        _require_user(conn, user)
        _ensure_row(conn, user, at)
        conn.execute(
            update(credentials)
            .where(credentials.c.user == user)
            .values(
                totp_secret=secret, totp_confirmed=confirmed, totp_last_step=last_step,
                updated_at=at,
            )
        )  # fmt: skip
        if end_sessions:
            _end_user_sessions(conn, user, at)
        _audit.append_record(conn, entry)


def take_totp_step(db: Database, user: str, step: int, at: str) -> bool:
    """Record ``step`` as the last accepted TOTP step of ``user`` if it is newer than the
    last one (atomic); False if it is not (the code was used already)."""
    with db.write() as conn:
        done = conn.execute(
            update(credentials)
            .where(
                credentials.c.user == user,
                or_(credentials.c.totp_last_step.is_(None), credentials.c.totp_last_step < step),
            )
            .values(totp_last_step=step, updated_at=at)
        )
        return bool(done.rowcount == 1)


# ---------------------------------------------------------------------- browser sessions
def insert_web_session(
    db: Database,
    *,
    token_sha256: str,
    user: str,
    csrf_token: str,
    at: str,
    client: str | None,
    entry: _audit.AuditRecord,
) -> None:
    """A new browser session of ``user``; clears the user's failure counter; ``entry``."""
    with db.write() as conn:
        conn.execute(
            insert(web_sessions).values(
                token_sha256=token_sha256,
                user=user,
                csrf_token=csrf_token,
                created_at=at,
                last_seen_at=at,
                ended_at=None,
                client=client,
            )
        )
        conn.execute(
            update(credentials)
            .where(credentials.c.user == user, credentials.c.failed_logins != 0)
            .values(failed_logins=0, first_failed_at=None, locked_until=None, updated_at=at)
        )
        _audit.append_record(conn, entry)


def _web_session(r: object) -> WebSessionRow:
    return WebSessionRow(
        r.token_sha256,  # type: ignore[attr-defined]
        r.user,  # type: ignore[attr-defined]
        r.csrf_token,  # type: ignore[attr-defined]
        r.created_at,  # type: ignore[attr-defined]
        r.last_seen_at,  # type: ignore[attr-defined]
        r.ended_at,  # type: ignore[attr-defined]
        r.client,  # type: ignore[attr-defined]
    )


def find_web_session(db: Database, token_sha256: str) -> WebSessionRow | None:
    with db.read() as conn:
        r = conn.execute(
            select(web_sessions).where(web_sessions.c.token_sha256 == token_sha256)
        ).first()
    return None if r is None else _web_session(r)


def touch_web_session(db: Database, token_sha256: str, at: str, *, if_before: str) -> None:
    """Set the last-seen time of a live session to ``at`` if it is older than ``if_before``."""
    with db.write() as conn:
        conn.execute(
            update(web_sessions)
            .where(
                web_sessions.c.token_sha256 == token_sha256,
                web_sessions.c.ended_at.is_(None),
                web_sessions.c.last_seen_at < if_before,
            )
            .values(last_seen_at=at)
        )


def end_web_session(
    db: Database, token_sha256: str, at: str, entry: _audit.AuditRecord | None = None
) -> bool:
    """End a live session (and append ``entry`` if it was live); whether it was live."""
    with db.write() as conn:
        done = conn.execute(
            update(web_sessions)
            .where(web_sessions.c.token_sha256 == token_sha256, web_sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        )
        live = bool(done.rowcount == 1)
        if live and entry is not None:
            _audit.append_record(conn, entry)
        return live


def _end_user_sessions(conn: Connection, user: str, at: str) -> int:
    done = conn.execute(
        update(web_sessions)
        .where(web_sessions.c.user == user, web_sessions.c.ended_at.is_(None))
        .values(ended_at=at)
    )
    return int(done.rowcount)


def end_user_sessions(db: Database, user: str, at: str) -> int:
    """End every live browser session of ``user``; how many."""
    with db.write() as conn:
        return _end_user_sessions(conn, user, at)


# ---------------------------------------------------------------------- API tokens
def _token(r: object) -> TokenRow:
    return TokenRow(
        r.id,  # type: ignore[attr-defined]
        r.user,  # type: ignore[attr-defined]
        r.token_sha256,  # type: ignore[attr-defined]
        r.label,  # type: ignore[attr-defined]
        tuple(s for s in r.scopes.split(",") if s),  # type: ignore[attr-defined]
        r.created_at,  # type: ignore[attr-defined]
        r.expires_at,  # type: ignore[attr-defined]
        r.revoked_at,  # type: ignore[attr-defined]
        r.last_used_at,  # type: ignore[attr-defined]
    )


def insert_token(
    db: Database,
    *,
    id: str,
    user: str,
    token_sha256: str,
    label: str,
    scopes: Sequence[str],
    created_at: str,
    expires_at: str,
    entry: _audit.AuditRecord,
) -> TokenRow:
    """A new API token row (the SHA-256 of its secret) and ``entry``, in one transaction."""
    with db.write() as conn:
        _require_user(conn, user)
        conn.execute(
            insert(api_tokens).values(
                id=id,
                user=user,
                token_sha256=token_sha256,
                label=label,
                scopes=",".join(scopes),
                created_at=created_at,
                expires_at=expires_at,
                revoked_at=None,
                last_used_at=None,
            )
        )
        _audit.append_record(conn, entry)
    return TokenRow(
        id, user, token_sha256, label, tuple(scopes), created_at, expires_at, None, None
    )


def find_token(db: Database, token_id: str) -> TokenRow | None:
    with db.read() as conn:
        r = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return None if r is None else _token(r)


def list_tokens(db: Database, user: str | None = None) -> list[TokenRow]:
    """The tokens (of ``user``), oldest first."""
    q = select(api_tokens)
    if user is not None:
        q = q.where(api_tokens.c.user == user)
    with db.read() as conn:
        rows = conn.execute(q.order_by(api_tokens.c.created_at, api_tokens.c.id)).all()
    return [_token(r) for r in rows]


def revoke_token(db: Database, token_id: str, at: str, entry: _audit.AuditRecord) -> bool:
    """Revoke a token (if not revoked already) and append ``entry``; whether it was live."""
    with db.write() as conn:
        done = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        live = bool(done.rowcount == 1)
        _audit.append_record(conn, entry.but(result={**(entry.result or {}), "was_live": live}))
        return live


def touch_token(db: Database, token_id: str, at: str, *, if_before: str) -> None:
    """Set the last-used time of a token to ``at`` if unset or older than ``if_before``."""
    with db.write() as conn:
        conn.execute(
            update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                or_(
                    api_tokens.c.last_used_at.is_(None),
                    and_(api_tokens.c.last_used_at < if_before),
                ),
            )
            .values(last_used_at=at)
        )
