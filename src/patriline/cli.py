"""The ``patriline`` command: a thin layer over the library.

Each command group lives in :mod:`patriline.commands` (one module per concern) and only
parses arguments, calls the library and formats the answer. ``main(argv)`` runs
in-process for tests and returns the exit code.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import typer

from patriline.commands import register_all
from patriline.commands._common import cli_message, emit_json
from patriline.errors import InternalError, PatrilineError, truncate

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="patriline",
    help="Forensic male-lineage (Y-STR) databases: search, pedigrees, statistics, simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    server: str | None = typer.Option(
        None,
        "--server",
        help="A lab server (https://…; default $PATRILINE_SERVER): routed commands run "
        "there as the token's owner.",
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="File holding the API token (default $PATRILINE_TOKEN_FILE or $PATRILINE_TOKEN).",
    ),
) -> None:
    """Forensic male-lineage (Y-STR) databases: search, pedigrees, statistics, simulation."""
    from patriline.commands import remote

    remote.configure(server, token_file)


@app.command()
def version() -> None:
    """Print the patriline version."""
    from patriline import __version__

    typer.echo(__version__)


register_all(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A :class:`PatrilineError` prints ``error: <message>`` (a field named first in the
    message shown as its flag) and returns its ``exit_code``; with ``--json`` the error's
    :meth:`~PatrilineError.to_dict` shape is printed on stdout as well. Anything else is a
    bug: ``error: internal error …`` and exit code ``InternalError.exit_code``, with the
    traceback only when ``PATRILINE_DEBUG=1``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    command = typer.main.get_command(app)
    try:
        rc = command.main(args=args, prog_name="patriline", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except typer.TyperException as exc:  # usage errors and bad parameters
        code = int(getattr(exc, "exit_code", 2))
        if as_json:
            usage = {"code": "usage_error", "message": exc.format_message(), "details": {}}
            emit_json({"error": usage})
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return code
    except Exception as exc:
        error = _as_patriline_error(exc)
        if isinstance(error, InternalError) and os.environ.get("PATRILINE_DEBUG") == "1":
            traceback.print_exception(exc)
        if as_json:
            emit_json(error.to_dict())
        typer.echo(f"error: {cli_message(error)}", err=True)
        return error.exit_code
    # without standalone mode, click returns typer.Exit's code instead of raising it
    return rc if isinstance(rc, int) else 0


def _as_patriline_error(exc: Exception) -> PatrilineError:
    """``exc`` as the error to show: itself, :class:`StoreUnavailable` for a lost server
    connection, else :class:`InternalError`."""
    if isinstance(exc, PatrilineError):
        return exc
    from patriline.store.engine import is_unreachable, unreachable

    if is_unreachable(exc):
        return unreachable(exc)
    hint = (
        ""
        if os.environ.get("PATRILINE_DEBUG") == "1"
        else "; PATRILINE_DEBUG=1 shows the traceback"
    )
    return InternalError(
        f"internal error ({type(exc).__name__}: {truncate(exc, 200)}){hint}; please report it",
        exception=type(exc).__name__,
    )


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
