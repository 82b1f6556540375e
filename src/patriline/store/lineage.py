"""Reads for one expansion: the links of its region and its members' specimens, batched.

An expansion (:mod:`patriline.pedigree.expand`) needs the paternal links around its hits,
not the registry's. :func:`lineage_links` fetches them with two recursive CTEs
(``WITH RECURSIVE``, the same SQL on SQLite and PostgreSQL) that follow the primary key
of ``paternal_links`` upwards (son → father) and ``ix_paternal_links_father`` downwards
(father → sons), so its cost grows with the region, not with the registry.
:func:`active_specimens_of` and :func:`haplotypes_of` read the members' specimens and
haplotypes in chunked ``IN`` queries (under SQLite's bound-variable limit).

These are reads for the engines, like :meth:`Database.haplotype`; the caller checks
access and writes the audit entries (``expand`` does both). The same upward CTE serves
the link checks of an import (:mod:`patriline.store.links`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, case, cast, literal, select, text
from sqlalchemy.engine import Connection

from patriline.errors import InputError
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.links import Link
from patriline.store.batches import _IN_CHUNK
from patriline.store.schema import haplotypes, paternal_links, specimens

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = ["active_specimens_of", "haplotypes_of", "lineage_links"]


def lineage_links(db: Database, persons: Sequence[str], generations: int) -> list[Link]:
    """The links of the expansion region around ``persons`` (ordered by son).

    The region is every recorded ancestor of each person (the whole chain of fathers,
    which relates several hits to each other) and every male-line descendant of his
    ancestor ``K = min(generations, recorded depth)`` generations up, down to ``K +
    generations`` generations below that ancestor. On it,
    :func:`patriline.pedigree.expand.lineage_members` gives the same members as on the
    registry's whole pedigree. A cycle of fathers in the region comes back as links;
    :class:`patriline.pedigree.model.Pedigree` rejects it.

    Parameters
    ----------
    db : Database
    persons : sequence of str
        The hits' person IDs.
    generations : int
        ``G`` of the expansion (0 or more).

    Returns
    -------
    list of Link
        Distinct links, sorted by son (as :meth:`Database.links`).
    """
    if generations < 0:
        raise InputError("generations must be 0 or more")
    seeds = list(dict.fromkeys(persons))
    with db.read() as conn:
        if conn.dialect.name == "postgresql":
            _index_walk(conn)
        found: dict[str, Link] = {}
        for i in range(0, len(seeds), _IN_CHUNK):
            for link in _ancestor_links(conn, seeds[i : i + _IN_CHUNK]):
                found[link.son] = link
        father = {son: link.father for son, link in found.items()}
        depth: dict[str, int] = {}  # top ancestor -> generations to fetch below him
        for p in seeds:
            chain = _chain(father, p, generations)
            top = chain[-1] if chain else p
            depth[top] = max(depth.get(top, 0), len(chain) + generations)
        tops = [(t, d) for t, d in depth.items() if d > 0]
        for i in range(0, len(tops), _IN_CHUNK):
            for link in _descendant_links(conn, dict(tops[i : i + _IN_CHUNK])):
                found.setdefault(link.son, link)
    return [found[s] for s in sorted(found)]


#: The PostgreSQL settings :func:`_index_walk` turns off.
_INDEX_WALK = ("enable_hashjoin", "enable_mergejoin", "jit")


def _index_walk(conn: Connection) -> None:
    """Make PostgreSQL follow the indexes in this read transaction (``SET LOCAL``).

    PostgreSQL guesses a recursive CTE's working table at ten times its first step and,
    with statistics older than a bulk link import, joined ``paternal_links`` by a hash
    join over a full scan of the table at every generation (1.8 s for 2,000 men of a
    1,000,000-link registry, measured). A region holds a few thousand men, for which a
    nested loop over ``pk_paternal_links`` / ``ix_paternal_links_father`` is right
    whatever the statistics say; JIT compilation only adds ~0.2 s to such queries.
    """
    for setting in _INDEX_WALK:
        conn.execute(text(f"SET LOCAL {setting} = off"))


def _chain(father: Mapping[str, str], person: str, limit: int) -> list[str]:
    """Up to ``limit`` fathers of ``person`` (nearest first), stopping at a cycle."""
    out: list[str] = []
    seen = {person}
    p = father.get(person)
    while p is not None and p not in seen and len(out) < limit:
        seen.add(p)
        out.append(p)
        p = father.get(p)
    return out


def _link(row: Any) -> Link:
    return Link(row.son, row.father, row.source, float(row.confidence))


def _ancestor_links(conn: Connection, persons: list[str]) -> list[Link]:
    """Every link on the chains of fathers above ``persons``.

    ``UNION`` (not ``UNION ALL``) drops rows already found, so a cycle of fathers ends
    the recursion instead of looping.
    """
    pl = paternal_links
    cols = (pl.c.son, pl.c.father, pl.c.source, pl.c.confidence)
    up = select(*cols).where(pl.c.son.in_(persons)).cte("up", recursive=True)
    step = paternal_links.alias("step")
    up = up.union(
        select(step.c.son, step.c.father, step.c.source, step.c.confidence).join(
            up, step.c.son == up.c.father
        )
    )
    return [_link(r) for r in conn.execute(select(up))]


def _descendant_links(conn: Connection, tops: dict[str, int]) -> list[Link]:
    """Links of the male-line descendants of each top ancestor down to his depth.

    The depth counter bounds the recursion; a man below two of the tops (several hits)
    comes back once per top and is kept once by the caller.
    """
    pl = paternal_links
    limit = cast(case(tops, value=pl.c.father), Integer)
    down = (
        select(
            pl.c.son,
            pl.c.father,
            pl.c.source,
            pl.c.confidence,
            cast(literal(1), Integer).label("depth"),
            limit.label("limit"),
        )
        .where(pl.c.father.in_(list(tops)))
        .cte("down", recursive=True)
    )
    step = paternal_links.alias("step")
    down = down.union_all(
        select(
            step.c.son,
            step.c.father,
            step.c.source,
            step.c.confidence,
            down.c.depth + 1,
            down.c.limit,
        )
        .join(down, step.c.father == down.c.son)
        .where(down.c.depth < down.c.limit)
    )
    q = select(down.c.son, down.c.father, down.c.source, down.c.confidence)
    return [_link(r) for r in conn.execute(q)]


def active_specimens_of(db: Database, persons: Iterable[str]) -> dict[str, list[str]]:
    """Active specimens of each person (ordered by ID as :meth:`Database.specimens_of`);
    persons without one are absent. One query per 5,000 persons."""
    wanted = list(dict.fromkeys(persons))
    out: dict[str, list[str]] = {}
    with db.read() as conn:
        for i in range(0, len(wanted), _IN_CHUNK):
            q = (
                select(specimens.c.person, specimens.c.id)
                .where(
                    specimens.c.person.in_(wanted[i : i + _IN_CHUNK]),
                    specimens.c.active.is_(True),
                )
                .order_by(specimens.c.person, specimens.c.id)
            )
            for person, specimen in conn.execute(q):
                out.setdefault(person, []).append(specimen)
    return out


def haplotypes_of(db: Database, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
    """Haplotypes of the given specimens (as :meth:`Database.haplotype`, kit attached);
    specimens without one are absent. One query per 5,000 specimens."""
    wanted = list(dict.fromkeys(specimen_ids))
    out: dict[str, Haplotype] = {}
    parsed: dict[str, Haplotype] = {}
    with db.read() as conn:
        for i in range(0, len(wanted), _IN_CHUNK):
            q = (
                select(haplotypes.c.specimen, haplotypes.c.canonical, specimens.c.kit)
                .join(specimens, specimens.c.id == haplotypes.c.specimen)
                .where(haplotypes.c.specimen.in_(wanted[i : i + _IN_CHUNK]))
            )
            for specimen, text, kit in conn.execute(q):
                h = parsed.get(text)
                if h is None:
                    h = parsed[text] = parse_haplotype_string(text) if text else Haplotype({})
                out[specimen] = Haplotype(h.alleles, kit)
    return out
