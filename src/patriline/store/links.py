"""Paternal links (son → father between persons): targeted checks, atomic, audited inserts.

The pedigree rules (:mod:`patriline.pedigree.model`: no self-link, one father per son,
no cycle of fathers) are checked against the links they can concern, never the whole
registry: a new link ``son → father`` gives ``son`` a second father only if the store
already links ``son`` (``IN`` lists over the primary key), and closes a cycle iff ``son``
is already an ancestor of ``father``, which only the chain of fathers above ``father``
(a recursive CTE, :func:`patriline.store.lineage._ancestor_links`) and the new links
themselves can show. :func:`links_to_check` returns those recorded links (for the link
readers, :func:`patriline.pedigree.links_io.read_links`); :func:`insert_links` checks
the same rules inside its write transaction, so the cost of an import grows with the
file and the depth of its fathers' chains, not with the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from patriline import __version__
from patriline.errors import ConflictError, InputError, truncate
from patriline.ids import id_problem
from patriline.links import Link
from patriline.store import audit as _audit
from patriline.store.batches import _IN_CHUNK, _bulk, lookup
from patriline.store.lineage import _INDEX_WALK, _ancestor_links, _index_walk
from patriline.store.schema import import_batches, paternal_links, persons

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = ["insert_links", "links_to_check"]


def links_to_check(db: Database, sons: Iterable[str], fathers: Iterable[str]) -> list[Link]:
    """The recorded links that new links ``son → father`` must be checked against.

    These are the recorded links of ``sons`` (a second father) and every link on the
    chains of fathers above ``fathers`` (a cycle: ``son → father`` closes one iff ``son``
    is an ancestor of ``father``). Checked in file order together with the new links,
    they give the same verdicts as the registry's whole pedigree (the chain of fathers
    of any man reached from a new father is either recorded above a new father or
    continues through a new link to another new father; proof in docs/pedigree.md).

    This is a read for the import checks, like :meth:`Database.links`: its links are
    not shown to the importer (:func:`patriline.pedigree.links_io.read_links` with
    ``hide_existing=True``).

    Parameters
    ----------
    db : Database
    sons, fathers : iterable of str
        The sons and fathers of the new links.

    Returns
    -------
    list of Link
        Distinct links, sorted by son.
    """
    with db.read() as conn:
        found = _recorded_near(conn, sons, fathers)
    return [found[s] for s in sorted(found)]


def _recorded_near(
    conn: Connection, sons: Iterable[str], fathers: Iterable[str]
) -> dict[str, Link]:
    """``{son: link}`` of the recorded links of ``sons`` and above ``fathers``."""
    pl = paternal_links
    found: dict[str, Link] = {}
    wanted = list(dict.fromkeys(sons))
    for i in range(0, len(wanted), _IN_CHUNK):
        q = select(pl.c.son, pl.c.father, pl.c.source, pl.c.confidence).where(
            pl.c.son.in_(wanted[i : i + _IN_CHUNK])
        )
        for r in conn.execute(q):
            found[r.son] = Link(r.son, r.father, r.source, float(r.confidence))
    seeds = list(dict.fromkeys(fathers))
    if not seeds:
        return found
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        _index_walk(conn)
    for i in range(0, len(seeds), _IN_CHUNK):
        for link in _ancestor_links(conn, seeds[i : i + _IN_CHUNK]):
            found[link.son] = link
    if postgres:  # back to the planner's defaults for the rest of a write transaction
        for setting in _INDEX_WALK:
            conn.execute(text(f"RESET {setting}"))
    return found


def insert_links(
    db: Database,
    links: list[Link],
    *,
    source: str,
    file_hash: str | None = None,
    entry: _audit.AuditRecord,
) -> dict[str, int]:
    """Insert paternal links atomically (persons created as needed) with ``entry``.

    A son already linked to the same father is ``unchanged``; to another father it is a
    :class:`ConflictError` (nothing is written), as is a link that closes a cycle of
    fathers (checked on the links concerned only). ``entry`` gets the batch ID (params)
    and the counts (result). Returns ``{"rows", "added", "unchanged"}``.
    """
    seen: dict[str, Link] = {}
    for link in links:
        if not link.son or not link.father:
            raise InputError(f"link {link.son!r} → {link.father!r}: son and father are required")
        for column, value in (("son", link.son), ("father", link.father)):
            if (why := id_problem(value, "person ID")) is not None:
                raise InputError(f"link {column} {truncate(repr(value))}: {why}", field=column)
        if link.son == link.father:
            raise InputError(
                f"link {link.son!r} → {link.father!r}: a person cannot be his own father"
            )
        if link.confidence is not None and not 0.0 <= link.confidence <= 1.0:
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
        _check_cycles(conn, new, source)
        batch_id = conn.execute(
            insert(import_batches)
            .values(
                kind="links",
                file=source,
                file_hash=file_hash,
                format=None,
                software_version=__version__,
                user=entry.user,
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
                    source if x.source in (None, "", "unknown") else x.source,
                    1.0 if x.confidence is None else float(x.confidence),
                    batch_id,
                )
                for x in new
            ],
        )
        result = {"rows": len(links), "added": len(new), "unchanged": len(seen) - len(new)}
        params = {**(entry.params or {}), "batch": batch_id}
        _audit.append_record(conn, entry.but(params=params, result=result))
    return result


def _check_cycles(conn: Connection, new: list[Link], source: str) -> None:
    """Raise :class:`ConflictError` if ``new`` (sons without a recorded father) closes a
    cycle of fathers with the recorded links.

    Any such cycle holds a new link, so it is found by walking up from the new sons over
    the recorded chains above the new fathers plus the new links (each man visited once:
    linear in their number). Only when there is one are the links re-checked in order,
    to name the first that closes it.
    """
    own = {x.son: x.father for x in new}
    recorded = {
        s: x.father
        for s, x in _recorded_near(conn, (), (x.father for x in new if x.father not in own)).items()
    }
    father = recorded | own  # disjoint: a new son has no recorded father
    walk: dict[str, int] = {}
    for i, start in enumerate(own):
        p: str | None = start
        while p is not None and p not in walk:
            walk[p] = i
            p = father.get(p)
        if p is not None and walk[p] == i:
            break  # this walk came back to itself: a cycle
    else:
        return
    link, chain = _first_cycle(recorded, new)
    if all(a in own for a in chain[:-1]):  # every step of the cycle is a new link
        raise ConflictError(
            f"link {link.son!r} → {link.father!r} closes a cycle of fathers in {source}: "
            f"{' -> '.join(chain)} (nothing was written)"
        )
    # The recorded chain is not named: an import does not read the store's links.
    raise ConflictError(
        f"link {link.son!r} → {link.father!r} in {source} closes a cycle of fathers "
        "through links already in the store (nothing was written)"
    )


def _first_cycle(recorded: Mapping[str, str], new: list[Link]) -> tuple[Link, list[str]]:
    """The first of ``new`` (in order) that closes a cycle, and the cycle ``son -> father
    -> ... -> son`` (as :meth:`patriline.pedigree.model.Pedigree.check_link` finds it)."""
    father = dict(recorded)
    for link in new:
        chain = [link.son, link.father]
        p = father.get(link.father)
        while p is not None:  # the links so far form no cycle: the walk ends
            chain.append(p)
            if p == link.son:
                return link, chain
            p = father.get(p)
        father[link.son] = link.father
    raise AssertionError("no cycle")  # pragma: no cover - called only when there is one
