"""Import: classify prepared rows against the store and write them in one transaction.

Atomic: the batch row, persons, specimens, haplotypes, the change-feed counter and the
audit entry are written in a single transaction, so a crash (even SIGKILL) leaves either
the whole batch or nothing. Idempotent: a specimen already stored with the same
canonical haplotype is ``unchanged``; with a different one it is a ``conflict``
(reported, never overwritten); an expunged specimen is a conflict too.
SQLite uses ``executemany`` on the driver cursor, PostgreSQL uses ``COPY … FROM STDIN``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from patriline.store.prepare import Prepared
from patriline.store.records import Conflict, ImportSummary
from patriline.store.schema import haplotypes, import_batches, meta, persons, removals, specimens

__all__ = ["CHUNK", "bump_seq", "file_sha256", "lookup", "write_batch"]

CHUNK = 50_000
_IN_CHUNK = 5_000

Progress = Callable[[int, int], None]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def lookup(conn: Connection, column: Any, values: Sequence[str], *extra: Any) -> list[Any]:
    """Rows whose ``column`` is in ``values`` (chunked ``IN`` queries)."""
    out: list[Any] = []
    for i in range(0, len(values), _IN_CHUNK):
        chunk = values[i : i + _IN_CHUNK]
        out.extend(conn.execute(select(column, *extra).where(column.in_(chunk))).all())
    return out


def bump_seq(conn: Connection, n: int) -> int:
    """Reserve ``n`` change-feed positions; return the first (inside a write transaction)."""
    cur = int(conn.execute(select(meta.c.value).where(meta.c.key == "change_seq")).scalar_one())
    conn.execute(update(meta).where(meta.c.key == "change_seq").values(value=str(cur + n)))
    return cur + 1


def _bulk(
    conn: Connection, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    else:
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cur = raw.cursor()  # type: ignore[union-attr]
        cur.executemany(sql, rows)
        cur.close()


def _chunks(n: int) -> Iterable[tuple[int, int]]:
    for i in range(0, n, CHUNK):
        yield i, min(n, i + CHUNK)


def write_batch(
    conn: Connection,
    prep: Prepared,
    *,
    rows: int,
    batch: dict[str, Any],
    progress: Progress | None = None,
) -> ImportSummary:
    """Classify and insert ``prep`` in the open write transaction ``conn``."""
    n = len(prep.specimens)
    # 1. duplicates inside the file
    first: dict[str, int] = {}
    keep: list[int] = []
    conflicts: list[Conflict] = []
    unchanged = 0
    for i, s in enumerate(prep.specimens):
        j = first.get(s)
        if j is None:
            first[s] = i
            keep.append(i)
        elif prep.canonical[j] == prep.canonical[i]:
            unchanged += 1
        else:
            conflicts.append(
                Conflict(
                    s,
                    prep.lines[i],
                    f"specimen given twice in the file (first at line {prep.lines[j]}) with a different haplotype",
                    prep.canonical[j],
                    prep.canonical[i],
                )
            )
    # 2. against the store
    ids = [prep.specimens[i] for i in keep]
    stored: dict[str, str] = {}
    if conn.execute(select(specimens.c.id).limit(1)).first() is not None:
        n_stored = count(conn, haplotypes)
        if len(ids) * 4 > n_stored:  # a large batch: one scan beats many IN queries
            wanted = set(ids)
            for sp, canon in conn.execute(select(haplotypes.c.specimen, haplotypes.c.canonical)):
                if sp in wanted:
                    stored[sp] = canon
        else:
            stored = dict(lookup(conn, haplotypes.c.specimen, ids, haplotypes.c.canonical))
    gone: set[str] = set()
    if conn.execute(select(removals.c.seq).limit(1)).first() is not None:
        gone = {r[0] for r in lookup(conn, removals.c.specimen, ids)}
    new: list[int] = []
    for i in keep:
        s = prep.specimens[i]
        if s in gone:
            conflicts.append(
                Conflict(
                    s,
                    prep.lines[i],
                    "specimen was expunged; it cannot be imported again",
                    None,
                    prep.canonical[i],
                )
            )
        elif s in stored:
            if stored[s] == prep.canonical[i]:
                unchanged += 1
            else:
                conflicts.append(
                    Conflict(
                        s,
                        prep.lines[i],
                        "specimen already stored with a different haplotype (not overwritten)",
                        stored[s],
                        prep.canonical[i],
                    )
                )
        else:
            new.append(i)
    # 3. write
    batch_id = int(
        conn.execute(
            insert(import_batches)
            .values(**batch, rows=rows, added=0, unchanged=0, conflicts=0, rejected=0)
            .returning(import_batches.c.id)
        ).scalar_one()
    )
    person_ids = list(dict.fromkeys(prep.persons[i] for i in new))
    known: set[str] = set()
    if conn.execute(select(persons.c.id).limit(1)).first() is not None:
        known = {r[0] for r in lookup(conn, persons.c.id, person_ids)}
    _bulk(conn, persons, ("id", "batch_id"), [(p, batch_id) for p in person_ids if p not in known])
    seq0 = bump_seq(conn, len(new)) if new else 0
    active = True if conn.dialect.name == "postgresql" else 1
    for done, (a, b) in enumerate(_chunks(len(new))):
        idx = new[a:b]
        _bulk(
            conn,
            specimens,
            (
                "id",
                "person",
                "category",
                "kit",
                "collected_at",
                "agency",
                "legal_basis",
                "consent_ref",
                "retention_until",
                "batch_id",
                "active",
            ),
            [(prep.specimens[i], prep.persons[i], *prep.meta[i], batch_id, active) for i in idx],
        )
        _bulk(
            conn,
            haplotypes,
            ("specimen", "canonical", "encoded", "seq"),
            [
                (prep.specimens[i], prep.canonical[i], prep.encoded[i], seq0 + a + k)
                for k, i in enumerate(idx)
            ],
        )
        if progress is not None:
            progress(b, len(new))
        del done
    if progress is not None and not new:
        progress(n, n)
    summary = ImportSummary(
        rows=rows,
        added=len(new),
        unchanged=unchanged,
        conflicts=len(conflicts),
        rejected=rows - n,
        batch_id=batch_id,
        conflict_details=conflicts,
        problems=list(prep.problems),
    )
    conn.execute(
        update(import_batches)
        .where(import_batches.c.id == batch_id)
        .values(
            added=summary.added,
            unchanged=summary.unchanged,
            conflicts=summary.conflicts,
            rejected=summary.rejected,
        )
    )
    return summary


def count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
