"""Helpers shared by the command modules: JSON output, console, option defaults."""

from __future__ import annotations

import getpass
import json
import os
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


def store_url(db: str | None) -> str:
    """The store named by ``--db``, else ``$PATRILINE_DB``; an error when neither is set."""
    from patriline.errors import InputError

    url = db or default_db()
    if not url:
        raise InputError("no store given: use --db URL or set PATRILINE_DB")
    return url


def default_user() -> str:
    return os.environ.get("PATRILINE_USER") or getpass.getuser()


JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
