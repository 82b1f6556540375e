"""Who is asking: passwords, the second factor, lockout, browser sessions and API tokens.

The lab service (``docs/service.md`` §Authentication) authenticates every request here and
acts through :func:`session_for`, a :class:`~patriline.casework.Session` of the
authenticated user (``via="service"``) limited to the request's scopes. The rules:

* **Passwords** are hashed with Argon2id (``argon2-cffi``, the RFC 9106 low-memory
  profile); a password is never logged nor put in an audit entry. An admin sets a
  one-time password (:func:`set_password`), which the user changes at the first login.
* **Lockout**: after ``max_failures`` failed logins within ``failure_window`` the account
  is locked for ``lockout``; every failure (``login_failed``), lock (``login_locked``),
  attempt refused while locked or without its second factor (``login_refused``) and login
  (``login``) is audited. An unknown user name costs the same Argon2 verification as a
  known one (no timing oracle) and gets the same answer.
* **Second factor**: TOTP (RFC 6238, ``pyotp``) for the roles of
  ``totp.required_roles``; a code is accepted once (the last accepted step is stored).
* **Browser sessions**: 32 random bytes per login (a new token at every login, so a
  session cannot be fixed), of which the store keeps the SHA-256; idle and absolute
  timeouts; a CSRF token per session. A session whose user must still change the password
  or enrol the second factor has no scope (:func:`principal_for`).
* **API tokens**: ``plt_<id>_<secret>``, shown once; the store keeps the SHA-256 of the
  secret; scopes ``read``/``search``/``admin`` (:data:`~patriline.casework.access.SCOPES`),
  an expiry, revocation, the last time used.

Times come from ``now=`` (a timezone-aware :class:`~datetime.datetime`; default: the
clock), so that tests move time instead of sleeping. The limits are in
``reference/data/service_policy.toml`` with their sources.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from patriline.casework.access import PERMISSIONS, SCOPE_ACTIONS, SCOPES, Action
from patriline.casework.session import Session
from patriline.errors import (
    AccountLocked,
    AuthenticationFailed,
    ConflictError,
    InputError,
    NotFound,
    SecondFactorRequired,
)
from patriline.reference.policy import ServicePolicy, service_policy
from patriline.store import AuditRecord, Database
from patriline.store import credentials as _cred

if TYPE_CHECKING:
    from patriline.store.credentials import CredentialRow

__all__ = [
    "Login",
    "NewToken",
    "Principal",
    "TokenInfo",
    "TotpEnrolment",
    "WebSession",
    "authenticate_token",
    "change_password",
    "confirm_totp",
    "create_token",
    "csrf_ok",
    "enrol_totp",
    "list_tokens",
    "login",
    "logout",
    "principal_for",
    "reset_totp",
    "resume",
    "revoke_token",
    "session_for",
    "set_password",
    "token_sha256",
]

#: The prefix of an API token's bearer string.
TOKEN_PREFIX = "plt"
#: The one message of a failed login: never says whether the user exists.
_BAD_LOGIN = "wrong user name or password"
_BAD_SESSION = "not logged in, or the session has ended or expired: log in again"
_BAD_TOKEN = "unknown, expired or revoked API token"
#: Longest client description or typed user name kept in an audit entry.
_MAX_TEXT = 128


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class Login:
    """A successful login: the session token (for the cookie) and its CSRF token."""

    token: str
    csrf_token: str
    user: str
    role: str
    must_change_password: bool
    totp_enrolment_required: bool


@dataclass(frozen=True)
class WebSession:
    """A live browser session (resumed from its token)."""

    user: str
    role: str
    csrf_token: str
    created_at: str
    last_seen_at: str
    token_sha256: str


@dataclass(frozen=True)
class NewToken:
    """A new API token; ``secret`` is the full bearer string, shown once (never stored)."""

    id: str
    secret: str
    label: str
    scopes: tuple[str, ...]
    expires_at: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (no secret)."""

    id: str
    user: str
    label: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request, with what the request may do."""

    user: str
    role: str
    scopes: frozenset[str]
    token_id: str | None
    web_session: str | None


@dataclass(frozen=True)
class TotpEnrolment:
    """A new (unconfirmed) TOTP secret and its ``otpauth://`` URI for an authenticator."""

    secret: str
    uri: str


# ---------------------------------------------------------------------- helpers
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _ts(at: datetime) -> str:
    """One fixed format (microseconds, ``+00:00``), so that stored times compare as text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def token_sha256(token: str) -> str:
    """The SHA-256 (hex) under which the store keeps a session token or token secret."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _short(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


@functools.cache
def _hasher() -> PasswordHasher:
    pol = service_policy()
    return PasswordHasher(
        time_cost=pol.argon2_time_cost,
        memory_cost=pol.argon2_memory_cost_kib,
        parallelism=pol.argon2_parallelism,
        hash_len=pol.argon2_hash_len,
        salt_len=pol.argon2_salt_len,
        type=Type.ID,
    )


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown or has no password (same cost)."""
    return _hasher().hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def _entry(
    action: str,
    user: str,
    role: str | None,
    *,
    params: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    via: str = "service",
) -> AuditRecord:
    return AuditRecord(
        user=user, role=role, action=action, params=params, result=result, via=via
    )  # fmt: skip


def _check_new_password(password: str, user: str, pol: ServicePolicy) -> None:
    if not isinstance(password, str):
        raise InputError("a password must be text", field="password")
    if not pol.password_min_length <= len(password) <= pol.password_max_length:
        raise InputError(
            f"a password has {pol.password_min_length} to {pol.password_max_length} characters",
            field="password",
        )
    if password.strip().casefold() == user.casefold():
        raise InputError("a password may not be the user name", field="password")


def _totp(secret: str, pol: ServicePolicy) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret, digits=pol.totp_digits, interval=pol.totp_step_seconds, issuer=pol.totp_issuer
    )


def _totp_step(secret: str, code: str, at: datetime, pol: ServicePolicy) -> int | None:
    """The time step (within ±``valid_window``) whose code is ``code``; None if none is."""
    code = "".join(str(code).split())
    if not (code.isdigit() and len(code) == pol.totp_digits):
        return None
    otp = _totp(secret, pol)
    step = int(at.timestamp()) // pol.totp_step_seconds
    found = None
    for s in range(step - pol.totp_valid_window, step + pol.totp_valid_window + 1):
        if hmac.compare_digest(otp.generate_otp(s), code):
            found = s  # no early exit: every step is compared
    return found


def _needs_totp(role: str, pol: ServicePolicy) -> bool:
    return role in pol.totp_required_roles


# ---------------------------------------------------------------------- passwords
def set_password(
    session: Session,
    user: str,
    password: str | None = None,
    *,
    one_time: bool = True,
    now: datetime | None = None,
) -> str:
    """Set ``user``'s password (admins: ``user_admin``); the password set.

    Without ``password`` a random one is generated (``password.generated_bytes``). A
    ``one_time`` password must be changed at the first login (:func:`change_password`).
    Clears the failure counter and lock and ends the user's browser sessions. Audited
    (``user_admin``, ``set_password``) without the password.
    """
    pol = service_policy()
    at = _now(now)
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(pol.generated_password_bytes)
    else:
        _check_new_password(password, user, pol)
    session.authorize(Action.USER_ADMIN)
    entry = session.entry(
        Action.USER_ADMIN,
        params={"set_password": user, "one_time": one_time, "generated": generated},
    )
    _cred.set_password_hash(
        session.store,
        user,
        _hasher().hash(password),
        must_change=one_time,
        at=_ts(at),
        entry=entry,
        end_sessions=True,
    )
    return password


def _check_password(
    store: Database, user: str, password: str, at: datetime, client: str | None, via: str
) -> CredentialRow:
    """The user's credentials if ``password`` is theirs and the account is not locked;
    otherwise the failure is counted and audited and the error raised."""
    if not isinstance(user, str) or not isinstance(password, str):
        raise AuthenticationFailed(_BAD_LOGIN)
    row = _cred.find_credentials(store, user) if len(user) <= 128 else None
    ts = _ts(at)
    params = {"client": _short(client)}
    if row is not None and row.locked_until is not None and row.locked_until > ts:
        retry = max(1, int((_parse(row.locked_until) - at).total_seconds()))
        _cred.append_entry(
            store,
            _entry(
                "login_refused", user, row.role, params=params,
                result={"reason": "locked", "locked_until": row.locked_until}, via=via,
            ),
        )  # fmt: skip
        raise AccountLocked(
            f"too many failed logins: the account is locked; try again in {retry} s",
            retry_after=retry,
        )
    if row is not None and _verify(row.password_hash, password):
        if row.password_hash and _hasher().check_needs_rehash(row.password_hash):
            # the policy's Argon2 parameters were raised: rehash now that we have it
            _cred.update_password_hash(store, user, row.password_hash, _hasher().hash(password), ts)
        return row
    if row is None:
        _verify(None, password)  # the same cost as for a known user
    reason = "unknown_user" if row is None else "password" if row.password_hash else "no_password"
    _count_failure(store, user, row, at, params, reason, via)


def _count_failure(
    store: Database,
    user: str,
    row: CredentialRow | None,
    at: datetime,
    params: dict[str, Any],
    reason: str,
    via: str,
) -> NoReturn:
    """Count and audit a failed login; raise :class:`AuthenticationFailed`, or
    :class:`AccountLocked` if this failure locked the account."""
    pol = service_policy()
    role = row.role if row is not None else None
    _, locked = _cred.record_failure(
        store,
        user if row is not None else None,
        at=_ts(at),
        window_start=_ts(at - timedelta(minutes=pol.failure_window_minutes)),
        max_failures=pol.max_failures,
        locked_until=_ts(at + timedelta(minutes=pol.lockout_minutes)),
        entry=_entry(
            "login_failed", _short(user) or "", role, params=params,
            result={"reason": reason}, via=via,
        ),
        lock_entry=_entry("login_locked", user, role, params=params, via=via),
    )  # fmt: skip
    if locked is not None:
        retry = pol.lockout_minutes * 60
        raise AccountLocked(
            f"too many failed logins: the account is locked; try again in {retry} s",
            retry_after=retry,
        )
    raise AuthenticationFailed(_BAD_LOGIN)


def change_password(
    store: Database,
    user: str,
    old: str,
    new: str,
    *,
    client: str | None = None,
    now: datetime | None = None,
    via: str = "service",
) -> None:
    """Change ``user``'s own password (``old`` checked as at a login, with the lockout).

    Ends every browser session of the user (log in again with the new password).
    Audited (``password_change``) without either password.
    """
    pol = service_policy()
    at = _now(now)
    _check_new_password(new, user, pol)
    row = _check_password(store, user, old, at, client, via)
    if hmac.compare_digest(old.encode(), new.encode()):
        raise InputError("the new password must differ from the old one", field="new")
    _cred.set_password_hash(
        store,
        user,
        _hasher().hash(new),
        must_change=False,
        at=_ts(at),
        entry=_entry("password_change", user, row.role, params={"client": _short(client)}, via=via),
        end_sessions=True,
    )


# ---------------------------------------------------------------------- browser sessions
def login(
    store: Database,
    user: str,
    password: str,
    totp: str | None = None,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> Login:
    """Log ``user`` in: a new browser session (token and CSRF token).

    Raises :class:`AuthenticationFailed` (wrong user or password, or a wrong or reused
    second-factor code: counted towards the lockout), :class:`AccountLocked` (locked,
    ``details["retry_after"]``), :class:`SecondFactorRequired` (the role needs a code and
    none was given). ``client`` (e.g. the remote address) is recorded in the audit entry.
    """
    pol = service_policy()
    at = _now(now)
    row = _check_password(store, user, password, at, client, "service")
    params = {"client": _short(client)}
    needs_totp = _needs_totp(row.role, pol)
    second_factor = False
    if needs_totp and row.totp_confirmed and row.totp_secret:
        if totp is None or not str(totp).strip():
            _cred.append_entry(
                store,
                _entry(
                    "login_refused", user, row.role, params=params,
                    result={"reason": "totp_missing"},
                ),
            )  # fmt: skip
            raise SecondFactorRequired(
                f"role {row.role} logs in with a second factor: give the code of the "
                "authenticator app",
                field="totp",
            )
        step = _totp_step(row.totp_secret, totp, at, pol)
        if step is None:
            _count_failure(store, user, row, at, params, "totp", "service")
        if not _cred.take_totp_step(store, user, step, _ts(at)):
            _count_failure(store, user, row, at, params, "totp_reused", "service")
        second_factor = True
    token = secrets.token_urlsafe(pol.session_token_bytes)
    csrf = secrets.token_urlsafe(pol.session_token_bytes)
    enrol = needs_totp and not row.totp_confirmed
    _cred.insert_web_session(
        store,
        token_sha256=token_sha256(token),
        user=user,
        csrf_token=csrf,
        at=_ts(at),
        client=_short(client),
        entry=_entry(
            "login", user, row.role, params=params,
            result={
                "second_factor": second_factor,
                "must_change_password": row.must_change,
                "totp_enrolment_required": enrol,
            },
        ),
    )  # fmt: skip
    return Login(token, csrf, user, row.role, row.must_change, enrol)


def resume(store: Database, token: str, *, now: datetime | None = None) -> WebSession:
    """The live browser session of ``token``; :class:`AuthenticationFailed` if there is
    none, it ended, or it timed out (idle or absolute: the session is then ended,
    audited ``session_expired``)."""
    pol = service_policy()
    at = _now(now)
    if not isinstance(token, str) or not token or len(token) > 256:
        raise AuthenticationFailed(_BAD_SESSION)
    digest = token_sha256(token)
    row = _cred.find_web_session(store, digest)
    if row is None or row.ended_at is not None:
        raise AuthenticationFailed(_BAD_SESSION)
    role = store.role_of(row.user)
    idle = at - _parse(row.last_seen_at) > timedelta(minutes=pol.session_idle_minutes)
    absolute = at - _parse(row.created_at) > timedelta(hours=pol.session_absolute_hours)
    if role is None or idle or absolute:
        reason = "user_removed" if role is None else "absolute" if absolute else "idle"
        _cred.end_web_session(
            store,
            digest,
            _ts(at),
            _entry("session_expired", row.user, role, result={"reason": reason}),
        )
        raise AuthenticationFailed(_BAD_SESSION, reason=reason)
    seen = row.last_seen_at
    if at - _parse(seen) >= timedelta(seconds=pol.session_touch_seconds):
        seen = _ts(at)
        _cred.touch_web_session(store, digest, seen, if_before=seen)
    return WebSession(row.user, role, row.csrf_token, row.created_at, seen, digest)


def logout(store: Database, token: str, *, now: datetime | None = None) -> None:
    """End the browser session of ``token`` (audited ``logout``); nothing if none is live."""
    if not isinstance(token, str) or not token:
        return
    digest = token_sha256(token)
    row = _cred.find_web_session(store, digest)
    if row is None or row.ended_at is not None:
        return
    entry = _entry("logout", row.user, store.role_of(row.user))
    _cred.end_web_session(store, digest, _ts(_now(now)), entry)


def csrf_ok(web: WebSession, token: str | None) -> bool:
    """Whether ``token`` (a form field or ``X-CSRF-Token`` header) is the session's CSRF
    token (compared in constant time)."""
    if not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token.encode("utf-8"), web.csrf_token.encode("utf-8"))


def principal_for(store: Database, web: WebSession) -> Principal:
    """The principal of a browser session: every scope, or none while the user must
    change a one-time password or enrol the second factor their role needs."""
    pol = service_policy()
    row = _cred.find_credentials(store, web.user)
    if row is None:
        raise AuthenticationFailed(_BAD_SESSION)
    pending = row.must_change or (_needs_totp(row.role, pol) and not row.totp_confirmed)
    scopes = frozenset() if pending else frozenset(SCOPES)
    return Principal(row.user, row.role, scopes, None, web.token_sha256)


def session_for(store: Database, principal: Principal) -> Session:
    """The casework session of a principal (``via="service"``, its scopes)."""
    return Session(store, principal.user, via="service", scopes=principal.scopes)


# ---------------------------------------------------------------------- second factor
def enrol_totp(session: Session, *, now: datetime | None = None) -> TotpEnrolment:
    """A new TOTP secret for the session's user, to confirm with :func:`confirm_totp`.

    :class:`ConflictError` if a confirmed second factor exists (an admin resets it:
    :func:`reset_totp`). Audited (``totp_enrol``) without the secret.
    """
    pol = service_policy()
    at = _now(now)
    row = _cred.find_credentials(session.store, session.user)
    if row is not None and row.totp_confirmed:
        raise ConflictError(
            f"user {session.user!r} has a second factor already; an admin resets it first"
        )
    secret = pyotp.random_base32(length=-(-pol.totp_secret_bytes * 8 // 5))
    _cred.set_totp(
        session.store,
        session.user,
        secret=secret,
        confirmed=False,
        last_step=None,
        at=_ts(at),
        entry=session.entry("totp_enrol"),
    )
    uri = _totp(secret, pol).provisioning_uri(name=session.user, issuer_name=pol.totp_issuer)
    return TotpEnrolment(secret, uri)


def confirm_totp(session: Session, code: str, *, now: datetime | None = None) -> None:
    """Confirm the enrolled secret with a code of the authenticator (audited
    ``totp_confirm``); from then on the user logs in with a code."""
    pol = service_policy()
    at = _now(now)
    row = _cred.find_credentials(session.store, session.user)
    if row is None or row.totp_secret is None or row.totp_confirmed:
        raise ConflictError("no second factor waiting to be confirmed: enrol one first")
    step = _totp_step(row.totp_secret, code, at, pol)
    if step is None:
        raise InputError("the code does not match: type the authenticator's current code",
                         field="totp")  # fmt: skip
    _cred.set_totp(
        session.store,
        session.user,
        secret=row.totp_secret,
        confirmed=True,
        last_step=step,
        at=_ts(at),
        entry=session.entry("totp_confirm"),
    )


def reset_totp(session: Session, user: str, *, now: datetime | None = None) -> None:
    """Remove ``user``'s second factor (admins: ``user_admin``; a lost phone); the user
    enrols a new one at the next login. Ends the user's browser sessions; audited."""
    session.authorize(Action.USER_ADMIN)
    _cred.set_totp(
        session.store,
        user,
        secret=None,
        confirmed=False,
        last_step=None,
        at=_ts(_now(now)),
        entry=session.entry(Action.USER_ADMIN, params={"reset_totp": user}),
        end_sessions=True,
    )


# ---------------------------------------------------------------------- API tokens
def _scope_usable(role: str, scope: str) -> bool:
    """Whether ``role`` may do anything with ``scope`` beyond what ``read`` gives."""
    if scope == "read":
        return True
    return bool((SCOPE_ACTIONS[scope] - SCOPE_ACTIONS["read"]) & PERMISSIONS.get(role, set()))


def _info(row: _cred.TokenRow) -> TokenInfo:
    return TokenInfo(
        row.id, row.user, row.label, row.scopes, row.created_at, row.expires_at,
        row.revoked_at, row.last_used_at,
    )  # fmt: skip


def create_token(
    session: Session,
    *,
    label: str,
    scopes: Sequence[str],
    days: int | None = None,
    now: datetime | None = None,
) -> NewToken:
    """A new API token of the session's user (its secret is in the result only).

    ``scopes`` among ``read``, ``search``, ``admin``, each one the user's role can use,
    none beyond the session's own (a token cannot mint a wider one: refused, audited);
    ``days`` until it expires (default ``token.default_days``, at most
    ``token.max_days``). Audited (``token_create``) without the secret.
    """
    pol = service_policy()
    at = _now(now)
    if isinstance(scopes, str):
        scopes = [s for s in scopes.replace(",", " ").split() if s]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(
            f"scopes are some of {', '.join(SCOPES)}"
            + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else ""),
            field="scopes",
        )
    wanted = tuple(s for s in SCOPES if s in scopes)
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        raise InputError("a token needs a label of 1 to 200 characters", field="label")
    days = pol.token_default_days if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= pol.token_max_days:
        raise InputError(f"days is 1 to {pol.token_max_days}", field="days", value=days)
    beyond = [s for s in wanted if s not in session.scopes]
    if beyond:
        raise session.refuse(
            "token_create", None,
            f"this session may not create a token with scope {', '.join(beyond)}",
        )  # fmt: skip
    role = session.role()
    unusable = [s for s in wanted if not _scope_usable(role, s)]
    if unusable:
        raise session.refuse(
            "token_create", None,
            f"role {role} has no use for scope {', '.join(unusable)}",
        )  # fmt: skip
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(pol.token_secret_bytes)
    expires = _ts(at + timedelta(days=days))
    entry = session.entry(
        "token_create",
        params={"token": token_id, "label": _short(label), "scopes": list(wanted),
                "expires_at": expires},
    )  # fmt: skip
    _cred.insert_token(
        session.store,
        id=token_id,
        user=session.user,
        token_sha256=token_sha256(secret),
        label=label.strip(),
        scopes=wanted,
        created_at=_ts(at),
        expires_at=expires,
        entry=entry,
    )
    return NewToken(token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}", label.strip(), wanted, expires)


def list_tokens(session: Session, *, user: str | None = None) -> list[TokenInfo]:
    """The API tokens of the session's user, or (admins: ``user_admin``) of ``user``."""
    if user is not None and user != session.user:
        session.authorize(Action.USER_ADMIN)
        session.store.actor(user)  # NotFound for an unknown user
    else:
        session.require_scope("read", "listing tokens")
    return [_info(r) for r in _cred.list_tokens(session.store, user or session.user)]


def revoke_token(session: Session, token_id: str, *, now: datetime | None = None) -> None:
    """Revoke an API token: its owner, or an admin (``user_admin``). Audited
    (``token_revoke``); revoking a revoked token changes nothing."""
    row = _cred.find_token(session.store, token_id) if isinstance(token_id, str) else None
    if row is None:
        raise NotFound(f"no API token {truncate_id(token_id)!r}")
    if row.user != session.user:
        session.authorize(Action.USER_ADMIN)
    entry = session.entry("token_revoke", params={"token": row.id, "owner": row.user})
    _cred.revoke_token(session.store, row.id, _ts(_now(now)), entry)


def truncate_id(token_id: object) -> str:
    text = str(token_id)
    return text if len(text) <= 32 else text[:32] + "…"


def authenticate_token(store: Database, bearer: str, *, now: datetime | None = None) -> Principal:
    """The principal of an API token's bearer string; :class:`AuthenticationFailed` if it
    is malformed, unknown, expired, revoked or its user is no longer one. A refusal of a
    known token is audited (``token_refused``)."""
    pol = service_policy()
    at = _now(now)
    parts = bearer.split("_", 2) if isinstance(bearer, str) and len(bearer) <= 256 else []
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise AuthenticationFailed(_BAD_TOKEN)
    row = _cred.find_token(store, parts[1])
    if row is None:
        raise AuthenticationFailed(_BAD_TOKEN)
    role = store.role_of(row.user)
    ts = _ts(at)
    if not hmac.compare_digest(token_sha256(parts[2]), row.token_sha256):
        reason = "secret"
    elif row.revoked_at is not None:
        reason = "revoked"
    elif row.expires_at <= ts:
        reason = "expired"
    elif role is None:
        reason = "user_removed"
    else:
        reason = ""
    if reason or role is None:
        _cred.append_entry(
            store,
            _entry("token_refused", row.user, role, params={"token": row.id},
                   result={"reason": reason}),
        )  # fmt: skip
        raise AuthenticationFailed(_BAD_TOKEN, reason=reason if reason != "secret" else None)
    since = _ts(at - timedelta(seconds=pol.token_touch_seconds))
    if row.last_used_at is None or row.last_used_at < since:
        _cred.touch_token(store, row.id, ts, if_before=since)
    return Principal(row.user, role, frozenset(row.scopes), row.id, None)
