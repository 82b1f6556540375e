"""The printable case report: access, the case's hits, the store reads, audit.

The statistics and the rendering are :mod:`patriline.stats.report` (plain data); this
use case checks the ``stats`` and ``search_exact`` rights in the case before anything
is read (so that a refused user cannot tell a stored specimen from an absent one),
reads only a hit of the case's audited searches, reads the store as the reference
population of the trace's frequency (:func:`patriline.casework.statistics.reference`:
the policy's reference categories only, without the candidate and the men recorded in
his paternal line) unless a reference file is given, and writes one audit entry naming
the trace by its digest (no genetic data).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline.search.api import trace_digest
from patriline.stats.report import (
    ReportRequest,
    build_context,
    evaluate,
    load_model,
    read_trace,
    write_html,
)

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["report", "write_report"]


def report(session: Session, request: ReportRequest) -> dict[str, Any]:
    """Everything the report shows (the template's context); checks access and writes
    the audit entry."""
    from patriline.casework.statistics import reference

    db = session.store
    trace = read_trace(request)
    model = load_model(request)
    c = session.authorize("stats", request.case)
    # Reading a named specimen's profile and counting the trace in the store are a
    # search: check that right (and the case) before anything is read. A closed case
    # still gives its report (of its own hits): reading it is an export.
    session.authorize("export" if c is not None and c.closed else "search_exact", request.case)
    # Only a hit of this case's audited searches, never any named specimen.
    session.require_case_hits("report", request.case, [request.specimen])
    candidate = db.haplotype(request.specimen)
    if request.reference_file is not None:
        from patriline.stats.reference_set import load_reference

        ref = load_reference(request.reference_file)
    else:
        ref = reference(
            session,
            case=request.case,
            purpose="frequency",
            exclude=_candidate_and_relatives(session, request.specimen),
            excluded_because="the candidate and the men recorded in his paternal line",
        )
    ev = evaluate(request, trace, candidate, ref, model)
    audit_id = session.audit(
        "stats",
        case=request.case,
        params={
            "report": "case",
            "specimen": request.specimen,
            "trace_sha256": trace_digest(trace),  # no genetic data in the audit log
        },
        result={
            "lr": None if ev.lr is None else ev.lr["lr"],
            "count": ev.freq["count"],
            "denominator": None if ev.denominator is None else ev.denominator.method,
        },
    )
    return build_context(request, ev, store=ref.source, user=session.user, audit_id=audit_id)


def _candidate_and_relatives(session: Session, specimen: str) -> list[str]:
    """The candidate's specimens and those of every man linked to him in the registry
    within the policy's generations (they share his haplotype because they are his
    relatives: the alternative hypothesis, not the population)."""
    from patriline.stats.denominator import reference_policy

    db = session.store
    person = db.person_of(specimen)
    links = db.lineage_links([person], reference_policy().related_generations)
    persons = {person} | {x for link in links for x in (link.son, link.father)}
    found = db.active_specimens_of(sorted(persons))
    return sorted({specimen} | {s for ids in found.values() for s in ids})


def write_report(session: Session, request: ReportRequest, out: str | Path) -> Path:
    """Build, render and write the report (owner-only file); return its path."""
    return write_html(report(session, request), out)
