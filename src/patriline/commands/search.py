"""CLI commands for the search concern (thin: parse, call the library, format).

``patriline search`` finds the paternal relatives of one trace (``--haplotype`` or
``--profile FILE``) or of many (``--traces FILE``); ``patriline pairs`` lists all pairs of
database profiles within a number of mismatches. See ``docs/search.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

DB_OPTION = typer.Option(
    None, "--db", help="Store URL: a SQLite file or postgresql://… (default: $PATRILINE_DB)."
)
USER_OPTION = typer.Option(
    None, "--user", help="Acting user (default: $PATRILINE_USER, else the OS user)."
)
CASE_OPTION = typer.Option(..., "--case", help="Case the search is made in.")
MIN_LOCI_OPTION = typer.Option(9, "--min-loci", help="Fewest locus copies compared for a hit.")


def _read_traces(path: Path) -> list[tuple[str, Any]]:
    from patriline.io import read

    result = read(path)
    if not result.records:
        raise InputError(f"{path}: no profiles found")
    return [(r.specimen, r.haplotype) for r in result.records]


def search(
    case: str = CASE_OPTION,
    haplotype: str | None = typer.Option(
        None, "--haplotype", help='The trace as "DYS19=14,DYS389I=13,DYS385=11,14,…".'
    ),
    profile: Path | None = typer.Option(None, "--profile", help="A file holding one trace."),
    traces: Path | None = typer.Option(
        None, "--traces", help="A file of many traces (any format patriline reads)."
    ),
    max_mismatches: int | None = typer.Option(
        None,
        "--max-mismatches",
        help="Mismatching locus copies allowed (default 0; familial if > 0).",
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", help="Total repeat steps allowed (familial if > 0)."
    ),
    min_loci: int = MIN_LOCI_OPTION,
    top: int = typer.Option(20, "--top", help="Candidates shown per trace."),
    explain: bool = typer.Option(False, "--explain", help="Show the per-locus comparison."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Search the store for paternal relatives of a trace, ranked by a mutation model."""
    from patriline.casework import Session

    given = [x for x in (haplotype, profile, traces) if x is not None]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --haplotype, --profile, --traces")
    if haplotype is not None:
        queries: list[tuple[str, Any]] = [("query", haplotype)]
    else:
        path = profile if profile is not None else traces
        assert path is not None
        queries = _read_traces(path)
        if profile is not None and len(queries) != 1:
            raise InputError(f"{profile}: {len(queries)} profiles; use --traces for many")
    from patriline.commands.store import remote_for

    server = remote_for(db, user)
    docs = []
    if server is not None:  # the lab server runs the search as the token's owner
        from patriline.haplotype import Haplotype

        for name, q in queries:
            text = str(q) if isinstance(q, Haplotype) else q
            body = {"trace": text, "max_mismatches": max_mismatches, "max_steps": max_steps,
                    "min_loci": min_loci, "top": top, "explain": explain}  # fmt: skip
            doc = server.call("POST", f"/cases/{case}/search", json=body)
            doc["query"]["trace"] = name
            docs.append(doc)
    else:
        with Session.open(store_url(db), user or default_user()) as session:
            results = session.search_many(
                case, [q for _, q in queries], max_mismatches=max_mismatches,
                max_steps=max_steps, min_loci=min_loci, top=top, explain=explain,
            )  # fmt: skip
        for (name, _), res in zip(queries, results, strict=True):
            doc = res.to_dict()
            doc["query"]["trace"] = name
            docs.append(doc)
    if json_out:
        emit_json(docs[0] if traces is None else docs)
        return
    for doc in docs:
        _print_result(doc, explain)


def _print_result(doc: dict[str, Any], explain: bool) -> None:
    from patriline.stats.mutation import format_meioses

    q = doc["query"]
    console.print(
        f"[bold]{q['trace']}[/bold]: {doc['total']} hit(s) "
        f"(max mismatches {q['max_mismatches']}, max steps {q['max_steps']}, "
        f"min loci {q['min_loci']}; engine {doc['provenance']['engine']})"
    )
    table = Table("rank", "specimen", "loci", "mismatches", "steps", "meioses", "90 %", "score")
    for i, c in enumerate(doc["candidates"], 1):
        lo_hi = c["meioses_90"]
        table.add_row(
            str(i), c["specimen"], str(c["loci_compared"]), str(c["mismatches"]), str(c["steps"]),
            format_meioses(c["meioses_mode"], c["meioses_bound"]),
            f"{lo_hi[0]}-{format_meioses(lo_hi[1], c['meioses_bound'])}" if lo_hi else "-",
            f"{c['score']:.2f}" if c["score"] is not None else "-",
        )  # fmt: skip
    console.print(table)
    for warning in doc.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if explain:
        for c in doc["candidates"]:
            t = Table(
                "locus", "trace", "candidate", "status", "mismatches", "steps", title=c["specimen"]
            )
            for row in c["loci"]:
                t.add_row(
                    row["locus"] + (" (II−I)" if row["segment"] else ""), row["trace"],
                    row["candidate"], row["status"], str(row["mismatches"]), str(row["steps"]),
                )  # fmt: skip
            console.print(t)


def pairs(
    case: str = CASE_OPTION,
    max_mismatches: int = typer.Option(..., "--max-mismatches", help="Mismatches allowed."),
    min_loci: int = MIN_LOCI_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """List exact duplicate pairs (--max-mismatches 0): an admin, in a quality_control case.

    A list of all pairs within more mismatches (a map of who is related to whom) is
    refused; the service's pairs summary gives the aggregate figures.
    """
    from patriline.casework import Session

    with Session.open(store_url(db), user or default_user()) as session:
        res = session.pairs(case, max_mismatches=max_mismatches, min_loci=min_loci)
    if json_out:
        emit_json(res.to_dict())
        return
    table = Table("a", "b", "loci", "mismatches", "steps", title=f"{len(res.pairs)} pair(s)")
    for p in res.pairs:
        table.add_row(
            p["a"], p["b"], str(p["loci_compared"]), str(p["mismatches"]), str(p["steps"])
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""
    app.command("search")(search)
    app.command("pairs")(pairs)
