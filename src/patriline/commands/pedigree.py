"""CLI commands for the pedigree concern: ``links import`` and ``expand`` (parse, call, format)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from patriline.commands._common import (
    JSON_OPTION,
    console,
    default_user,
    emit_json,
    store_url,
)
from patriline.errors import InputError
from patriline.haplotype import Haplotype, parse_haplotype_string

__all__ = ["register"]

links_app = typer.Typer(help="Paternal links (son → father) between registry persons.")

DB_OPTION = typer.Option(None, "--db", help="Store URL or SQLite path (default: $PATRILINE_DB).")
USER_OPTION = typer.Option(None, "--user", help="Acting user (default: $PATRILINE_USER or login).")


@links_app.command("import")
def links_import(
    file: Path = typer.Argument(..., help="CSV (son,father), PED or TGF file."),
    db: str | None = DB_OPTION,
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="csv, ped or tgf (default: detect)."
    ),
    lenient: bool = typer.Option(
        False, "--lenient", help="Import the valid links, report the rest."
    ),
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import paternal links; strict (all or nothing) unless --lenient."""
    from patriline.casework import Session

    with Session.open(store_url(db), user or default_user()) as session:
        result, stored = session.import_links(file, format=fmt, lenient=lenient)
    summary = result.summary() | {"added": stored["added"], "unchanged": stored["unchanged"]}
    if as_json:
        emit_json(summary)
        return
    typer.echo(
        f"{file} ({result.format}): {result.rows} rows, {stored['added']} links added, "
        f"{stored['unchanged']} unchanged, {result.skipped} without a male link, "
        f"{len(result.problems)} rejected"
    )
    for p in result.problems:
        typer.echo(f"  {p}", err=True)


def _trace(trace: Path | None, haplotype: str | None) -> Haplotype | None:
    if trace is not None and haplotype is not None:
        raise InputError("give --trace FILE or --haplotype, not both")
    if haplotype is not None:
        return parse_haplotype_string(haplotype, field="haplotype")
    if trace is not None:
        from patriline.io import read

        records = read(trace).records
        if len(records) != 1:
            raise InputError(f"{trace}: a trace file must hold one profile (found {len(records)})")
        return records[0].haplotype
    return None


def expand(
    case: str = typer.Option(..., "--case", help="The case the expansion belongs to."),
    specimen: list[str] | None = typer.Option(
        None,
        "--specimen",
        help="A hit specimen (repeatable; hits of unrelated families, at most 10, are "
        "expanded together and ranked jointly).",
    ),
    top_hits: bool = typer.Option(
        False,
        "--top-hits",
        help="Instead of --specimen: search the case for the trace (familial, "
        "--max-mismatches) and expand every hit tied at the top score (at most 10).",
    ),
    max_mismatches: int = typer.Option(
        3, "--max-mismatches", min=0, help="With --top-hits: mismatches allowed in the search."
    ),
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="Why specimens that were not hits of this case's searches are expanded (audited).",
    ),
    db: str | None = DB_OPTION,
    generations: int = typer.Option(
        5, "--generations", "-g", min=0, max=20, help="Generations up and down."
    ),
    trace: Path | None = typer.Option(None, "--trace", help="Trace profile file (one specimen)."),
    haplotype: str | None = typer.Option(
        None, "--haplotype", help='Trace profile, e.g. "DYS19=14,DYS385=11,14".'
    ),
    svg: Path | None = typer.Option(None, "--svg", help="Write the tree as SVG here."),
    rate_points: int = typer.Option(
        5,
        "--rate-points",
        min=0,
        max=64,
        help="Quadrature rates per locus integrating the catalog rate's uncertainty "
        "(0 or 1: point rates).",
    ),
    founder_frequencies: Path | None = typer.Option(
        None,
        "--founder-frequencies",
        help="Reference haplotypes (any haplotype format; a column 'n' counts men per "
        "row) giving the founders' allele frequencies (default: uniform).",
    ),
    prior: Path | None = typer.Option(
        None,
        "--prior",
        help="CSV 'person,weight': prior weights of possible donors (e.g. 1 for men alive "
        "and of plausible age, 0 for men excluded); unlisted men get --default-weight.",
    ),
    default_weight: float | None = typer.Option(
        None,
        "--default-weight",
        min=0.0,
        help="Prior weight of men not in --prior (default: 0 with --prior, else 1).",
    ),
    outside_prior: float = typer.Option(
        0.0,
        "--outside-prior",
        help="Prior probability that the donor is none of the tree's men (default 0).",
    ),
    outside_frequency: float | None = typer.Option(
        None,
        "--outside-frequency",
        help="The trace's population frequency: its match probability outside the tree.",
    ),
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Expand lineage hits into their paternal trees and rank the untested men as donors."""
    from patriline.casework import Session
    from patriline.pedigree.donor import DonorConfig
    from patriline.pedigree.priors import read_donor_prior, read_founder_frequencies

    profile = _trace(trace, haplotype)
    if top_hits == bool(specimen):
        raise InputError("give the hits (--specimen, repeatable) or --top-hits, not both")
    if top_hits and profile is None:
        raise InputError("--top-hits searches for the trace: give --trace or --haplotype")
    weights = None if prior is None else read_donor_prior(prior)
    config = DonorConfig(
        prior=weights,
        default_weight=(
            default_weight if default_weight is not None else (0.0 if weights else 1.0)
        ),
        rate_points=rate_points,
        founder_frequencies=(
            None if founder_frequencies is None else read_founder_frequencies(founder_frequencies)
        ),
        outside_prior=outside_prior,
        outside_match=outside_frequency,
    )
    with Session.open(store_url(db), user or default_user()) as session:
        picked = None
        if top_hits:
            assert profile is not None
            picked, result = session.expand_top_hits(
                case, profile, max_mismatches=max_mismatches, generations=generations,
                config=config,
            )  # fmt: skip
        else:
            result = session.expand(
                case, specimen or [], generations=generations, trace=profile, config=config,
                reason=reason,
            )  # fmt: skip
    if svg is not None:
        from patriline.pedigree.draw import write_svg

        write_svg(result, svg)
    doc = result.to_dict()
    if picked is not None:
        doc["top_hits"] = {
            "specimens": picked.specimens,
            "score": picked.score,
            "tied": picked.tied,
            "truncated": picked.truncated,
            "max_mismatches": max_mismatches,
        }
    if as_json:
        emit_json(doc)
        return
    several = len(doc["families"]) > 1
    around = (
        f"{len(doc['families'])} families (hits {', '.join(f['family'] for f in doc['families'])})"
        if several
        else f"hit {result.hit}"
    )
    table = Table(title=f"case {case}: {doc['n_members']} men around {around}")
    cols = ["rank", "person", "specimen", "meioses", "typed", "P(match)", "P(donor)"]
    for col in ["family", *cols] if several else cols:
        table.add_column(col)
    rows = sorted(doc["members"], key=lambda m: (m["rank"] is None, m["rank"] or 0, m["person"]))
    for m in rows:
        table.add_row(
            *([m["family"]] if several else []),
            "" if m["rank"] is None else str(m["rank"]),
            m["person"],
            m["specimen"] or "",
            "" if m["meioses_from_hit"] is None else str(m["meioses_from_hit"]),
            "yes" if m["typed"] else "no",
            "" if m["p_match"] is None else f"{m['p_match']:.3g}",
            "" if m["posterior"] is None else f"{m['posterior']:.3g}",
        )
    if picked is not None:
        cut = f" (first {len(picked.specimens)} of {picked.tied} tied)" if picked.truncated else ""
        typer.echo(f"search: {len(picked.specimens)} hit(s) tied at the top score{cut}")
    console.print(table)
    if several and profile is not None:
        for f in doc["families"]:
            typer.echo(f"family {f['family']}: P(donor in this family) = {f['posterior']:.3g}")
    if doc.get("outside"):
        typer.echo(f"P(donor outside the tree) = {doc['outside']['posterior']:.3g}")
    for f in doc["flags"]:
        typer.echo(f"flag: {f['person']} (father {f['father']}): {f['message']}")


def register(app: typer.Typer) -> None:
    """Add ``links import`` and ``expand`` to ``app``."""
    app.add_typer(links_app, name="links")
    app.command()(expand)
