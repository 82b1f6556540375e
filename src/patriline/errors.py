"""Errors that patriline reports to people: each says what, where and why, never a traceback."""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ConflictError",
    "DatabaseBusy",
    "DisclosureRefused",
    "InputError",
    "NotFound",
    "PatrilineError",
]


class PatrilineError(Exception):
    """Base of every error the CLI and the service show as a message (exit code 2)."""

    exit_code = 2


class InputError(PatrilineError):
    """Bad input: a file, a line, a locus or a value that cannot be used."""


class AccessDenied(PatrilineError):
    """The actor's role, or the case, does not allow the operation."""

    exit_code = 3


class DisclosureRefused(AccessDenied):
    """A statistic over the store that would publish what fewer than k men share, or a
    store too small for store-wide statistics (docs/safeguards.md)."""


class NotFound(PatrilineError):
    """A specimen, person, case or user that does not exist (or was expunged)."""

    exit_code = 4


class ConflictError(PatrilineError):
    """An operation that would overwrite or contradict stored data."""

    exit_code = 5


class DatabaseBusy(PatrilineError):
    """Another process holds the database; the operation changed nothing and may be retried."""

    exit_code = 6
