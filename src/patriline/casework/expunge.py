"""Expungement and retention (supervisors, admins): the store forgets a specimen and what
derives from it (:mod:`patriline.store.expunge`), and the search index kept beside the
store is brought up to date at once, so the profile leaves its files too."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from patriline.casework.access import Action
from patriline.errors import InputError
from patriline.store import expunge as _expunge
from patriline.store.records import ExpungeReport

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["apply_retention", "expunge", "retention_due"]


def _purge_index(session: Session) -> None:
    """Bring the search index kept beside the store up to date at once, so that the
    expunged profiles leave its files now (docs/safeguards.md)."""
    from patriline.casework.searching import purge_index

    purge_index(session)


def expunge(session: Session, specimen: str, reason: str) -> ExpungeReport:
    """Expunge one specimen; ``reason`` is required and audited; the index is purged."""
    if not reason.strip():
        raise InputError("expungement needs a reason (--reason)")
    session.authorize(Action.EXPUNGE)
    report = _expunge.expunge(session.store, specimen, reason, entry=session.entry(Action.EXPUNGE))
    _purge_index(session)
    return report


def apply_retention(session: Session, today: date | str | None = None) -> list[ExpungeReport]:
    """Expunge every specimen whose retention date is before ``today`` (and purge the index);
    a ``today`` after the real date is an :class:`InputError`."""
    session.authorize(Action.RETENTION)
    day = _expunge.retention_day(today)
    if day > date.today():
        raise InputError(
            f"--today {day.isoformat()} is in the future (today is {date.today().isoformat()}): "
            "retention cannot expunge ahead of time"
        )
    reports = _expunge.apply_retention(session.store, day, entry=session.entry(Action.RETENTION))
    if reports:
        _purge_index(session)
    return reports


def retention_due(session: Session, today: date | str | None = None) -> list[str]:
    """A dry run of :func:`apply_retention`: the specimens it would expunge; audited, removes
    nothing; a future ``today`` is an :class:`InputError` as there."""
    session.authorize(Action.RETENTION)
    day = _expunge.retention_day(today)
    if day > date.today():
        raise InputError(f"--today {day.isoformat()} is in the future")
    return _expunge.retention_due(session.store, day, entry=session.entry(Action.RETENTION))
