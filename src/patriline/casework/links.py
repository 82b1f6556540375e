"""Importing paternal links (``import``): read and check a link file, then insert atomically.

The checks of a link file against the store read only the recorded links the new ones
can concern (:func:`patriline.store.links.links_to_check`); the importer is never shown
the store's links (``hide_existing``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from patriline.casework.access import Action
from patriline.links import Link
from patriline.store import links as _links

if TYPE_CHECKING:
    from patriline.casework.session import Session
    from patriline.pedigree.links_io import LinkReadResult

__all__ = ["import_links", "insert_links"]


def insert_links(
    session: Session, links: Iterable[Link], *, source: str, file_hash: str | None = None
) -> dict[str, int]:
    """Insert paternal links atomically (persons created as needed); audited.

    See :func:`patriline.store.links.insert_links`. Returns ``{"rows", "added", "unchanged"}``.
    """
    session.authorize(Action.IMPORT)
    entry = session.entry(Action.IMPORT, params={"links": source, "file_hash": file_hash})
    return _links.insert_links(
        session.store, list(links), source=source, file_hash=file_hash, entry=entry
    )


def import_links(
    session: Session, path: str | Path, *, format: str | None = None, lenient: bool = False
) -> tuple[LinkReadResult, dict[str, int]]:
    """Read a link file (CSV son,father; PED; TGF), check it and insert its links.

    Strict (all or nothing) unless ``lenient``. Returns the reader's result
    (:class:`patriline.pedigree.links_io.LinkRead`: rows, problems, …) and the counts
    of :func:`insert_links`.
    """
    from patriline.pedigree.links_io import read_links

    session.authorize(Action.IMPORT)
    path = Path(path)
    result = read_links(
        path,
        format=format,
        strict=not lenient,
        recorded=partial(_links.links_to_check, session.store),
        hide_existing=True,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return result, insert_links(session, result.links, source=str(path), file_hash=digest)
