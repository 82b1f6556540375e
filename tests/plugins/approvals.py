"""Familial approvals for tests: approve one trace (by its digest) and its bounds."""

from __future__ import annotations

from typing import Any

from patriline.casework import Session
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.search.api import trace_digest


def approve(
    db: Any,
    supervisor: str,
    case: str,
    trace: str | Haplotype | None = None,
    *,
    max_mismatches: int | None = None,
    max_steps: int | None = None,
    min_loci: int | None = None,
) -> Any:
    """``db.approve_case`` for ``trace`` (``None``: a ``pairs`` approval) and the bounds."""
    if trace is None:
        return Session(db, db.actor(supervisor)).approve_case(case, kind="pairs", max_mismatches=max_mismatches,
            min_loci=min_loci,
        )  # fmt: skip
    h = parse_haplotype_string(trace) if isinstance(trace, str) else trace
    return Session(db, db.actor(supervisor)).approve_case(case, trace_sha256=trace_digest(h),
        max_mismatches=max_mismatches, max_steps=max_steps, min_loci=min_loci,
    )  # fmt: skip


#: The reason tests give for expanding specimens named by hand (not search hits).
REASON = "test: hit named by hand"


def approve_expansion(db: Any, case: str, *, supervisor: str = "approver") -> str:
    """Give ``case`` a live familial approval (by a second supervisor, added if needed) so
    that it may be expanded; return the audited reason for expanding named specimens."""
    if supervisor not in {a.name for a in db.users()}:
        Session(db, db.actor("admin")).add_user(supervisor, "supervisor")
    Session(db, db.actor(supervisor)).approve_case(case, trace_sha256="0" * 64, max_mismatches=0)
    return REASON
