"""The case workflow: closing a case, approval requests and the supervisor's queue,
background import jobs, transparency counts and pair aggregates.

The rules are here; the rows are the store's (:mod:`patriline.store.workflow`,
:mod:`patriline.store.cases`). Every function takes a
:class:`~patriline.casework.session.Session`; who may do what is decided by
:func:`patriline.casework.access.check` (ownership: an analyst acts only in cases she
opened; a closed case allows reading its record and report only) through
:meth:`Session.authorize`, which audits every refusal.

* **Closing** (:func:`close_case`): the opener, a supervisor or an admin, with a reason;
  revokes the case's live approvals and withdraws its pending requests; audited
  ``case_close``; the close columns are bound to the audit chain.
* **Approval requests** (:func:`request_approval`, :func:`approval_queue`,
  :func:`decide_request`, :func:`withdraw_request`): the opener names the trace and the
  bounds with a reason; a supervisor or admin who did not open the case approves (the
  approval of :func:`patriline.casework.cases.approve_case` for exactly that trace's
  SHA-256 and those bounds, written in the transaction that marks the request) or
  refuses with a reason. Audited ``approval_request``, ``case_approve``,
  ``approval_refuse``, ``approval_withdraw``.
* **Jobs** (:func:`start_import_job` …): an import (:meth:`Session.import_file`, atomic)
  runs in a thread of this process with its own store connection; its progress goes to
  the ``jobs`` row through the import's progress callback, where cancellation is
  checked too: a cancelled import rolls back (nothing stored).
* **Transparency** (:func:`transparency`): monthly counts of actions from the audit log —
  no names, no case IDs, no profile data.
* **Pairs** (:func:`pairs_summary`): the cluster-size distribution of the registry, an
  aggregate; the pair list itself only as :func:`duplicate_pairs` (exact duplicates, for
  an admin in a ``quality_control`` case).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline.casework.access import Action
from patriline.errors import AccessDenied, ConflictError, InputError, NotFound, PatrilineError
from patriline.store import cases as _cases
from patriline.store import workflow as _rows
from patriline.store.access import Case
from patriline.store.schema import CASE_TYPES
from patriline.store.workflow import REQUEST_STATUSES, ApprovalRequest, Job

if TYPE_CHECKING:
    from patriline.casework.session import Session
    from patriline.search.api import PairResult

__all__ = [
    "CASE_TYPES",
    "ApprovalRequest",
    "Job",
    "JobCancelled",
    "MonthCounts",
    "PairsSummary",
    "approval_queue",
    "cancel_job",
    "check_case_type",
    "close_case",
    "decide_request",
    "duplicate_pairs",
    "job",
    "list_jobs",
    "pairs_summary",
    "request_approval",
    "start_import_job",
    "transparency",
    "wait_job",
    "withdraw_request",
]


def check_case_type(case_type: str | None) -> str:
    """``case_type`` if it is one of :data:`CASE_TYPES` (None: ``criminal``), else
    :class:`InputError` naming the allowed values."""
    if case_type is None:
        return "criminal"
    if case_type not in CASE_TYPES:
        raise InputError(
            f"unknown case type {case_type!r}; allowed: {', '.join(CASE_TYPES)}",
            field="case_type",
            value=case_type,
        )
    return case_type


def _required(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise InputError(f"{what} is required", field=what.replace(" ", "_"))
    return value.strip()


# ====================================================================== closing
def close_case(session: Session, case: str, reason: str) -> Case:
    """Close ``case`` (its opener, a supervisor or an admin; ``reason`` required).

    Revokes the case's live approvals and withdraws its pending approval requests in the
    same transaction; audited ``case_close`` (the case row, with its close columns, is
    bound to that entry). Afterwards the case allows reading its record, audit entries
    and report, nothing else (:data:`patriline.casework.access.CLOSED_CASE_ACTIONS`).
    """
    why = _required(reason, "reason")
    c = session.authorize(Action.CASE_CLOSE, case)
    assert c is not None
    entry = session.entry(Action.CASE_CLOSE, case=c, params={"reason": why})
    return _cases.close_case(session.store, case, closed_by=session.user, reason=why, entry=entry)


# ====================================================================== approval requests
def request_approval(
    session: Session,
    case: str,
    *,
    trace: str,
    max_mismatches: int | None = None,
    max_steps: int | None = None,
    min_loci: int | None = None,
    reason: str,
    kind: str = "search",
) -> ApprovalRequest:
    """Ask for a familial approval of ``trace`` (a canonical haplotype string) within the
    bounds, in an open case the user opened; audited ``approval_request``.

    The same checks as the approval itself are made now (a bound given, none negative,
    ``min_loci`` not below the policy's floor, the trace typed at its kit's floor), so
    that a supervisor decides on a request that can be granted.
    """
    from patriline.haplotype import parse_haplotype_string
    from patriline.reference.policy import search_policy
    from patriline.search.api import trace_digest, typed_copies

    if kind != "search":
        raise InputError(
            f"unknown approval request kind {kind!r}; kinds: search (the pair list is no "
            "longer approved: pairs are an aggregate, see pairs_summary)",
            field="kind",
            value=kind,
        )
    why = _required(reason, "reason")
    c = session.authorize(Action.APPROVAL_REQUEST, case)
    if c is None:
        raise session.refuse(
            Action.APPROVAL_REQUEST,
            case,
            f"an approval request needs an open case; case {case!r} does not exist",
        )
    if c.opened_by != session.user:
        raise session.refuse(
            Action.APPROVAL_REQUEST,
            case,
            f"only the opener of case {case!r} ({c.opened_by}) requests its approval; a "
            "supervisor who did not open it approves it directly",
        )
    if not isinstance(trace, str) or not trace.strip():
        raise InputError("a request names its trace (a haplotype string)", field="trace")
    try:
        h = parse_haplotype_string(trace)
    except (ValueError, KeyError) as exc:
        raise InputError(f"trace: {exc}", field="trace") from None
    policy = search_policy()
    if max_mismatches is None and max_steps is None:
        raise InputError(
            "a familial approval names its bounds: max_mismatches and/or max_steps",
            field="max_mismatches",
        )
    for name, v in (("max_mismatches", max_mismatches), ("max_steps", max_steps)):
        if v is not None and v < 0:
            raise InputError(f"{name} must not be negative (got {v})", field=name, value=v)
    floor = min_loci if min_loci is not None else policy.loci_floor
    if floor < policy.loci_floor:
        raise InputError(
            f"min_loci {floor} is below the floor of {policy.loci_floor} locus copies "
            f"({policy.floor_source}; search_policy.toml)",
            field="min_loci",
            value=floor,
        )
    typed, need = typed_copies(h), policy.trace_floor(h.kit)
    if typed < need:
        raise InputError(
            f"the trace has {typed} locus copies typed; a search needs at least {need} "
            f"({policy.floor_source}; search_policy.toml)",
            field="trace",
        )
    digest = trace_digest(h)
    terms = {
        "case_id": c.id,
        "kind": kind,
        "trace": str(h),
        "trace_sha256": digest,
        "max_mismatches": max_mismatches,
        "max_steps": max_steps,
        "min_loci": floor,
        "reason": why,
        "requested_by": session.user,
    }
    entry = session.entry(
        Action.APPROVAL_REQUEST,
        case=c,
        # the trace is named by its digest: the audit log holds no genetic data
        params={k: v for k, v in terms.items() if k not in ("trace", "case_id")},
    )
    return _rows.insert_request(session.store, terms=terms, entry=entry)


def approval_queue(session: Session, *, status: str | None = "pending") -> list[ApprovalRequest]:
    """Approval requests of one ``status`` (None: all), oldest first.

    A supervisor or admin sees the requests of the cases she did *not* open (the ones she
    may decide); an analyst only her own requests; an auditor none (refused, audited).
    """
    if status is not None and status not in REQUEST_STATUSES:
        raise InputError(
            f"unknown request status {status!r}; statuses: {', '.join(REQUEST_STATUSES)}",
            field="status",
            value=status,
        )
    session.authorize(Action.APPROVAL_REQUEST)
    role = session.role()
    if role in ("supervisor", "admin"):
        mine = {c.id for c in _cases.list_cases(session.store) if c.opened_by == session.user}
        return [
            r
            for r in _rows.list_requests(session.store, status=status)
            if r.case_id not in mine and r.requested_by != session.user
        ]
    return _rows.list_requests(session.store, status=status, requested_by=session.user)


def approval_request(session: Session, request_id: int) -> ApprovalRequest:
    """One request: its requester's, or any for a supervisor/admin (else NotFound)."""
    session.authorize(Action.APPROVAL_REQUEST)
    got = _rows.find_request(session.store, int(request_id))
    if got is None or (
        session.role() not in ("supervisor", "admin") and got.requested_by != session.user
    ):
        raise NotFound(f"no approval request {request_id}")
    return got


def decide_request(
    session: Session, request_id: int, *, approve: bool, reason: str
) -> ApprovalRequest:
    """Approve or refuse a pending request (a supervisor or admin who did not open its
    case: four eyes; refused and audited otherwise). ``reason`` is required.

    Approving grants :func:`patriline.casework.cases.approve_case` for exactly the
    request's trace digest and bounds, in the transaction that marks the request
    approved (``approval_id``); refusing records the reason (audited
    ``approval_refuse``). A decided request: :class:`ConflictError`.
    """
    from patriline.casework import cases

    why = _required(reason, "reason")
    got = _rows.find_request(session.store, int(request_id))
    if got is None:
        raise NotFound(f"no approval request {request_id}")
    c = session.authorize(Action.CASE_APPROVE, got.case_id)
    assert c is not None
    if got.status != "pending":
        raise ConflictError(
            f"approval request {request_id} is already {got.status}"
            + (f" (by {got.decided_by} at {got.decided_at})" if got.decided_by else ""),
            status=got.status,
        )
    if session.user in (c.opened_by, got.requested_by):
        raise session.refuse(
            Action.CASE_APPROVE,
            c.id,
            f"case {c.id!r} was opened by {c.opened_by!r}; another supervisor must decide "
            f"approval request {request_id} (four eyes)",
            request=got.id,
        )
    if approve:
        cases.approve_case(
            session,
            c.id,
            trace_sha256=got.trace_sha256,
            max_mismatches=got.max_mismatches,
            max_steps=got.max_steps,
            min_loci=got.min_loci,
            request=(got.id, why),
        )
        done = _rows.find_request(session.store, got.id)
        assert done is not None
        return done
    entry = session.entry(
        "approval_refuse", case=c, params={"request": got.id, "reason": why}, result={}
    )
    return _rows.refuse_request(
        session.store, got.id, decided_by=session.user, reason=why, entry=entry
    )


def withdraw_request(
    session: Session, request_id: int, *, reason: str | None = None
) -> ApprovalRequest:
    """Withdraw a pending request (its requester); audited ``approval_withdraw``."""
    got = approval_request(session, request_id)
    if got.requested_by != session.user:
        raise session.refuse(
            Action.APPROVAL_REQUEST,
            got.case_id,
            f"approval request {request_id} was made by {got.requested_by!r}; only the "
            "requester withdraws it",
            request=got.id,
        )
    why = (reason or "").strip() or "withdrawn by the requester"
    entry = session.entry(
        "approval_withdraw", case=got.case_id, params={"request": got.id, "reason": why}
    )
    return _rows.withdraw_request(session.store, got.id, by=session.user, reason=why, entry=entry)


# ====================================================================== jobs
class JobCancelled(PatrilineError):
    """Raised inside a job's import when its cancellation was asked: the import's
    transaction rolls back."""

    code = "cancelled"
    http_status = 409


@dataclass
class _Live:
    """A job running in this process: its thread, cancel flag and live progress (on
    SQLite the row cannot be written while the import holds the one write lock)."""

    thread: threading.Thread | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    total: int | None = None


_LIVE: dict[str, _Live] = {}
_LIVE_LOCK = threading.Lock()


def _visible(session: Session, job_id: str) -> Job:
    """The job row if the user may see it (its user, or an admin), else NotFound; a
    running job of this process shows its live progress."""
    got = _rows.find_job(session.store, str(job_id))
    if got is None or (got.user != session.user and session.role() != "admin"):
        raise NotFound(f"no job {job_id!r}")
    live = _LIVE.get(got.id)
    if live is not None and not got.finished:
        got = replace(
            got,
            done=max(got.done, live.done),
            total=live.total if live.total is not None else got.total,
            cancel_requested=got.cancel_requested or live.cancel.is_set(),
        )
    return got


def start_import_job(
    session: Session,
    path: str | Path,
    *,
    category: str | None = None,
    lenient: bool = False,
    format: str | None = None,
    case: str | None = None,
) -> Job:
    """Start importing ``path`` in a background thread; the queued :class:`Job`.

    The import is :meth:`Session.import_file` (atomic unless ``lenient``) by the same
    user, through its own connection to the store. Its progress (``done`` of ``total``
    rows) goes to the job row (on SQLite, whose one writer is the import, to this
    process's live figures until the import ends); :func:`cancel_job` makes it roll back
    at the next progress step (status ``cancelled``, nothing stored). A failed import:
    status ``failed`` and ``error`` the error's ``to_dict()`` (file, line, locus, value
    …), nothing stored. Done: ``result`` is ``{"summary": …, "validation": …}``.
    """
    session.authorize(Action.IMPORT, case)
    if case is not None and _cases.find_case(session.store, case) is None:
        raise NotFound(f"no case {case!r}")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file", file=str(path))
    job_id = "job_" + secrets.token_hex(8)
    row = _rows.insert_job(session.store, job_id, kind="import", user=session.user, case_id=case)
    live = _Live()
    live.thread = threading.Thread(
        target=_run_import,
        args=(live, session.store.url, session.user, session.via, job_id, p),
        kwargs={"category": category, "lenient": lenient, "format": format},
        name=f"patriline-{job_id}",
        daemon=True,
    )
    with _LIVE_LOCK:
        _LIVE[job_id] = live
    live.thread.start()
    return row


def _run_import(
    live: _Live,
    url: str,
    user: str,
    via: str,
    job_id: str,
    path: Path,
    *,
    category: str | None,
    lenient: bool,
    format: str | None,
) -> None:
    from patriline.casework.session import Session
    from patriline.errors import InternalError
    from patriline.store import Database
    from patriline.store.audit import now

    db = Database.open(url)
    # PostgreSQL: the row is written while the import holds the store's write lock;
    # SQLite has one writer, so there the row gets the figures when the import ends.
    rows_live = db.dialect == "postgresql"
    try:
        js = Session(db, user, via=via)

        def cancelled() -> bool:
            if live.cancel.is_set():
                return True
            if rows_live:
                got = _rows.find_job(db, job_id)
                return got is not None and got.cancel_requested
            return False

        def progress(done: int, total: int) -> None:
            live.done, live.total = done, total
            if rows_live:
                _rows.job_update(db, job_id, done=done, total=total)
            if cancelled():
                raise JobCancelled(f"job {job_id} was cancelled; nothing was imported")

        _rows.job_update(db, job_id, status="running")
        try:
            if cancelled():
                raise JobCancelled(f"job {job_id} was cancelled; nothing was imported")
            summary = js.import_file(
                path, format=format, lenient=lenient, category=category, progress=progress
            )
        except JobCancelled as exc:
            js.audit(
                Action.IMPORT,
                params={"file": str(path), "job": job_id, "lenient": lenient},
                result={"added": 0, "error": str(exc), "cancelled": True},
            )
            _rows.job_update(
                db, job_id, status="cancelled", cancel_requested=True, finished_at=now(),
                done=live.done, total=live.total, error=exc.to_dict(),
            )  # fmt: skip
            return
        except PatrilineError as exc:  # refused and audited by the import: nothing stored
            _rows.job_update(
                db, job_id, status="failed", finished_at=now(), done=live.done,
                total=live.total, error=exc.to_dict(),
            )  # fmt: skip
            return
        except Exception as exc:  # a bug: reported as such, never lost in the thread
            err = InternalError(f"the import job failed unexpectedly: {type(exc).__name__}: {exc}")
            _rows.job_update(db, job_id, status="failed", finished_at=now(), error=err.to_dict())
            return
        result = {
            "summary": {**summary.to_dict(), "batch_id": summary.batch_id},
            "validation": {
                "file": str(path),
                "rows": summary.rows,
                "rejected": [p.to_dict() for p in summary.problems],
                "conflicts": [
                    {"specimen": c.specimen, "line": c.line, "reason": c.reason}
                    for c in summary.conflict_details
                ],
            },
        }
        total = live.total if live.total is not None else summary.rows
        _rows.job_update(
            db, job_id, status="done", finished_at=now(), done=live.done or total, total=total,
            result=result,
        )  # fmt: skip
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(job_id, None)
        db.close()


def job(session: Session, job_id: str) -> Job:
    """One job (its user's, or any for an admin; else :class:`NotFound`)."""
    return _visible(session, job_id)


def list_jobs(session: Session) -> list[Job]:
    """The user's jobs (every job for an admin), newest first."""
    admin = session.role() == "admin"
    return [
        _visible(session, r.id)
        for r in _rows.list_jobs(session.store, user=None if admin else session.user)
    ]


def cancel_job(session: Session, job_id: str) -> Job:
    """Ask a queued or running job to stop: its import rolls back at its next progress
    step (status ``cancelled``, nothing stored). A finished job: :class:`ConflictError`."""
    got = _visible(session, job_id)
    if got.finished:
        raise ConflictError(f"job {job_id} is already {got.status}", status=got.status)
    live = _LIVE.get(got.id)
    if live is not None:
        live.cancel.set()
    if live is None or session.store.dialect == "postgresql":
        # another process runs it (it reads the row at its next step); on SQLite the row
        # is written once the import has let go of the write lock
        _rows.job_update(session.store, got.id, cancel_requested=True)
    return _visible(session, job_id)


def wait_job(session: Session, job_id: str, timeout: float | None = None) -> Job:
    """Wait (up to ``timeout`` seconds) for a job of this process to finish; the job."""
    _visible(session, job_id)
    live = _LIVE.get(str(job_id))
    if live is not None and live.thread is not None:
        live.thread.join(timeout)
    return _visible(session, job_id)


# ====================================================================== transparency
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class MonthCounts:
    """Counts of one calendar month (UTC) of the audit log: actions, never people.

    ``searches`` counts searches (exact and familial; ``familial_searches`` the familial
    ones, pair runs included), ``searches_by_case_type[type]`` the searches by the type
    of their case (the purpose of the search); ``hits`` sums their hit counts;
    ``approvals_granted`` familial approvals written (not revocations),
    ``approvals_refused`` approval requests refused; ``approval_requests`` requests
    made; ``refusals`` refused actions (``access_denied``); ``expansions``; ``imports``
    (batches written); ``expungements`` (specimens expunged, by hand or by retention);
    ``cases_opened``, ``cases_closed``.
    """

    month: str
    searches: int = 0
    familial_searches: int = 0
    searches_by_case_type: dict[str, int] = field(default_factory=dict)
    hits: int = 0
    approvals_granted: int = 0
    approvals_refused: int = 0
    approval_requests: int = 0
    refusals: int = 0
    expansions: int = 0
    imports: int = 0
    expungements: int = 0
    cases_opened: int = 0
    cases_closed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "searches_by_case_type": dict(self.searches_by_case_type)}


#: action → counter of :class:`MonthCounts` (one an entry).
_COUNTED = {
    "approval_request": "approval_requests",
    "approval_refuse": "approvals_refused",
    "expand": "expansions",
    "access_denied": "refusals",
    "case_open": "cases_opened",
    "case_close": "cases_closed",
}


def _count(mc: MonthCounts, e: Any, types: dict[str, str]) -> None:
    action, params, result = e.action, e.params, e.result
    if action in ("search_exact", "search_familial"):
        mc.searches += 1
        if action == "search_familial":
            mc.familial_searches += 1
        ctype = types.get(e.case, "criminal") if e.case else "none"
        mc.searches_by_case_type[ctype] = mc.searches_by_case_type.get(ctype, 0) + 1
        hits = result.get("hits", result.get("pairs"))
        if isinstance(hits, int) and not isinstance(hits, bool):
            mc.hits += hits
    elif action == "case_approve":
        if params.get("familial") and not params.get("revoke"):
            mc.approvals_granted += 1
    elif action == "import":
        if isinstance(params.get("batch"), int):
            mc.imports += 1
    elif action in ("expunge", "retention"):
        if "specimen" in params:  # one entry a specimen (a retention run adds a summary)
            mc.expungements += 1
    elif action in _COUNTED:
        name = _COUNTED[action]
        setattr(mc, name, getattr(mc, name) + 1)


def transparency(session: Session, *, month: str | None = None) -> list[MonthCounts]:
    """Monthly aggregate counts from the audit log (one :class:`MonthCounts` a month, the
    oldest first; ``month`` ``"YYYY-MM"``: that month only, zero counts if nothing
    happened). ``stats`` (every role); audited.

    Counts of actions, not of people: no names, no case IDs, no profile data.
    """
    if month is not None and not _MONTH.match(month):
        raise InputError(f"month must be YYYY-MM (got {month!r})", field="month", value=month)
    session.authorize(Action.STATS)
    types = {c.id: c.case_type for c in _cases.list_cases(session.store)}
    out: dict[str, MonthCounts] = {} if month is None else {month: MonthCounts(month)}
    for e in session.store.read_audit():
        m = e.at[:7]
        if month is not None and m != month:
            continue
        _count(out.setdefault(m, MonthCounts(m)), e, types)
    got = [out[m] for m in sorted(out)]
    session.audit(
        Action.STATS,
        purpose="transparency counts",
        params={"transparency": True, "month": month},
        result={"months": len(got)},
    )
    return got


# ====================================================================== pairs
@dataclass
class PairsSummary:
    """Lineage clusters of the registry within ``max_mismatches`` (an aggregate).

    Two active profiles are linked when they differ at no more than ``max_mismatches``
    locus copies of at least ``min_loci`` compared; a cluster is a connected group.
    ``pairs_by_mismatches[k]`` counts the linked pairs that differ at ``k`` locus copies;
    ``clusters[size]`` is how many clusters have that many profiles (size 1: a profile
    with no relative within the bound); ``profiles_in_clusters`` the profiles in clusters
    of two or more; ``exposure`` their share of ``profiles`` (the share of stored men a
    familial search within this bound could lead to a stored relative).
    """

    max_mismatches: int
    min_loci: int
    profiles: int
    pairs: int
    pairs_by_mismatches: dict[int, int]
    clusters: dict[int, int]
    profiles_in_clusters: int
    exposure: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["clusters"] = {str(k): v for k, v in sorted(self.clusters.items())}
        d["pairs_by_mismatches"] = {str(k): v for k, v in self.pairs_by_mismatches.items()}
        return d


def _active_pairs(
    session: Session, max_mismatches: int, min_loci: int
) -> tuple[Any, Any, set[str]]:
    from patriline.casework.searching import _active, open_index

    idx = open_index(session.store)
    found = idx.pairs(max_mismatches=max_mismatches, min_loci=min_loci)
    active = _active(session.store, sorted(set(found.a) | set(found.b)))
    return idx, found, active


def pairs_summary(
    session: Session, *, max_mismatches: int = 2, min_loci: int | None = None
) -> PairsSummary:
    """The cluster-size distribution of the registry within ``max_mismatches`` (no pair
    list, no IDs): ``stats`` (auditors and every role); refused for a store smaller than
    the statistics policy's minimum; audited."""
    from patriline.reference.policy import search_policy
    from patriline.search.api import check_limits
    from patriline.search.index import DEFAULT_MIN_LOCI
    from patriline.stats.disclosure import check_store_size

    loci = DEFAULT_MIN_LOCI if min_loci is None else min_loci
    if max_mismatches < 0 or loci < 0:
        raise InputError("max_mismatches and min_loci must not be negative", field="max_mismatches")
    check_limits(search_policy(), loci, None)
    session.authorize(Action.STATS)
    profiles = session.store.active_specimens()
    params = {"pairs_summary": True, "max_mismatches": max_mismatches, "min_loci": loci}
    try:
        check_store_size(len(profiles), "pairs summary over the store")
    except AccessDenied as exc:
        session.audit(Action.STATS, purpose="pairs summary", params=params,
                      result={"profiles": len(profiles), "refused": str(exc)})  # fmt: skip
        raise
    idx, found, active = _active_pairs(session, max_mismatches, loci)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    n_pairs = 0
    by_mm: Counter[int] = Counter()
    for a, b, m in zip(found.a, found.b, found.mismatches, strict=True):
        if a in active and b in active:
            n_pairs += 1
            by_mm[int(m)] += 1
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
    sizes = Counter(root(x) for x in list(parent))
    dist: Counter[int] = Counter(sizes.values())
    in_clusters = sum(sizes.values())
    dist[1] = len(profiles) - in_clusters
    if dist[1] == 0:
        del dist[1]
    from patriline.provenance import document as provenance_document

    prov = provenance_document(
        "pairs",  # the schema's kind; the parameters say it is the summary
        {"summary": True, "max_mismatches": max_mismatches, "min_loci": loci},
        inputs={"store_change_seq": idx.seq, "index": {"rows": idx.n_rows, "active": idx.n_active}},
    ) | {"engine": "pigeonhole pairs"}
    summary = PairsSummary(
        max_mismatches, loci, len(profiles), n_pairs,
        {k: by_mm.get(k, 0) for k in range(max_mismatches + 1)}, dict(sorted(dist.items())),
        in_clusters, in_clusters / len(profiles) if profiles else 0.0, prov,
    )  # fmt: skip
    session.audit(
        Action.STATS,
        purpose="pairs summary",
        params=params,
        result={"profiles": summary.profiles, "pairs": n_pairs, "in_clusters": in_clusters},
    )
    return summary


def duplicate_pairs(session: Session, case: str, *, min_loci: int | None = None) -> PairResult:
    """Pairs of active profiles that are identical (``max_mismatches=0``) on at least
    ``min_loci`` locus copies: the quality-control list of duplicate samples.

    Only an admin, in an open ``quality_control`` case (refused and audited otherwise);
    audited as an exact search of that case (the specimens returned become its hits).
    """
    from patriline.provenance import document as provenance_document
    from patriline.reference.policy import search_policy
    from patriline.search.api import PairResult, check_limits, pairs_digest
    from patriline.search.index import DEFAULT_MIN_LOCI

    loci = DEFAULT_MIN_LOCI if min_loci is None else min_loci
    if loci < 0:
        raise InputError("min_loci must not be negative", field="min_loci", value=loci)
    check_limits(search_policy(), loci, None)
    c = session.authorize(Action.SEARCH_EXACT, case)
    assert c is not None
    if session.role() != "admin":
        raise session.refuse(
            Action.SEARCH_EXACT, case,
            "the list of duplicate pairs is for an admin in a quality_control case; "
            "others see the aggregate (pairs_summary)",
        )  # fmt: skip
    if c.case_type != "quality_control":
        raise session.refuse(
            Action.SEARCH_EXACT, case,
            f"case {case!r} is a {c.case_type} case; the list of duplicate pairs needs a "
            "quality_control case",
        )  # fmt: skip
    idx, found, active = _active_pairs(session, 0, loci)
    rows: list[dict[str, Any]] = [
        {"a": a, "b": b, "loci_compared": int(n), "mismatches": int(m), "steps": int(s)}
        for a, b, n, m, s in zip(
            found.a, found.b, found.compared, found.mismatches, found.steps, strict=True
        )
        if a in active and b in active
    ]
    prov = provenance_document(
        "pairs",
        {"duplicates": True, "max_mismatches": 0, "min_loci": loci},
        inputs={"store_change_seq": idx.seq, "index": {"rows": idx.n_rows, "active": idx.n_active}},
    ) | {"engine": "pigeonhole pairs"}
    returned = sorted({r["a"] for r in rows} | {r["b"] for r in rows})
    session.audit(
        Action.SEARCH_EXACT,
        case=c,
        params={"duplicates": True, "max_mismatches": 0, "min_loci": loci},
        result={
            "hits": len(returned),
            "pairs": len(rows),
            "returned": returned,
            "pairs_sha256": pairs_digest(rows),
        },
    )
    return PairResult(rows, prov)
