"""CLI commands for the stats concern (thin: parse, call the library, format).

``fit`` (discrete Laplace mixture, clusters by BIC), ``frequency`` (counting, kappa,
dlmix) and ``report`` (a printable case report from the store).
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from patriline.commands._common import (
    FORCE_OPTION,
    JSON_OPTION,
    check_output,
    console,
    default_user,
    emit_json,
    store_url,
)
from patriline.haplotype import Haplotype, parse_haplotype_string

POPULATION_OPTION = typer.Option(
    None, "--population", help="Simulated population directory (for the number of matching men)."
)
KIT_OPTION = typer.Option(
    None, "--kit", help="Kit for the matching-men count (default: from the loci)."
)


def _clusters(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise typer.BadParameter(f"{text!r}: use a count, a range like 1-6 or a list 1,2,4")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1 or hi < lo or hi > 50:
            raise typer.BadParameter(f"{part!r}: cluster counts must be 1..50, low-high")
        out.extend(range(lo, hi + 1))
    return sorted(set(out))


def parse_query(text: str) -> Haplotype:
    """A ``--haplotype`` option as a profile (bad text: an ``InputError`` naming the field)."""
    return parse_haplotype_string(text, field="haplotype")


def fit(
    reference: str = typer.Argument(..., help="Reference file or store URL / SQLite file."),
    clusters: str = typer.Option("1-6", "--clusters", help="Cluster counts to try: 1-6, 4, 1,2,4."),
    out: Path = typer.Option(..., "--out", help="Write the chosen model here (JSON)."),
    loci: str | None = typer.Option(
        None, "--loci", help="Comma-separated loci (default: loci typed in 95% of the reference)."
    ),
    starts: int = typer.Option(3, "--starts", min=1, help="EM starts per cluster count."),
    seed: int = typer.Option(1, "--seed", help="Seed of the random starts."),
    user: str | None = typer.Option(
        None,
        "--user",
        help="Acting user when the reference is a store (default: $PATRILINE_USER, else the OS user).",
    ),
    case: str | None = typer.Option(None, "--case", help="Case the fit belongs to (store only)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Fit a discrete Laplace mixture (Andersen et al. 2013) and choose the clusters by BIC."""
    from patriline.casework import Session
    from patriline.stats.dlmix import FitConfig
    from patriline.stats.reference_set import design_matrix, is_store_url, load_reference
    from patriline.stats.summary import fit_reference

    chosen = [s.strip() for s in loci.split(",")] if loci else None
    config = FitConfig(starts=starts, seed=seed)
    if is_store_url(reference):
        with Session.open(store_url(reference), user or default_user()) as session:
            selection = session.fit(
                case=case, loci=chosen, clusters=_clusters(clusters), config=config
            )
    else:
        ref = load_reference(reference)
        selection = fit_reference(ref, design_matrix(ref, chosen), _clusters(clusters), config)
    selection.best.save(out, selection)
    if json_out:
        emit_json(
            {
                "model": str(out),
                "selection": selection.table(),
                "warnings": selection.warnings,
                **selection.best.to_dict(),
            }
        )
        return
    prov = selection.best.provenance
    console.print(
        f"reference {prov['source']}: {prov['men']:g} men on {len(selection.best.columns)} "
        f"locus copies ({prov['rows_left_out']} left out: {prov['left_out_reasons'] or 'none'})"
    )
    for row in selection.table():
        mark = "  <- chosen" if row["chosen"] else ""
        if row.get("withheld"):
            conv = f"  ({row['note']})"
        else:
            conv = "" if row["converged"] else f"  (not converged: {row['note']})"
        console.print(
            f"  {row['clusters']:2d} clusters  logL {row['log_likelihood']:12.3f}  "
            f"BIC {row['bic']:12.3f}{conv}{mark}"
        )
    for warning in selection.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    best = selection.best
    console.print(f"chosen: {best.clusters} clusters; centres (tau):")
    for j in range(best.clusters):
        centre = " ".join(str(v) for v in best.y[j])
        console.print(f"  {best.tau[j]:.4f}  {centre}")
    console.print(f"columns: {' '.join(best.columns)}")
    console.print(f"model written to {out}")


def frequency(
    haplotype: str = typer.Option(
        ..., "--haplotype", help='Profile, e.g. "DYS19=14,DYS385=11,14".'
    ),
    reference: str = typer.Option(..., "--reference", help="Reference file or store URL."),
    model: Path | None = typer.Option(None, "--model", help="A dlmix model from `patriline fit`."),
    method: str = typer.Option("all", "--method", help="counting, kappa, dlmix or all."),
    level: float = typer.Option(0.95, "--level", min=0.5, max=0.9999, help="Interval level."),
    population: Path | None = POPULATION_OPTION,
    kit: str | None = KIT_OPTION,
    user: str | None = typer.Option(
        None,
        "--user",
        help="Acting user when the reference is a store (default: $PATRILINE_USER, else the OS user).",
    ),
    case: str | None = typer.Option(
        None, "--case", help="Case (needed when the reference is a store: the query is a search)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Frequency of a haplotype in a reference population, by each method."""
    from patriline.casework import Session
    from patriline.stats.dlmix import load_fit
    from patriline.stats.reference_set import is_store_url
    from patriline.stats.summary import METHODS, frequency_summary

    methods = METHODS if method == "all" else (method,)
    if method != "all" and method not in METHODS:
        raise typer.BadParameter(f"--method {method!r}: choose counting, kappa, dlmix or all")
    fitted = load_fit(model) if model is not None else None
    if fitted is not None:
        fitted.provenance.setdefault("source", str(model))
    query = parse_query(haplotype)
    if is_store_url(reference):
        with Session.open(store_url(reference), user or default_user()) as session:
            result = session.frequency(
                query, case=case, model=fitted, methods=methods, level=level,
                population=population, kit=kit,
            )  # fmt: skip
    else:
        result = frequency_summary(
            query, reference, model=fitted, methods=methods, level=level,
            population=population, kit=kit,
        )  # fmt: skip
    if json_out:
        emit_json(result)
        return
    console.print(f"haplotype {result['haplotype']}")
    console.print(
        f"reference: n = {result['n']} men typed at {len(result['loci'])} loci; count = {result['count']}"
    )
    for name in result.get("ignored_loci", []):
        console.print(f"  not used: {name}")
    if "counting" in result:
        c = result["counting"]
        console.print(
            f"counting: p = {c['p']:.4g}  ({c['level']:.0%} Clopper-Pearson {c['ci'][0]:.4g}-{c['ci'][1]:.4g})"
        )
    if "kappa" in result:
        k = result["kappa"]
        extra = "" if k["applies"] else f"  [{k['note']}]"
        p = "none" if k["p"] is None else f"{k['p']:.4g}"
        console.print(f"kappa: κ = {k['kappa']:.4f}, unseen-haplotype p = {p}{extra}")
    if "dlmix" in result:
        d = result["dlmix"]
        if d.get("p") is None:
            console.print(f"dlmix: not available ({d['reason']})")
        else:
            console.print(f"dlmix: p = {d['p']:.4g} ({d['clusters']} clusters; {d['model']})")
            for note in d.get("notes", []):
                console.print(f"  note: {note}")
    mm = result["matching_men"]
    if mm.get("available"):
        shares = ", ".join(
            f"≤{k.split('_')[1]} meioses {v:.0%}"
            for k, v in mm["share_of_matches"].items()
            if v is not None
        )
        console.print(
            f"matching men ({mm['kit']}, simulated population): expected "
            f"{mm['expected_matching_men']:.3g} other men share a random profile; of the "
            f"matches: {shares}"
        )
    else:
        console.print(f"matching men: not available ({mm['reason']})")
    console.print(f"warning: {mm['warning']}")


def report(
    case: str = typer.Option(..., "--case", help="Case the report belongs to."),
    specimen: str = typer.Option(..., "--specimen", help="Candidate specimen in the store."),
    out: Path = typer.Option(..., "--out", help="Write the HTML report here."),
    trace: Path | None = typer.Option(None, "--trace", help="Trace profile file (first record)."),
    haplotype: str | None = typer.Option(None, "--haplotype", help="Trace profile as text."),
    model: Path | None = typer.Option(None, "--model", help="A dlmix model from `patriline fit`."),
    max_meioses: int = typer.Option(20, "--max-meioses", min=1, max=250, help="LR hypothesis."),
    population: Path | None = POPULATION_OPTION,
    kit: str | None = KIT_OPTION,
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="Reference population file (default: the store's reference categories, "
        "without the candidate and the men recorded in his paternal line).",
    ),
    force: bool = FORCE_OPTION,
    db: str | None = typer.Option(None, "--db", help="Store URL (default: $PATRILINE_DB)."),
    user: str | None = typer.Option(None, "--user", help="Acting user (default: $PATRILINE_USER)."),
) -> None:
    """Write a printable case report: profiles, frequencies, matching men, LR, TMRCA."""
    from patriline.casework import Session
    from patriline.stats.report import ReportRequest

    check_output(out, force=force, inputs=tuple(p for p in (trace, model, reference) if p))

    if (trace is None) == (haplotype is None):
        raise typer.BadParameter("give the trace as exactly one of --trace FILE or --haplotype")
    request = ReportRequest(
        case=case,
        specimen=specimen,
        trace_file=trace,
        trace_text=haplotype,
        model_file=model,
        max_meioses=max_meioses,
        population_dir=population,
        kit=kit,
        reference_file=reference,
    )
    with Session.open(store_url(db), user or default_user()) as session:
        path = session.write_report(request, out)
    console.print(f"report written to {path}")


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""
    app.command("fit")(fit)
    app.command("frequency")(frequency)
    app.command("report")(report)
