"""Run the store's Alembic migrations programmatically (no ``alembic.ini``).

Alembic costs ~0.1 s to import, so it is imported only to migrate: opening a store that
is up to date reads the revision (``alembic_version``) with SQLAlchemy, and the head
revision from the ``revision``/``down_revision`` lines of the shipped version files.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

__all__ = ["current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection) -> None:
    """Bring the schema on ``connection`` to the newest revision (inside its transaction)."""
    from alembic import command

    command.upgrade(_config(connection), "head")


@functools.cache
def head_revision() -> str | None:
    """The newest migration revision shipped with this version of patriline."""
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text_ = path.read_text(encoding="utf-8")
        found: dict[str, str] = {m[1]: m[2] for m in _ASSIGN.finditer(text_)}
        if "revision" not in found:
            continue
        down: Any = ast.literal_eval(found.get("down_revision", "None"))
        parents = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        revisions[str(ast.literal_eval(found["revision"]))] = parents
    below = {p for parents in revisions.values() for p in parents}
    heads = sorted(set(revisions) - below)
    if len(heads) > 1:
        raise RuntimeError(f"the store's migrations have several heads: {heads}")
    return heads[0] if heads else None


def current_revision(connection: Connection) -> str | None:
    """The revision the database on ``connection`` is at (None: not a patriline store)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"{VERSION_TABLE} holds several revisions: {sorted(rows)}")
    return rows[0] if rows else None
