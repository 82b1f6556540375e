"""CLI commands for the stats concern (thin: parse, call the library, format)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""
