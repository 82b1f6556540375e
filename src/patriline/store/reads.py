"""Reads of the store for the engines and the front-ends: encoded matrices, specimen
metadata, counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from patriline.errors import NotFound
from patriline.haplotype import parse_haplotype_string
from patriline.store import migrate
from patriline.store.records import SpecimenInfo, StoreInfo
from patriline.store.schema import (
    audit_log,
    cases,
    haplotypes,
    identities,
    import_batches,
    meta,
    paternal_links,
    persons,
    specimens,
    users,
)

if TYPE_CHECKING:
    from patriline.encoding import Encoded, Layout
    from patriline.store.database import Database

__all__ = ["encoded_rows", "specimen_info", "store_info"]


def encoded_rows(
    conn: Connection, stored: Layout, rows: Sequence[Any], layout: Layout | None
) -> tuple[list[str], Encoded]:
    """IDs and the :class:`Encoded` matrix of ``(specimen, encoded bytes)`` rows stored
    under ``stored``, laid out under ``layout`` (default ``stored``); alleles held aside
    (EXTRA) are read from the canonical text."""
    import numpy as np  # loaded with the first matrix read, not when a store is opened

    from patriline.encoding import EXTRA, Encoded
    from patriline.store.batches import lookup

    ids = [r[0] for r in rows]
    ncol = stored.n_columns
    if rows:
        flat = np.frombuffer(b"".join(r[1] for r in rows), dtype="<i2")
        matrix = flat.astype(np.int16).reshape(len(rows), ncol)
    else:
        matrix = np.zeros((0, ncol), dtype=np.int16)
    extra_rows = [int(i) for i in np.flatnonzero((matrix == EXTRA).any(axis=1))]
    texts = dict(
        lookup(
            conn,
            haplotypes.c.specimen,
            [ids[i] for i in extra_rows],
            haplotypes.c.canonical,
        )
    )
    target = layout or stored
    if target == stored:
        values = np.ascontiguousarray(matrix.T)
    else:
        values = np.full((target.n_columns, len(rows)), -1, dtype=np.int16)
        src = {c: i for i, c in enumerate(stored.columns)}
        for j, col in enumerate(target.columns):
            if col in src:
                values[j] = matrix[:, src[col]]
    extras = {}
    copies = dict(zip(target.loci, target.copies, strict=True))
    for i in extra_rows:
        h = parse_haplotype_string(texts[ids[i]])
        for name, allele in h.alleles.items():
            if name in copies and len(allele.values) > copies[name]:
                extras[(i, name)] = allele
    return ids, Encoded(target, values, extras)


def specimen_info(db: Database, specimen: str) -> SpecimenInfo:
    """What the store knows of ``specimen`` besides its haplotype (never an identity)."""
    with db.read() as conn:
        r = conn.execute(select(specimens).where(specimens.c.id == specimen)).first()
    if r is None:
        raise NotFound(f"no specimen {specimen!r} in the store")
    return SpecimenInfo(
        r.id,
        r.person,
        r.category,
        r.kit,
        r.collected_at,
        r.agency,
        r.legal_basis,
        r.consent_ref,
        r.retention_until,
        r.batch_id,
        bool(r.active),
    )


def store_info(db: Database, url: str) -> StoreInfo:
    """Counts of specimens by category, persons, links, cases, audit entries."""

    def n(conn: Connection, table: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    with db.read() as conn:
        by_cat = {
            r[0]: int(r[1])
            for r in conn.execute(
                select(specimens.c.category, func.count()).group_by(specimens.c.category)
            )
        }
        return StoreInfo(
            url=url,
            dialect=db.dialect,
            revision=migrate.current_revision(conn),
            specimens=sum(by_cat.values()),
            specimens_by_category=by_cat,
            persons=n(conn, persons),
            identities=n(conn, identities),
            links=n(conn, paternal_links),
            cases=n(conn, cases),
            users=n(conn, users),
            audit_entries=n(conn, audit_log),
            batches=n(conn, import_batches),
            change_seq=int(
                conn.execute(select(meta.c.value).where(meta.c.key == "change_seq")).scalar_one()
            ),
        )
