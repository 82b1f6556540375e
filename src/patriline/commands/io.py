"""CLI commands for the io concern: ``kits``, ``validate``, ``convert`` (parse, call, format)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from patriline._files import private_open
from patriline.commands._common import (
    FORCE_OPTION,
    JSON_OPTION,
    check_output,
    console,
    emit_json,
)
from patriline.errors import InputError
from patriline.reference import Catalog, Kit, default_catalog

if TYPE_CHECKING:  # the readers (and numpy) load when a command reads
    from patriline.io import ReadResult
    from patriline.io.model import Problem

__all__ = ["register"]

_PROBLEM_KEYS = ("file", "line", "column", "specimen", "locus", "value", "reason", "suggestion")


def _kit_option(catalog: Catalog, kit: str | None) -> Kit | None:
    """A kit by name, or the first kit of a user kit file (``.toml`` / ``.csv``)."""
    if kit is None:
        return None
    path = Path(kit)
    if path.suffix.lower() in (".toml", ".csv") and path.is_file():
        try:
            return catalog.load_kit_file(path)[0]
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return catalog.kit(kit)  # UnknownKitError is an InputError


def kit_summary(kit: Kit, catalog: Catalog) -> dict[str, Any]:
    """A kit with its loci and their mutation rates (95% credible interval) and sources."""
    loci = []
    for name in kit.loci:
        locus = catalog.locus(name)
        lo, hi = locus.rate_interval(0.95)
        mutations, meioses, observed = locus.rate_counts()
        loci.append(
            {
                "locus": locus.name,
                "display": locus.display,
                "copies": locus.copies,
                "repeat_unit": locus.repeat_unit,
                "rate": locus.copy_rate,
                "rate_interval_95": [lo, hi],
                "mutations": mutations if observed else None,
                "meioses": meioses if observed else None,
                "source": locus.rate_source,
            }
        )
    return {
        "id": kit.id,
        "name": kit.name,
        "markers": kit.markers,
        "columns": kit.n_columns(catalog),
        "aliases": list(kit.aliases),
        "source": kit.source,
        "loci": loci,
    }


ZERO_NULL_OPTION = typer.Option(
    False, "--zero-null", help="A 0 cell is a null allele (tables written from R or YHRD)."
)
IGNORE_OPTION = typer.Option(
    None, "--ignore-column", help="A column to keep as a plain field, never a locus (repeat)."
)


def _read_safely(
    path: Path,
    fmt: str | None,
    kit: Kit | None,
    catalog: Catalog,
    strict: bool,
    *,
    zero_null: bool = False,
    ignore_columns: list[str] | None = None,
) -> ReadResult:
    """Read; a file-level problem becomes a result with no rows and that problem."""
    from patriline.io import ReadError, ReadResult, read

    try:
        return read(
            path, format=fmt, strict=strict, kit=kit, catalog=catalog, zero_null=zero_null,
            ignore_columns=tuple(ignore_columns or ()),
        )  # fmt: skip
    except ReadError as exc:
        if strict:
            raise
        return ReadResult(str(path), fmt or "unknown", 0, [], [exc.problem])


def _problem_json(p: Problem) -> dict[str, Any]:
    return {k: getattr(p, k) for k in _PROBLEM_KEYS}


def _write_rejects(problems: list[Problem], path: Path) -> None:
    try:
        with private_open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(_PROBLEM_KEYS)
            for p in problems:
                w.writerow(["" if getattr(p, k) is None else getattr(p, k) for k in _PROBLEM_KEYS])
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None


def kits(
    kit: str | None = typer.Option(
        None, "--kit", "-k", help="Show one kit's loci (an identifier, alias or kit file)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the kits, or one kit's loci with mutation rates, 95% intervals and sources."""
    catalog = default_catalog()
    chosen = _kit_option(catalog, kit)
    selected = [chosen] if chosen else list(catalog.kits.values())
    summaries = [kit_summary(k, catalog) for k in selected]
    if as_json:
        emit_json(summaries if chosen is None else summaries[0])
        return
    if chosen is None:
        table = Table(title="Y-STR kits")
        for col in ("kit", "name", "markers", "loci", "aliases"):
            table.add_column(col)
        for s in summaries:
            names = ", ".join(x["display"] for x in s["loci"])
            table.add_row(
                s["id"], s["name"], str(s["markers"] or ""), names, ", ".join(s["aliases"])
            )
        console.print(table)
        return
    s = summaries[0]
    table = Table(title=f"{s['name']} ({s['id']}): {s['markers'] or len(s['loci'])} markers")
    for col in (
        "locus",
        "copies",
        "repeat",
        "rate per copy",
        "95% interval",
        "mut/meioses",
        "source",
    ):
        table.add_column(col)
    for x in s["loci"]:
        lo, hi = x["rate_interval_95"]
        counts = f"{x['mutations']:.0f}/{x['meioses']:.0f}" if x["meioses"] else "-"
        table.add_row(
            x["display"],
            str(x["copies"]),
            f"{x['repeat_unit']} bp",
            f"{x['rate']:.5f}",
            f"{lo:.5f}-{hi:.5f}",
            counts,
            x["source"],
        )
    console.print(table)


def validate(
    file: Path = typer.Argument(..., help="The file to check."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="csv, genemapper, yhrd or json (default: detect)."
    ),
    kit: str | None = typer.Option(
        None, "--kit", "-k", help="Check loci against this kit (identifier, alias or kit file)."
    ),
    zero_null: bool = ZERO_NULL_OPTION,
    ignore_column: list[str] | None = IGNORE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a file and list every problem; exit code 1 if there is any."""
    from patriline.io import check_format

    catalog = default_catalog()
    chosen = _kit_option(catalog, kit)
    result = _read_safely(
        file, check_format(fmt) if fmt else None, chosen, catalog, strict=False,
        zero_null=zero_null, ignore_columns=ignore_column,
    )  # fmt: skip
    if as_json:
        emit_json(
            {
                "file": str(file),
                "format": result.format,
                "rows": result.rows,
                "accepted": result.accepted,
                "rejected": [_problem_json(p) for p in result.problems],
            }
        )
    else:
        typer.echo(
            f"{file}: {result.format}, {result.rows} rows, {result.accepted} accepted, "
            f"{result.rejected_rows} rejected, {len(result.problems)} problems"
        )
        for p in result.problems:
            typer.echo(f"  {p}")
    if result.problems:
        raise typer.Exit(1)


def convert(
    source: Path = typer.Argument(..., metavar="IN", help="The file to read (- for stdin)."),
    target: Path = typer.Argument(..., metavar="OUT", help="The file to write (- for stdout)."),
    from_fmt: str | None = typer.Option(None, "--from", help="Input format (default: detect)."),
    to_fmt: str | None = typer.Option(
        None, "--to", help="Output format (default: from OUT's name; csv)."
    ),
    lenient: bool = typer.Option(
        False, "--lenient", help="Convert the valid rows and report the others."
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write the problems of rejected rows to this CSV file."
    ),
    kit: str | None = typer.Option(None, "--kit", "-k", help="Check loci against this kit."),
    zero_null: bool = ZERO_NULL_OPTION,
    ignore_column: list[str] | None = IGNORE_OPTION,
    force: bool = FORCE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Convert between csv, genemapper, yhrd and json. Strict unless --lenient.

    Never writes over its input; an existing OUT needs --force; OUT's extension must name
    a format patriline writes (or give --to). Status lines go to stderr, so ``-`` (stdout)
    carries only the data."""
    import shutil
    import sys
    import tempfile

    from patriline.io import ReadError, check_format, write

    catalog = default_catalog()
    chosen = _kit_option(catalog, kit)
    fin = check_format(from_fmt) if from_fmt else None
    fout = check_format(to_fmt) if to_fmt else None
    check_output(target, force=force, inputs=(source,))
    if fout is None:
        fout = _format_of_name(target)
    with tempfile.TemporaryDirectory(prefix="plconv") as tmp:
        if str(source) == "-":
            source_path = Path(tmp) / "stdin"
            source_path.write_bytes(sys.stdin.buffer.read())
        else:
            source_path = source
        result = _read_safely(
            source_path, fin, chosen, catalog, strict=not lenient, zero_null=zero_null,
            ignore_columns=ignore_column,
        )  # fmt: skip
        if result.rows == 0 and result.problems:
            raise ReadError(result.problems[0])
        if str(target) == "-":
            suffix = {"json": "json", "genemapper": "gm.txt", "yhrd": "yhrd.tsv"}.get(fout, "csv")
            staged = Path(tmp) / f"stdout.{suffix}"
            written = write(result.records, staged, format=fout, catalog=catalog)
            with staged.open("rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            written = write(result.records, target, format=fout, catalog=catalog)
    if rejects is not None:
        _write_rejects(result.problems, rejects)
    if as_json:
        emit_json(
            {
                "input": str(source),
                "output": str(target),
                "from": result.format,
                "rows": result.rows,
                "written": written,
                "rejected": [_problem_json(p) for p in result.problems],
            }
        )
        return
    typer.echo(
        f"{source} ({result.format}) → {target}: {written} of {result.rows} specimens written",
        err=True,
    )
    if result.problems:
        where = f"; see {rejects}" if rejects else ""
        typer.echo(
            f"{result.rejected_rows} rows rejected ({len(result.problems)} problems){where}",
            err=True,
        )
        if rejects is None:
            for p in result.problems:
                typer.echo(f"  {p}", err=True)


#: Extensions of the wide CSV writer (anything else must be a registered pattern or --to).
_WIDE_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")


def _format_of_name(target: Path) -> str:
    """The format OUT's name selects; an unknown extension (``.xlsx``) is refused rather
    than filled with CSV text."""
    from patriline.io.formats import by_file_name

    if str(target) == "-":
        return "csv"
    found = by_file_name(target)
    if found is not None:
        return found.name
    if target.suffix.lower() in _WIDE_SUFFIXES:
        return "csv"
    raise InputError(
        f"{target}: patriline does not write {target.suffix or 'files without an extension'}"
        " (it writes .csv, .tsv, .txt, .json, *.gm.txt, *.yhrd.tsv); give another name or --to",
        field="out",
    )


def register(app: typer.Typer) -> None:
    """Add ``kits``, ``validate`` and ``convert`` to ``app``."""
    app.command()(kits)
    app.command()(validate)
    app.command()(convert)
