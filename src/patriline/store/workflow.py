"""Rows of the case workflow: approval requests and background jobs (persistence only).

Who may request, decide or see what is :mod:`patriline.casework.workflow`; the writers
here write their rows and, where they change what a user may do, the audit entry they
are given in the same transaction.

Job rows are written outside the store's write lock (:func:`job_update`): a job's
progress is written while its own import transaction holds that lock. On PostgreSQL the
row is updated at once (row locks only); SQLite has one writer, so there the progress of
a running import reaches the row when the import's transaction ends (the process
running the job keeps the live figures, :mod:`patriline.casework.workflow`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import ConflictError, NotFound
from patriline.store import audit as _audit
from patriline.store.schema import approval_requests, jobs

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = [
    "REQUEST_STATUSES",
    "ApprovalRequest",
    "Job",
    "decide_in",
    "find_job",
    "find_request",
    "insert_job",
    "insert_request",
    "job_update",
    "list_jobs",
    "list_requests",
    "refuse_request",
    "withdraw_request",
]

#: Status of an approval request.
REQUEST_STATUSES = ("pending", "approved", "refused", "withdrawn")
#: Status of a job.
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class ApprovalRequest:
    """An analyst's request for a familial approval of one trace within bounds, and the
    supervisor's decision (``status``: pending, approved, refused, withdrawn)."""

    id: int
    case_id: str
    kind: str
    trace: str | None
    trace_sha256: str | None
    max_mismatches: int | None
    max_steps: int | None
    min_loci: int
    reason: str
    requested_by: str
    requested_at: str
    status: str
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None
    approval_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Job:
    """A background job (``kind`` "import"): its progress (``done`` of ``total``),
    ``status`` (queued, running, done, failed, cancelled), ``result`` (done) or
    ``error`` (failed: the error's ``to_dict()``)."""

    id: str
    kind: str
    user: str
    case_id: str | None
    status: str
    done: int
    total: int | None
    cancel_requested: bool
    created_at: str
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "finished": self.finished}


# ------------------------------------------------------------------ approval requests
def _request(r: Any) -> ApprovalRequest:
    return ApprovalRequest(
        int(r.id),
        r.case_id,
        r.kind,
        r.trace,
        r.trace_sha256,
        r.max_mismatches,
        r.max_steps,
        int(r.min_loci),
        r.reason,
        r.requested_by,
        r.requested_at,
        r.status,
        r.decided_by,
        r.decided_at,
        r.decision_reason,
        None if r.approval_id is None else int(r.approval_id),
    )


def _load_request(conn: Connection, request_id: int) -> ApprovalRequest | None:
    r = conn.execute(select(approval_requests).where(approval_requests.c.id == request_id)).first()
    return None if r is None else _request(r)


def find_request(db: Database, request_id: int) -> ApprovalRequest | None:
    with db.read() as conn:
        return _load_request(conn, request_id)


def list_requests(
    db: Database,
    *,
    status: str | None = None,
    requested_by: str | None = None,
    case_ids: list[str] | None = None,
) -> list[ApprovalRequest]:
    """Requests, oldest first, optionally of one status / requester / set of cases."""
    q = select(approval_requests)
    if status is not None:
        q = q.where(approval_requests.c.status == status)
    if requested_by is not None:
        q = q.where(approval_requests.c.requested_by == requested_by)
    if case_ids is not None:
        q = q.where(approval_requests.c.case_id.in_(case_ids))
    with db.read() as conn:
        return [_request(r) for r in conn.execute(q.order_by(approval_requests.c.id))]


def insert_request(
    db: Database, *, terms: dict[str, Any], entry: _audit.AuditRecord
) -> ApprovalRequest:
    """Write a pending request (``terms``: case_id, kind, trace, trace_sha256, bounds,
    reason, requested_by) and ``entry`` (with the request's ID) in one transaction."""
    with db.write() as conn:
        new_id = int(
            conn.execute(
                insert(approval_requests)
                .values(**terms, requested_at=_audit.now(), status="pending")
                .returning(approval_requests.c.id)
            ).scalar_one()
        )
        _audit.append_record(conn, entry.but(result={**(entry.result or {}), "request": new_id}))
        got = _load_request(conn, new_id)
    assert got is not None
    return got


def _pending(conn: Connection, request_id: int) -> ApprovalRequest:
    got = _load_request(conn, request_id)
    if got is None:
        raise NotFound(f"no approval request {request_id}")
    if got.status != "pending":
        raise ConflictError(
            f"approval request {request_id} is already {got.status}"
            + (f" (by {got.decided_by} at {got.decided_at})" if got.decided_by else ""),
            status=got.status,
        )
    return got


def decide_in(
    conn: Connection, request_id: int, *, decided_by: str, reason: str, approval_id: int
) -> None:
    """Mark a pending request approved with ``approval_id``, inside the caller's
    transaction (the one that writes the approval); :class:`ConflictError` if decided."""
    _pending(conn, request_id)
    conn.execute(
        update(approval_requests)
        .where(approval_requests.c.id == request_id)
        .values(
            status="approved",
            decided_by=decided_by,
            decided_at=_audit.now(),
            decision_reason=reason,
            approval_id=approval_id,
        )
    )


def refuse_request(
    db: Database, request_id: int, *, decided_by: str, reason: str, entry: _audit.AuditRecord
) -> ApprovalRequest:
    """Mark a pending request refused and append ``entry``, in one transaction."""
    return _close_request(db, request_id, "refused", decided_by, reason, entry)


def withdraw_request(
    db: Database, request_id: int, *, by: str, reason: str, entry: _audit.AuditRecord
) -> ApprovalRequest:
    """Mark a pending request withdrawn and append ``entry``, in one transaction."""
    return _close_request(db, request_id, "withdrawn", by, reason, entry)


def _close_request(
    db: Database,
    request_id: int,
    status: str,
    by: str,
    reason: str,
    entry: _audit.AuditRecord,
) -> ApprovalRequest:
    with db.write() as conn:
        _pending(conn, request_id)
        conn.execute(
            update(approval_requests)
            .where(approval_requests.c.id == request_id)
            .values(status=status, decided_by=by, decided_at=_audit.now(), decision_reason=reason)
        )
        _audit.append_record(conn, entry)
        got = _load_request(conn, request_id)
    assert got is not None
    return got


# ------------------------------------------------------------------ jobs
def _job(r: Any) -> Job:
    return Job(
        r.id,
        r.kind,
        r.user,
        r.case_id,
        r.status,
        int(r.done),
        None if r.total is None else int(r.total),
        bool(r.cancel_requested),
        r.created_at,
        r.finished_at,
        None if r.result is None else json.loads(r.result),
        None if r.error is None else json.loads(r.error),
    )


def insert_job(db: Database, job_id: str, *, kind: str, user: str, case_id: str | None) -> Job:
    """Write a queued job row."""
    with db.write() as conn:
        conn.execute(
            insert(jobs).values(
                id=job_id,
                kind=kind,
                user=user,
                case_id=case_id,
                status="queued",
                done=0,
                total=None,
                cancel_requested=False,
                created_at=_audit.now(),
            )
        )
    got = find_job(db, job_id)
    assert got is not None
    return got


def find_job(db: Database, job_id: str) -> Job | None:
    with db.read() as conn:
        r = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return None if r is None else _job(r)


def list_jobs(db: Database, *, user: str | None = None) -> list[Job]:
    """Jobs, newest first (of ``user`` if given)."""
    q = select(jobs)
    if user is not None:
        q = q.where(jobs.c.user == user)
    with db.read() as conn:
        return [_job(r) for r in conn.execute(q.order_by(jobs.c.created_at.desc(), jobs.c.id))]


def job_update(db: Database, job_id: str, **values: Any) -> None:
    """Update a job row in its own short transaction, outside the store's write lock
    (module docstring); ``result``/``error`` are given as dicts."""
    for k in ("result", "error"):
        if isinstance(values.get(k), dict):
            values[k] = json.dumps(values[k], sort_keys=True, default=str)
    with db.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
