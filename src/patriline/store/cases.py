"""Case and approval rows: repository reads and the low-level writers.

What may be written (four-eyes, bounds, policy) is decided by
:mod:`patriline.casework.cases`; each writer here writes its rows and appends the audit
entry it is given (:class:`~patriline.store.audit.AuditRecord`) in one transaction,
binding the rows that grant power to that entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import ConflictError, NotFound
from patriline.store import audit as _audit
from patriline.store.access import Approval, Case
from patriline.store.schema import approval_requests, approvals, audit_log, cases

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = [
    "approvals_of",
    "case_hits",
    "close_case",
    "find_case",
    "insert_approval",
    "insert_case",
    "list_cases",
    "load_case",
    "revoke_approvals",
    "take_approval_use",
]


def load_case(conn: Connection, case: str) -> Case | None:
    """The case ``case`` with its newest live approval (None if there is no such case)."""
    r = conn.execute(select(cases).where(cases.c.id == case)).first()
    if r is None:
        return None
    # Approved = a live approval: not revoked, not expired (uses are checked per search).
    live = conn.execute(
        select(approvals.c.id)
        .where(
            approvals.c.case_id == case,
            approvals.c.revoked.is_(False),
            approvals.c.expires_at > _audit.now(),
        )
        .order_by(approvals.c.id.desc())
    ).first()
    a = _approvals(conn, case, [live[0]])[0] if live else None
    return Case(
        r.id,
        r.purpose,
        r.legal_basis,
        r.opened_by,
        r.opened_at,
        a.approved_by if a else None,
        a.approved_at if a else None,
        a,
        case_type=r.case_type or "criminal",
        closed_at=r.closed_at,
        closed_by=r.closed_by,
        closed_reason=r.closed_reason,
    )


def find_case(db: Database, case: str) -> Case | None:
    with db.read() as conn:
        return load_case(conn, case)


def list_cases(db: Database) -> list[Case]:
    """Every case, by ID."""
    with db.read() as conn:
        ids = [r[0] for r in conn.execute(select(cases.c.id).order_by(cases.c.id))]
        return [c for c in (load_case(conn, i) for i in ids) if c is not None]


def _approvals(conn: Connection, case: str, ids: Sequence[int] | None = None) -> list[Approval]:
    q = select(approvals).where(approvals.c.case_id == case)
    if ids is not None:
        q = q.where(approvals.c.id.in_(list(ids)))
    return [
        Approval(
            int(r.id),
            r.case_id,
            r.kind,
            r.trace_sha256,
            r.max_mismatches,
            r.max_steps,
            int(r.min_loci),
            r.approved_by,
            r.approved_at,
            r.expires_at,
            int(r.uses_left),
            int(r.used),
            bool(r.revoked),
            r.audit_id,
        )
        for r in conn.execute(q.order_by(approvals.c.id))
    ]


def approvals_of(db: Database, case: str, ids: Sequence[int] | None = None) -> list[Approval]:
    """The approvals of ``case`` (all, live or not), oldest first."""
    with db.read() as conn:
        return _approvals(conn, case, ids)


def insert_case(
    db: Database,
    case: str,
    *,
    purpose: str,
    legal_basis: str,
    opened_by: str,
    entry: _audit.AuditRecord,
    case_type: str = "criminal",
) -> Case:
    """Write a new case row and ``entry`` (bound to it); :class:`ConflictError` if it exists."""
    with db.write() as conn:
        if load_case(conn, case) is not None:
            raise ConflictError(f"case {case!r} already exists")
        at = _audit.now()
        conn.execute(
            insert(cases).values(
                id=case,
                purpose=purpose,
                legal_basis=legal_basis,
                opened_by=opened_by,
                opened_at=at,
                case_type=case_type,
            )
        )
        _audit.append_record(conn, entry.but(bind=[("cases", case)]))
    return Case(case, purpose, legal_basis, opened_by, at, case_type=case_type)


def close_case(
    db: Database, case: str, *, closed_by: str, reason: str, entry: _audit.AuditRecord
) -> Case:
    """Close ``case``: write the close columns, revoke its live approvals, withdraw its
    pending approval requests and append ``entry`` (bound to the case row, with the
    counts) in one transaction.
    :class:`NotFound` / :class:`ConflictError` (already closed)."""
    with db.write() as conn:
        c = load_case(conn, case)
        if c is None:
            raise NotFound(f"no case {case!r}")
        if c.closed:
            raise ConflictError(
                f"case {case!r} is already closed (by {c.closed_by} at {c.closed_at})"
            )
        at = _audit.now()
        conn.execute(
            update(cases)
            .where(cases.c.id == case)
            .values(closed_at=at, closed_by=closed_by, closed_reason=reason)
        )
        n = conn.execute(
            update(approvals)
            .where(approvals.c.case_id == case, approvals.c.revoked.is_(False))
            .values(revoked=True)
        ).rowcount
        w = conn.execute(
            update(approval_requests)
            .where(approval_requests.c.case_id == case, approval_requests.c.status == "pending")
            .values(status="withdrawn", decided_by=closed_by, decided_at=at, decision_reason=reason)
        ).rowcount
        _audit.append_record(
            conn,
            entry.but(
                result={"revoked": int(n), "requests_withdrawn": int(w)}, bind=[("cases", case)]
            ),
        )
        closed = load_case(conn, case)
    assert closed is not None
    return closed


def insert_approval(
    db: Database,
    case: Case,
    *,
    approved_by: str,
    terms: dict[str, Any],
    valid_days: int,
    uses: int,
    entry: _audit.AuditRecord,
    also: Callable[[Connection, int], None] | None = None,
) -> Case:
    """Write an approval of ``case`` (``terms``: kind, trace, bounds) and ``entry``.

    The approval row and the case row are bound to the entry (``audit_id``,
    ``audit_hash``), so a forged approval names itself in ``audit verify``; the entry's
    params get the ``expires_at`` and ``uses`` written. ``also(conn, approval_id)``
    writes more in the same transaction (the approval request it decides). Returns the
    case with it.
    """
    import datetime as _dt

    with db.write() as conn:
        at = _audit.now()
        expires = (_dt.datetime.fromisoformat(at) + _dt.timedelta(days=valid_days)).isoformat()
        conn.execute(
            update(cases)
            .where(cases.c.id == case.id)
            .values(familial_approved_by=approved_by, familial_approved_at=at)
        )
        new_id = conn.execute(
            insert(approvals)
            .values(
                case_id=case.id,
                **terms,
                approved_by=approved_by,
                approved_at=at,
                expires_at=expires,
                uses_left=uses,
                used=0,
                revoked=False,
            )
            .returning(approvals.c.id)
        ).scalar_one()
        if also is not None:
            also(conn, int(new_id))
        params = {**(entry.params or {}), "expires_at": expires, "uses": uses}
        _audit.append_record(
            conn,
            entry.but(params=params, bind=[("cases", case.id), ("approvals", int(new_id))]),
        )
    new = approvals_of(db, case.id, [int(new_id)])[0]
    return replace(case, familial_approved_by=approved_by, familial_approved_at=at, approval=new)


def take_approval_use(
    db: Database,
    case: str,
    *,
    kind: str,
    trace_sha256: str | None,
    max_mismatches: int | None,
    max_steps: int | None,
    min_loci: int,
) -> int | list[Approval]:
    """Use one search of a live approval of ``case`` covering the request: its ID, or
    (nothing used) the approvals that cover it, none live."""
    now = _audit.now()
    with db.write() as conn:
        rows = [
            a
            for a in _approvals(conn, case)
            if a.covers(kind, trace_sha256, max_mismatches, max_steps, min_loci)
        ]
        live = [a for a in rows if not a.revoked and a.expires_at > now and a.uses_left > 0]
        for a in live:
            done = conn.execute(
                update(approvals)
                .where(approvals.c.id == a.id, approvals.c.uses_left > 0)
                .values(uses_left=approvals.c.uses_left - 1, used=approvals.c.used + 1)
            ).rowcount
            if done:
                return a.id
    return rows


def revoke_approvals(db: Database, case: str, entry: _audit.AuditRecord) -> int:
    """Revoke every live approval of ``case`` and append ``entry`` (with the count)."""
    with db.write() as conn:
        if load_case(conn, case) is None:
            raise NotFound(f"no case {case!r}")
        n = conn.execute(
            update(approvals)
            .where(approvals.c.case_id == case, approvals.c.revoked.is_(False))
            .values(revoked=True)
        ).rowcount
        _audit.append_record(conn, entry.but(result={"revoked": int(n)}))
    return int(n)


def case_hits(db: Database, case: str) -> set[str]:
    """Specimens returned by the audited searches of ``case`` (``search_*`` entries)."""
    with db.read() as conn:
        rows = conn.execute(
            select(audit_log.c.result).where(
                audit_log.c.case_id == case,
                audit_log.c.action.in_(["search_exact", "search_familial"]),
            )
        ).all()
    out: set[str] = set()
    for (text,) in rows:
        out.update(json.loads(text).get("returned") or ())
    return out
