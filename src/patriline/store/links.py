"""Paternal links (son → father between persons): atomic, audited inserts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert

from patriline import __version__
from patriline.errors import ConflictError, InputError
from patriline.store import audit as _audit
from patriline.store.importer import _bulk, lookup
from patriline.store.records import Link
from patriline.store.schema import import_batches, paternal_links, persons

if TYPE_CHECKING:
    from patriline.store.access import Actor
    from patriline.store.database import Database

__all__ = ["insert_links"]


def insert_links(
    db: Database, actor: Actor, links: list[Link], *, source: str, file_hash: str | None = None
) -> dict[str, int]:
    """See :meth:`patriline.store.Database.insert_links`."""
    db.authorize(actor, "import")
    seen: dict[str, Link] = {}
    for link in links:
        if not link.son or not link.father:
            raise InputError(f"link {link.son!r} → {link.father!r}: son and father are required")
        if link.son == link.father:
            raise InputError(
                f"link {link.son!r} → {link.father!r}: a person cannot be his own father"
            )
        if not 0.0 <= link.confidence <= 1.0:
            raise InputError(
                f"link {link.son!r} → {link.father!r}: confidence {link.confidence} is not in [0, 1]"
            )
        prev = seen.get(link.son)
        if prev is not None and prev.father != link.father:
            raise ConflictError(
                f"son {link.son!r} is given two fathers ({prev.father!r}, {link.father!r}) in {source}"
            )
        seen[link.son] = link
    with db.write() as conn:
        stored = dict(lookup(conn, paternal_links.c.son, list(seen), paternal_links.c.father))
        for son, link in seen.items():
            if son in stored and stored[son] != link.father:
                # The stored father is not named: an import does not read the store's links.
                raise ConflictError(
                    f"son {son!r} already has another father in the store; {source} says "
                    f"{link.father!r} (nothing was written)"
                )
        new = [link for son, link in seen.items() if son not in stored]
        batch_id = conn.execute(
            insert(import_batches)
            .values(
                kind="links",
                file=source,
                file_hash=file_hash,
                format=None,
                software_version=__version__,
                user=actor.name,
                created_at=_audit.now(),
                rows=len(links),
                added=len(new),
                unchanged=len(seen) - len(new),
                conflicts=0,
                rejected=0,
            )
            .returning(import_batches.c.id)
        ).scalar_one()
        people = list(dict.fromkeys(p for link in new for p in (link.son, link.father)))
        known = {r[0] for r in lookup(conn, persons.c.id, people)}
        _bulk(conn, persons, ("id", "batch_id"), [(p, batch_id) for p in people if p not in known])
        _bulk(
            conn,
            paternal_links,
            ("son", "father", "source", "confidence", "batch_id"),
            [
                (
                    x.son,
                    x.father,
                    source if x.source in ("", "unknown") else x.source,
                    float(x.confidence),
                    batch_id,
                )
                for x in new
            ],
        )
        result = {"rows": len(links), "added": len(new), "unchanged": len(seen) - len(new)}
        _audit.append(
            conn,
            user=actor.name,
            role=actor.role,
            action="import",
            params={"links": source, "file_hash": file_hash, "batch": batch_id},
            result=result,
        )
    return result
