"""A printable, self-contained HTML case report (Jinja2 template, embedded SVG plot).

The report shows the profiles side by side, the frequency of the trace by each method,
the number of matching men, the relatedness LR and the posterior of generations to the
common ancestor, with a provenance block. This module computes and renders on plain
data; the use case :mod:`patriline.casework.reports` reads the candidate and the
reference through the store (access checked with the ``stats`` and ``search_exact``
actions in the case; the candidate must be a hit of an audited search of that case; one
audit entry written).
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
from patriline.stats.denominator import Denominator, choose_denominator
from patriline.stats.dlmix import DLMixFit
from patriline.stats.reference_set import ReferenceSet, load_reference
from patriline.stats.relatedness import GenerationsPosterior, likelihood_ratio, tmrca_posterior

__all__ = [
    "Evaluation",
    "ReportRequest",
    "build_context",
    "evaluate",
    "load_model",
    "read_trace",
    "render",
    "write_html",
]

TMRCA_MAX_GENERATIONS = 100


@dataclass(frozen=True)
class ReportRequest:
    """What a report is about and how it was asked for (kept in its provenance block)."""

    case: str
    specimen: str
    trace_file: Path | None = None
    trace_text: str | None = None
    model_file: Path | None = None
    max_meioses: int = 20
    population_dir: Path | None = None
    kit: str | None = None
    #: A reference population file (any format patriline reads); None: the store's
    #: reference categories without the candidate and his recorded relatives.
    reference_file: Path | None = None


def read_trace(request: ReportRequest) -> Haplotype:
    """The trace of ``request``: its text, else the first profile of its file."""
    from patriline.haplotype import parse_haplotype_string

    if request.trace_text is not None:
        return parse_haplotype_string(request.trace_text, field="haplotype")
    assert request.trace_file is not None
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


def _trace_name(request: ReportRequest) -> str:
    """The trace as the report names it: its file (first profile) or "given as text"."""
    if request.trace_file is not None:
        return f"first profile of {request.trace_file}"
    return "given as text"


def _reference_text(prov: dict[str, Any], store: str) -> str:
    """How the reference population was obtained, in one sentence."""
    if "categories" not in prov:
        return f"{prov.get('source', store)} ({prov.get('rows')} profiles)"
    excluded = prov.get("excluded") or {}
    text = (
        f"store {store}: the {prov.get('rows')} active profiles of the categories "
        f"{', '.join(prov['categories'])} (crime-scene traces, remains, relatives of missing "
        "men and rows of no stated category left out)"
    )
    if excluded.get("specimens"):
        text += f"; {excluded['specimens']} left out as {excluded.get('because', 'excluded')}"
    return text


def _method_rows(freq: dict[str, Any], used: Denominator | None = None) -> list[dict[str, str]]:
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
    if used is not None:  # which row is the LR's denominator
        key = {"dlmix": "Discrete Laplace mixture"}.get(used.method)
        if key is None:
            key = "Counting" if used.method.startswith("counting") else "Brenner kappa"
        for row in rows:
            row["used"] = "yes" if row["name"] == key else ""
    return rows


@dataclass
class Evaluation:
    """The statistics of one report: the trace against the candidate and a reference."""

    trace: Haplotype
    candidate: Haplotype
    model: DLMixFit | None
    freq: dict[str, Any]
    lr: dict[str, Any] | None
    lr_reason: str
    tmrca: dict[str, Any] | None
    tmrca_reason: str
    svg: str
    denominator: Denominator | None = None
    #: Loci typed in both profiles (and in the model): numerator and every estimate use them.
    loci: tuple[str, ...] = ()


def load_model(request: ReportRequest) -> DLMixFit | None:
    """The dlmix model of ``request.model_file`` (None without one)."""
    from patriline.stats.dlmix import load_fit

    model = load_fit(request.model_file) if request.model_file else None
    if model is not None:
        model.provenance.setdefault("source", str(request.model_file))
    return model


def evaluate(
    request: ReportRequest,
    trace: Haplotype,
    candidate: Haplotype,
    ref: ReferenceSet,
    model: DLMixFit | None,
) -> Evaluation:
    """Frequencies of the trace in ``ref``, the relatedness LR and the TMRCA posterior
    (with its plot); a statistic that cannot be computed gives its reason."""
    from patriline.stats.summary import frequency_summary

    # Numerator and every denominator on the same loci: typed in both (and in the model).
    shared = [n for n in trace.alleles if trace[n].typed and candidate[n].typed]
    if model is not None:
        in_model = {c.split("[")[0] for c in model.columns}
        shared = [n for n in shared if n in in_model]
    weighed = trace.restricted(shared) if shared else trace
    freq = frequency_summary(
        weighed, ref, model=model, population=request.population_dir, kit=request.kit
    )
    denominator: Denominator | None = None
    try:
        denominator = choose_denominator(freq)
        lr_obj = likelihood_ratio(
            weighed, candidate, denominator.p, max_meioses=request.max_meioses
        )
        lr, lr_reason = lr_obj.to_dict(), ""
        lr["denominator_method"] = denominator.method
    except PatrilineError as exc:
        lr, lr_reason = None, str(exc)
    try:
        post = tmrca_posterior(trace, candidate, max_generations=TMRCA_MAX_GENERATIONS)
        tmrca, tmrca_reason, svg = post.to_dict(), "", _plot_svg(post)
    except PatrilineError as exc:
        tmrca, tmrca_reason, svg = None, str(exc), ""
    return Evaluation(
        trace, candidate, model, freq, lr, lr_reason, tmrca, tmrca_reason, svg,
        denominator, tuple(shared),
    )  # fmt: skip


def build_context(
    request: ReportRequest, ev: Evaluation, *, store: str, user: str, audit_id: int
) -> dict[str, Any]:
    """Everything the template shows (``store``: the store's URL without password;
    ``user``: who asked; ``audit_id``: the report's audit entry)."""
    freq, lr = ev.freq, ev.lr
    rows, comp = _locus_rows(ev.trace, ev.candidate)
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    asked = {"db_url": store, "user": user, **asdict(request)}
    provenance = {
        "request": {k: str(v) for k, v in asked.items()},
        "frequency": freq["provenance"],
        "model": None if ev.model is None else ev.model.provenance,
        "audit_entry": audit_id,
        "created": created,
    }
    return {
        "case": request.case,
        "specimen": request.specimen,
        "user": user,
        "created": created,
        "audit_id": audit_id,
        "loci": rows,
        "compared": comp.loci_compared,
        "mismatches": comp.mismatches,
        "steps": comp.steps,
        "freq": freq,
        "reference_text": _reference_text(freq["provenance"]["reference"], store),
        "trace_text": _trace_name(request),
        "methods": _method_rows(freq, ev.denominator),
        "denominator": None if ev.denominator is None else ev.denominator.to_dict(),
        "weighed_loci": list(ev.loci),
        "matching": freq["matching_men"],
        "matching_text": json.dumps(freq["matching_men"], indent=2, default=str),
        "lr": lr,
        "lr_text": "—" if lr is None else f"{lr['lr']:.4g}",
        "lr_reason": ev.lr_reason,
        "tmrca": ev.tmrca,
        "tmrca_max": TMRCA_MAX_GENERATIONS,
        "tmrca_reason": ev.tmrca_reason,
        "plot_svg": ev.svg,
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


def write_html(context: dict[str, Any], out: str | Path) -> Path:
    """Render ``context`` and write it (owner-only); return the path."""
    path = Path(out)
    html = render(context)
    try:
        write_private(path, html)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror})") from None
    return path
