"""The ``patriline`` command: a thin layer over the library.

Each command group lives in :mod:`patriline.commands` (one module per concern) and only
parses arguments, calls the library and formats the answer. ``main(argv)`` runs
in-process for tests and returns the exit code.
"""

from __future__ import annotations

import sys

import typer

from patriline.commands import register_all
from patriline.errors import PatrilineError

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="patriline",
    help="Forensic male-lineage (Y-STR) databases: search, pedigrees, statistics, simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Forensic male-lineage (Y-STR) databases: search, pedigrees, statistics, simulation."""


@app.command()
def version() -> None:
    """Print the patriline version."""
    from patriline import __version__

    typer.echo(__version__)


register_all(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    command = typer.main.get_command(app)
    try:
        rc = command.main(args=argv, prog_name="patriline", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except typer.TyperException as exc:  # usage errors and bad parameters
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return int(getattr(exc, "exit_code", 2))
    except PatrilineError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    # without standalone mode, click returns typer.Exit's code instead of raising it
    return rc if isinstance(rc, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
