"""Expungement and retention: forget what the law says must be forgotten.

Expunging a specimen deletes its haplotype and specimen rows; if its person has no other
specimen, the person, their identity and the paternal links that mention them are
deleted too. A ``remove`` event goes to the change feed (indexes drop the specimen),
a tombstone (``removals``) stops the same specimen ID from being imported again, and the
audit log gets an ``expunge`` entry naming only IDs and the reason — never genetic data.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, or_, select

from patriline.errors import InputError, NotFound
from patriline.store import audit as _audit
from patriline.store.batches import bump_seq
from patriline.store.records import ExpungeReport
from patriline.store.schema import (
    haplotypes,
    identities,
    paternal_links,
    persons,
    removals,
    specimens,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from patriline.store.database import Database

__all__ = ["apply_retention", "expunge", "retention_day"]


def _expunge(
    conn: Connection, entry: _audit.AuditRecord, specimen: str, reason: str, action: str
) -> ExpungeReport:
    person = conn.execute(
        select(specimens.c.person).where(specimens.c.id == specimen)
    ).scalar_one_or_none()
    if person is None:
        raise NotFound(f"no specimen {specimen!r} in the store (already expunged?)")
    conn.execute(delete(haplotypes).where(haplotypes.c.specimen == specimen))
    conn.execute(delete(specimens).where(specimens.c.id == specimen))
    others = conn.execute(
        select(func.count()).select_from(specimens).where(specimens.c.person == person)
    ).scalar_one()
    person_removed = identity_removed = False
    links_removed = 0
    if others == 0:
        identity_removed = (
            conn.execute(delete(identities).where(identities.c.person == person)).rowcount > 0
        )
        links_removed = conn.execute(
            delete(paternal_links).where(
                or_(paternal_links.c.son == person, paternal_links.c.father == person)
            )
        ).rowcount
        conn.execute(delete(persons).where(persons.c.id == person))
        person_removed = True
    seq = bump_seq(conn, 1)
    at = _audit.now()
    conn.execute(insert(removals).values(seq=seq, specimen=specimen, removed_at=at))
    removed = {
        "specimen": specimen,
        "person": person if person_removed else None,
        "identity": identity_removed,
        "links": links_removed,
    }
    audit_id = _audit.append_record(
        conn,
        entry.but(action=action, params={"specimen": specimen, "reason": reason}, result=removed),
    )
    return ExpungeReport(
        specimen, person, person_removed, identity_removed, links_removed, audit_id, seq
    )


def expunge(
    db: Database, specimen: str, reason: str, *, entry: _audit.AuditRecord
) -> ExpungeReport:
    """Expunge one specimen, appending ``entry`` (action ``expunge``) with what went."""
    with db.write() as conn:
        return _expunge(conn, entry, specimen, reason, "expunge")


def retention_day(today: date | str | None) -> date:
    """``today`` as a date (default: the system's today); :class:`InputError` if not ISO."""
    if today is None:
        return date.today()
    if isinstance(today, str):
        try:
            return date.fromisoformat(today)
        except ValueError:
            raise InputError(f"not an ISO date: {today!r}") from None
    return today


def retention_due(db: Database, day: date, *, entry: _audit.AuditRecord) -> list[str]:
    """The specimens ``apply_retention`` would expunge on ``day`` (a dry run): nothing is
    removed; ``entry`` is appended with ``dry_run`` and the count."""
    with db.write() as conn:
        due = [
            r[0]
            for r in conn.execute(
                select(specimens.c.id)
                .where(
                    specimens.c.retention_until.is_not(None),
                    specimens.c.retention_until < day.isoformat(),
                )
                .order_by(specimens.c.id)
            )
        ]
        _audit.append_record(
            conn,
            entry.but(params={"today": day.isoformat(), "dry_run": True}, result={"due": len(due)}),
        )
    return due


def apply_retention(db: Database, day: date, *, entry: _audit.AuditRecord) -> list[ExpungeReport]:
    """Expunge (in one transaction) every specimen whose ``retention_until`` is before
    ``day``: one ``retention`` entry per specimen and ``entry`` with the count."""
    with db.write() as conn:
        due = [
            r[0]
            for r in conn.execute(
                select(specimens.c.id)
                .where(
                    specimens.c.retention_until.is_not(None),
                    specimens.c.retention_until < day.isoformat(),
                )
                .order_by(specimens.c.id)
            )
        ]
        reports = [
            _expunge(
                conn, entry, s, f"retention period ended (today {day.isoformat()})", "retention"
            )
            for s in due
        ]
        _audit.append_record(
            conn,
            entry.but(params={"today": day.isoformat()}, result={"expunged": len(reports)}),
        )
    return reports
