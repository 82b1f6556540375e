"""Errors that patriline reports to people: each says what, where and why, never a traceback.

One hierarchy for every front-end: each class carries its CLI ``exit_code``, its
``http_status``, a stable ``code`` string, and structured ``details`` (``field``,
``file``, ``line``, ``locus``, ``value`` ...). :meth:`PatrilineError.to_dict` gives the one
JSON error shape ``{"error": {"code", "message", "details"}}`` that ``--json`` prints (and
the HTTP service will answer with). Messages name *fields* (``max_mismatches``), never CLI
flags; the CLI maps a ``details["field"]`` to its flag when it prints the message.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "AccountLocked",
    "AuthenticationFailed",
    "ConflictError",
    "DatabaseBusy",
    "DisclosureRefused",
    "InputError",
    "InternalError",
    "NotFound",
    "PatrilineError",
    "SecondFactorRequired",
    "StoreUnavailable",
    "truncate",
]

#: Longest value quoted in a message (longer values are cut, with their length).
MAX_SHOWN = 60


def truncate(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` as text for a message: control characters escaped, cut to ``limit``."""
    text = str(value)
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(shown) > limit:
        return f"{shown[:limit]}… ({len(text)} characters)"
    return shown


class PatrilineError(Exception):
    """Base of every error the CLI and the service show as a message."""

    exit_code: ClassVar[int] = 2
    http_status: ClassVar[int] = 400
    code: ClassVar[str] = "error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        #: structured facts about the error (None values dropped): field, file, line ...
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}

    def __str__(self) -> str:
        return self.message if self.message else super().__str__()

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape: ``{"error": {"code", "message", "details"}}``."""
        details = {k: _plain(v) for k, v in self.details.items()}
        return {"error": {"code": self.code, "message": str(self), "details": details}}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class InputError(PatrilineError):
    """Bad input: a file, a line, a locus or a value that cannot be used."""

    exit_code = 2
    http_status = 400
    code = "input_error"


class AccessDenied(PatrilineError):
    """The actor's role, or the case, does not allow the operation."""

    exit_code = 3
    http_status = 403
    code = "access_denied"


class AuthenticationFailed(AccessDenied):
    """Not authenticated: a wrong user name or password, or an unknown, ended, expired or
    revoked session or API token. The message never says which (nor whether the user
    exists). A kind of :class:`AccessDenied` (the CLI's exit code 3), answered with 401."""

    http_status = 401
    code = "authentication_failed"


class AccountLocked(AuthenticationFailed):
    """Too many failed logins: the account is locked for a while
    (``details["retry_after"]``: seconds until it may be tried again). HTTP 429."""

    http_status = 429
    code = "account_locked"


class SecondFactorRequired(AuthenticationFailed):
    """The password was right but the second factor (a TOTP code) is missing or wrong."""

    http_status = 401
    code = "totp_required"


class DisclosureRefused(AccessDenied):
    """A statistic over the store that would publish what fewer than k men share, or a
    store too small for store-wide statistics (docs/safeguards.md)."""


class NotFound(PatrilineError):
    """A specimen, person, case or user that does not exist (or was expunged)."""

    exit_code = 4
    http_status = 404
    code = "not_found"


class ConflictError(PatrilineError):
    """An operation that would overwrite or contradict stored data."""

    exit_code = 5
    http_status = 409
    code = "conflict"


class DatabaseBusy(PatrilineError):
    """Another process holds the database; the operation changed nothing and may be retried."""

    exit_code = 6
    http_status = 503
    code = "database_busy"


class StoreUnavailable(PatrilineError):
    """The store's database server cannot be reached (down, restarted, connection cut).

    A write that was under way is rolled back by the server; retry when it is back.
    """

    exit_code = 7
    http_status = 503
    code = "store_unavailable"


class InternalError(PatrilineError):
    """A bug: something patriline did not expect. The CLI shows no traceback unless
    ``PATRILINE_DEBUG=1``."""

    exit_code = 70  # EX_SOFTWARE (sysexits.h)
    http_status = 500
    code = "internal_error"
