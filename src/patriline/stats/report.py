"""A printable, self-contained HTML case report (Jinja2 template, embedded SVG plot).

The report reads the candidate through the store (access checked with the ``stats``
and ``search_exact`` actions in the case; the candidate must be a hit of an audited
search of that case; one audit entry written) and shows the profiles side by side, the frequency of the
trace by each method, the number of matching men, the relatedness LR and the posterior of
generations to the common ancestor, with a provenance block.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2

from patriline._files import write_private
from patriline.errors import InputError, PatrilineError
from patriline.haplotype import Haplotype, Status, compare
from patriline.stats.relatedness import GenerationsPosterior, likelihood_ratio, tmrca_posterior

__all__ = ["ReportRequest", "build_context", "render", "write_report"]

TMRCA_MAX_GENERATIONS = 100


@dataclass(frozen=True)
class ReportRequest:
    """What a report is about and how it was asked for (kept in its provenance block)."""

    db_url: str
    user: str
    case: str
    specimen: str
    trace_file: Path | None = None
    trace_text: str | None = None
    model_file: Path | None = None
    max_meioses: int = 20
    population_dir: Path | None = None
    kit: str | None = None


def _trace(request: ReportRequest) -> Haplotype:
    from patriline.haplotype import parse_haplotype_string

    if request.trace_text is not None:
        return parse_haplotype_string(request.trace_text, field="haplotype")
    assert request.trace_file is not None
    from patriline.stats.reference import load_reference

    ref = load_reference(request.trace_file)
    if ref.encoded.n_rows == 0:
        raise InputError(f"{request.trace_file}: no trace profile in the file")
    from patriline.encoding import decode

    return decode(ref.encoded, [0])[0]


def _plot_svg(post: GenerationsPosterior) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    ax.bar(post.generations, post.probabilities, width=1.0, color="#4a6fa5")
    for q, style in ((0.5, "-"), (0.9, "--"), (0.95, ":")):
        ax.axvline(post.quantile(q), color="#222", linestyle=style, linewidth=1, label=f"{q:.0%}")
    ax.set_xlabel("generations to the common paternal ancestor")
    ax.set_ylabel("posterior probability")
    ax.legend(title="quantile", fontsize=8)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg") :]


def _locus_rows(trace: Haplotype, candidate: Haplotype) -> tuple[list[dict[str, str]], Any]:
    comp = compare(trace, candidate)
    rows = []
    for lc in comp.loci:
        if lc.locus not in trace.alleles:
            continue  # the candidate's loci the trace does not have are never shown
        if lc.status is Status.EQUAL:
            text = "equal"
        elif lc.status is Status.DIFFERS:
            text = f"differs: {lc.steps} step(s)"
        elif lc.status is Status.NOT_COMPARABLE:
            text = "differs (not a whole number of repeats)"
        else:
            text = "not compared (untyped in one profile)"
        rows.append(
            {
                "locus": lc.locus,
                "trace": str(trace[lc.locus]) or "—",
                "candidate": str(candidate[lc.locus]) or "—",
                "status": lc.status.value,
                "text": text,
            }
        )
    return rows, comp


def _method_rows(freq: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    c = freq["counting"]
    rows.append(
        {
            "name": "Counting",
            "value": f"{freq['count']}/{freq['n']} = {c['p']:.3g}",
            "detail": f"{c['level']:.0%} Clopper–Pearson {c['ci'][0]:.3g} – {c['ci'][1]:.3g}",
        }
    )
    k = freq["kappa"]
    rows.append(
        {
            "name": "Brenner kappa",
            "value": "—" if k["p"] is None else f"{k['p']:.3g}",
            "detail": f"κ = {k['kappa']:.3f} ({k['singletons']} singletons in {k['n']})"
            + ("" if k["applies"] else f"; {k['note']}"),
        }
    )
    d = freq["dlmix"]
    rows.append(
        {
            "name": "Discrete Laplace mixture",
            "value": "—" if d.get("p") is None else f"{d['p']:.3g}",
            "detail": d.get("reason")
            or "; ".join([f"{d['clusters']} clusters", str(d["model"]), *d.get("notes", [])]),
        }
    )
    return rows


def build_context(request: ReportRequest) -> dict[str, Any]:
    """Everything the template shows; checks access and writes the audit entry."""
    from patriline.search.api import trace_digest
    from patriline.stats.dlmix import load_fit
    from patriline.stats.reference import load_reference
    from patriline.stats.summary import frequency_summary
    from patriline.store import Database

    trace = _trace(request)
    model = load_fit(request.model_file) if request.model_file else None
    if model is not None:
        model.provenance.setdefault("source", str(request.model_file))
    with Database.open(request.db_url) as db:
        actor = db.actor(request.user)
        db.authorize(actor, "stats", request.case)
        # Reading a named specimen's profile and counting the trace in the store are a
        # search: check that right (and the case) before anything is read, so that a
        # refused user cannot tell a stored specimen from an absent one.
        db.authorize(actor, "search_exact", request.case)
        # Only a hit of this case's audited searches, never any named specimen.
        db.require_case_hits(actor, "report", request.case, [request.specimen])
        candidate = db.haplotype(request.specimen)
        ref = load_reference(db, user=actor, case=request.case, purpose="frequency")
        freq = frequency_summary(
            trace, ref, model=model, population=request.population_dir, kit=request.kit
        )
        try:
            lr_obj = likelihood_ratio(
                trace, candidate, model or ref, max_meioses=request.max_meioses
            )
            lr, lr_reason = lr_obj.to_dict(), ""
        except PatrilineError as exc:
            lr, lr_reason = None, str(exc)
        try:
            post = tmrca_posterior(trace, candidate, max_generations=TMRCA_MAX_GENERATIONS)
            tmrca, tmrca_reason, svg = post.to_dict(), "", _plot_svg(post)
        except PatrilineError as exc:
            tmrca, tmrca_reason, svg = None, str(exc), ""
        audit_id = db.audit(
            actor,
            "stats",
            case=request.case,
            params={
                "report": "case",
                "specimen": request.specimen,
                "trace_sha256": trace_digest(trace),  # no genetic data in the audit log
            },
            result={"lr": None if lr is None else lr["lr"], "count": freq["count"]},
        )
    rows, comp = _locus_rows(trace, candidate)
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    provenance = {
        "request": {k: str(v) for k, v in asdict(request).items()},
        "frequency": freq["provenance"],
        "model": None if model is None else model.provenance,
        "audit_entry": audit_id,
        "created": created,
    }
    return {
        "case": request.case,
        "specimen": request.specimen,
        "user": request.user,
        "created": created,
        "audit_id": audit_id,
        "loci": rows,
        "compared": comp.loci_compared,
        "mismatches": comp.mismatches,
        "steps": comp.steps,
        "freq": freq,
        "reference_text": f"store {request.db_url} ({freq['provenance']['reference'].get('rows')} specimens)",
        "methods": _method_rows(freq),
        "matching": freq["matching_men"],
        "matching_text": json.dumps(freq["matching_men"], indent=2, default=str),
        "lr": lr,
        "lr_text": "—" if lr is None else f"{lr['lr']:.4g}",
        "lr_reason": lr_reason,
        "tmrca": tmrca,
        "tmrca_max": TMRCA_MAX_GENERATIONS,
        "tmrca_reason": tmrca_reason,
        "plot_svg": svg,
        "provenance": json.dumps(provenance, indent=2, default=str),
    }


def render(context: dict[str, Any]) -> str:
    """The HTML text of a report context."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("patriline.stats", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(**context)


def write_report(request: ReportRequest, out: str | Path) -> Path:
    """Build, render and write the report; return its path."""
    path = Path(out)
    html = render(build_context(request))
    try:
        write_private(path, html)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror})") from None
    return path
