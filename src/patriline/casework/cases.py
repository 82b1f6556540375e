"""Cases and familial approvals: opening, approving (four-eyes), using, revoking.

A case holds the purpose and legal basis that searches and identity reads are tied to;
a familial approval names one trace and its bounds, expires and is used up
(``reference/data/search_policy.toml``). The rows are the store's
(:mod:`patriline.store.cases`); the rules are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from patriline.casework.access import Action
from patriline.errors import InputError, NotFound
from patriline.store import audit as _audit
from patriline.store import cases as _cases
from patriline.store.access import Case

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = [
    "approve_case",
    "case",
    "case_hits",
    "list_cases",
    "open_case",
    "require_case_hits",
    "revoke_approvals",
    "use_approval",
]


def open_case(
    session: Session, case: str, *, purpose: str, legal_basis: str, case_type: str = "criminal"
) -> Case:
    """Open a case with its purpose and legal basis (both required) and its type
    (:data:`patriline.store.schema.CASE_TYPES`); audited."""
    from patriline.store.schema import CASE_TYPES

    if not case.strip() or not purpose.strip() or not legal_basis.strip():
        raise InputError("a case needs an ID, a purpose and a legal basis")
    if case_type not in CASE_TYPES:
        raise InputError(
            f"unknown case type {case_type!r}; case types: {', '.join(CASE_TYPES)}",
            field="case_type",
            value=case_type,
        )
    session.authorize(Action.CASE_OPEN)
    entry = session.entry(
        Action.CASE_OPEN,
        case=case,
        purpose=purpose,
        params={"legal_basis": legal_basis, "case_type": case_type},
    )
    return _cases.insert_case(
        session.store,
        case,
        purpose=purpose,
        legal_basis=legal_basis,
        opened_by=session.user,
        entry=entry,
        case_type=case_type,
    )


def approve_case(
    session: Session,
    case: str,
    *,
    familial: bool = True,
    kind: str = "search",
    trace_sha256: str | None = None,
    max_mismatches: int | None = None,
    max_steps: int | None = None,
    min_loci: int | None = None,
    request: tuple[int, str] | None = None,
) -> Case:
    """Approve familial search in ``case`` for one trace and bounds; audited.

    A supervisor (or admin) other than the opener. ``kind="search"`` names the trace
    (``trace_sha256``, :func:`patriline.search.api.trace_digest`) and the bounds
    (``None`` = no bound; at least one bound must be given); ``kind="pairs"`` allows
    all-vs-all pairs within ``max_mismatches``. The approval expires and is used up
    as ``reference/data/search_policy.toml`` says; the row and its audit entry are
    written in one transaction (``audit_id``). Returns the case with the new
    approval (``Case.approval``).
    """
    from patriline.reference.policy import search_policy

    policy = search_policy()
    if not familial:
        raise InputError("only familial-search approval exists (--familial)")
    session.authorize(Action.CASE_APPROVE, case)  # a closed case is approved no more
    if kind not in ("search", "pairs"):
        raise InputError(f"unknown approval kind {kind!r}; kinds: search, pairs")
    if kind == "search":
        if not trace_sha256 or len(trace_sha256) != 64:
            raise InputError(
                "a familial approval names its trace: --trace-sha256 (64 hex digits) or --haplotype"
            )
        if max_mismatches is None and max_steps is None:
            raise InputError("a familial approval names its bounds: --max-mismatches/--max-steps")
    else:
        if trace_sha256 is not None or max_steps is not None:
            raise InputError("a pairs approval has no trace and no step bound")
        if max_mismatches is None:
            raise InputError("a pairs approval names its bound: --max-mismatches")
    for name, v in (("max_mismatches", max_mismatches), ("max_steps", max_steps)):
        if v is not None and v < 0:
            raise InputError(f"{name} must not be negative (got {v})")
    floor = min_loci if min_loci is not None else policy.loci_floor
    if floor < policy.loci_floor:
        raise InputError(
            f"min_loci {floor} is below the floor of {policy.loci_floor} locus copies "
            f"({policy.floor_source}; search_policy.toml)"
        )
    c = _cases.find_case(session.store, case)
    if c is None:
        raise NotFound(f"no case {case!r}")
    if c.opened_by == session.user:
        raise session.refuse(
            Action.CASE_APPROVE,
            case,
            f"case {case!r} was opened by {session.user!r}; another supervisor must approve it",
        )
    terms = {
        "kind": kind,
        "trace_sha256": trace_sha256,
        "max_mismatches": max_mismatches,
        "max_steps": max_steps,
        "min_loci": floor,
    }
    extra: dict[str, object] = {}
    also = None
    if request is not None:
        from patriline.store import workflow as _rows

        request_id, decision_reason = request
        extra = {"request": request_id, "reason": decision_reason}

        def also(conn: Any, approval_id: int) -> None:
            _rows.decide_in(
                conn,
                request_id,
                decided_by=session.user,
                reason=decision_reason,
                approval_id=approval_id,
            )

    entry = session.entry(
        Action.CASE_APPROVE,
        case=case,
        purpose=c.purpose,
        params={"familial": True, **terms, **extra},
    )
    return _cases.insert_approval(
        session.store,
        c,
        approved_by=session.user,
        terms=terms,
        valid_days=policy.approval_valid_days,
        uses=policy.approval_max_uses if kind == "search" else policy.pairs_max_uses,
        entry=entry,
        also=also,
    )


def use_approval(
    session: Session,
    case: str,
    *,
    kind: str,
    trace_sha256: str | None,
    max_mismatches: int | None,
    max_steps: int | None,
    min_loci: int,
) -> int:
    """Use one search of a live approval of ``case`` that covers the request; its ID.

    Refused (:class:`AccessDenied`, audited as ``access_denied``) when no approval of
    the case covers the trace and bounds, or every covering one is expired, revoked
    or used up.
    """
    now = _audit.now()
    got = _cases.take_approval_use(
        session.store,
        case,
        kind=kind,
        trace_sha256=trace_sha256,
        max_mismatches=max_mismatches,
        max_steps=max_steps,
        min_loci=min_loci,
    )
    if isinstance(got, int):
        return got
    what = "this trace and these bounds" if kind == "search" else "pairs within these bounds"
    if not got:
        reason = (
            f"no familial approval of case {case!r} covers {what} "
            f"(max mismatches {max_mismatches}, max steps {max_steps}, min loci "
            f"{min_loci}); a second supervisor approves the trace: patriline case "
            "approve CASE --familial --haplotype … --max-mismatches …"
        )
    else:
        states = sorted(
            {
                "revoked" if a.revoked else "expired" if a.expires_at <= now else "used up"
                for a in got
            }
        )
        reason = (
            f"the familial approval of case {case!r} for {what} is "
            f"{' / '.join(states)}; a new approval is needed"
        )
    raise session.refuse(Action.SEARCH_FAMILIAL, case, reason, trace_sha256=trace_sha256)


def revoke_approvals(session: Session, case: str) -> int:
    """Revoke every live approval of ``case`` (a supervisor); audited; the count."""
    session.authorize(Action.CASE_APPROVE)
    entry = session.entry(Action.CASE_APPROVE, case=case, params={"revoke": True})
    return _cases.revoke_approvals(session.store, case, entry)


def case(session: Session, case: str) -> Case:
    """The case ``case`` (:class:`NotFound` if there is none)."""
    c = _cases.find_case(session.store, case)
    if c is None:
        raise NotFound(f"no case {case!r}")
    return c


def list_cases(session: Session) -> list[Case]:
    """Every case of the store, by ID."""
    return _cases.list_cases(session.store)


def case_hits(session: Session, case: str) -> set[str]:
    """Specimens returned by the audited searches of ``case``."""
    return _cases.case_hits(session.store, case)


def require_case_hits(session: Session, action: str, case: str, specimens: Sequence[str]) -> None:
    """Refuse (audited) unless every one of ``specimens`` was a hit of a search in ``case``."""
    missing = sorted(set(specimens) - _cases.case_hits(session.store, case))
    if missing:
        raise session.refuse(
            action,
            case,
            f"{action} in case {case!r} reads only hits of that case's searches; "
            f"not a hit: {', '.join(missing)}",
        )
