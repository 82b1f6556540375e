"""CLI command groups, one module per concern. Each module has ``register(app)``."""

from __future__ import annotations

import typer

__all__ = ["register_all"]


def register_all(app: typer.Typer) -> None:
    from patriline.commands import (
        identity,
        io,
        pedigree,
        search,
        simulate,
        stats,
        store,
        workflow,
    )  # fmt: skip

    for module in (io, store, workflow, identity, search, stats, pedigree, simulate):
        module.register(app)
