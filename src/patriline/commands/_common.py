"""Helpers shared by the command modules: JSON output, console, option defaults."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (machine-readable output of ``--json``)."""
    typer.echo(json.dumps(obj, indent=2, default=str, sort_keys=False))


def default_db() -> str | None:
    return os.environ.get("PATRILINE_DB")


def local_only() -> None:
    """Refuse a command without a server route when a server is given (it would open a
    local store instead of the server's)."""
    from patriline.commands.remote import current
    from patriline.errors import InputError

    if current() is not None:
        raise InputError(
            "this command has no route on the lab server; run it without --server "
            "(and without PATRILINE_SERVER) on a store you may open"
        )


def store_url(db: str | None) -> str:
    """The store named by ``--db``, else ``$PATRILINE_DB``; an error when neither is set
    (or when a lab server is given: see :func:`local_only`)."""
    from patriline.errors import InputError

    local_only()
    url = db or default_db()
    if not url:
        raise InputError("no store given: use --db URL or set PATRILINE_DB")
    return url


#: Library field names whose CLI flag is not ``--`` + the field with ``-`` for ``_``.
FIELD_FLAGS: dict[str, str] = {
    "haplotype": "--haplotype",
    "max_mismatches": "--max-mismatches",
    "keep_generations": "--keep-generations",
    "growth_generations": "--growth-generations",
    "familial": "--familial",
    "reason": "--reason",
    "store": "--db",
    "url": "--db",
}


def flag_of(field: str) -> str:
    """The CLI flag of a library field (``max_mismatches`` → ``--max-mismatches``)."""
    return FIELD_FLAGS.get(field, "--" + field.replace("_", "-"))


def cli_message(exc: Exception) -> str:
    """The message of ``exc`` as the CLI prints it: a leading field name becomes its flag."""
    text = str(exc)
    field = getattr(exc, "details", {}).get("field")
    if isinstance(field, str) and field and (text.startswith((field + " ", field + ":"))):
        text = flag_of(field) + text[len(field) :]
    return text


def default_user() -> str:
    return os.environ.get("PATRILINE_USER") or getpass.getuser()


JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


FORCE_OPTION = typer.Option(False, "--force", help="Overwrite the output file if it exists.")


def check_output(path: Path, *, force: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse to write ``path`` over one of ``inputs`` (whatever ``force``) or over an
    existing file without ``force``. ``-`` (stdout) is always allowed."""
    from patriline.errors import InputError

    if str(path) == "-":
        return
    for source in inputs:
        if str(source) == "-":
            continue
        same = path.resolve() == source.resolve()
        if not same and path.exists() and source.exists():
            same = os.path.samefile(path, source)
        if same:
            raise InputError(
                f"{path}: the output is the input file {source}; write to another file",
                field="out",
            )
    if path.exists() and not force:
        raise InputError(f"{path} exists; give --force to overwrite it", field="out")
