"""Import: classify prepared rows against the store and write them in one transaction.

Atomic: the batch row, persons, specimens, haplotypes, the change-feed counter and the
audit entry are written in a single transaction, so a crash (even SIGKILL) leaves either
the whole batch or nothing. Idempotent: a specimen already stored with the same
canonical haplotype is ``unchanged``; with a different one it is a ``conflict``
(reported, never overwritten); an expunged specimen is a conflict too.
SQLite uses ``executemany`` on the driver cursor (values shared by the whole batch are
written into the statement), PostgreSQL ``COPY … FROM STDIN`` with the text built per
chunk. A large PostgreSQL batch drops the three foreign keys it writes under and adds them
back before commit (validated in one join instead of one trigger query per row); that is
inside the transaction, so a failed check or a crash leaves the schema as it was, but it
holds those tables' exclusive locks until commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import ConflictError
from patriline.store.record_rows import Prepared
from patriline.store.records import Conflict, ImportSummary
from patriline.store.schema import haplotypes, import_batches, meta, persons, removals, specimens

__all__ = ["CHUNK", "bump_seq", "file_sha256", "lookup", "write_batch"]

CHUNK = 50_000
_IN_CHUNK = 5_000
#: A PostgreSQL batch adding at least this many specimens (and at least an eighth of
#: what is stored) re-validates foreign keys in bulk instead of per row.
PG_BULK_FK = 20_000
#: The foreign keys a batch writes under: (table, constraint, column, referenced table.column).
_BATCH_FKS = (
    ("specimens", "fk_specimens_person_persons", "person", "persons (id)"),
    ("specimens", "fk_specimens_batch_id_import_batches", "batch_id", "import_batches (id)"),
    ("haplotypes", "fk_haplotypes_specimen_specimens", "specimen", "specimens (id)"),
)
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")

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
    conn: Connection,
    table: Any,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    constants: Sequence[Any] = (),
) -> None:
    """Insert ``rows`` (values of ``columns``, followed by ``constants`` for every row)."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row((*row, *constants))
    else:
        n_vars = len(columns) - len(constants)
        values = ["?"] * n_vars + [_sqlite_literal(v) for v in constants]
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(values)})"
        cur = raw.cursor()  # type: ignore[union-attr]
        cur.executemany(sql, rows)
        cur.close()


def _sqlite_literal(value: Any) -> str:
    """An SQL literal for SQLite (None, bool, int, float or str)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {type(value).__name__}")  # pragma: no cover


def _copy_text(value: Any) -> str:
    """A value in PostgreSQL COPY text format (strings without specials only)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _plain(strings: Sequence[str]) -> bool:
    """True when none of ``strings`` holds a character COPY's text format must escape."""
    text = "".join(strings)
    return not any(ch in text for ch in _COPY_SPECIAL)


def _copy_payload(conn: Connection, table: Any, columns: Sequence[str], payload: str) -> None:
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
        copy.write(payload.encode("utf-8"))


def _insert_rows(
    conn: Connection,
    batch_id: int,
    specimen_ids: list[str],
    persons_: list[str],
    metas: list[Any],
    canonical: list[str],
    encoded: list[bytes],
    seq0: int,
) -> None:
    """Insert one chunk of new specimens and their haplotypes."""
    pg = conn.dialect.name == "postgresql"
    active = True if pg else 1
    uniform = bool(metas) and metas.count(metas[0]) == len(metas)
    seqs = range(seq0, seq0 + len(specimen_ids))
    if not specimen_ids:
        return
    plain_meta = all(isinstance(v, str | None) for v in metas[0]) and _plain(
        [v for v in metas[0] if v is not None]
    )
    if (
        pg
        and uniform
        and plain_meta
        and _plain(specimen_ids)
        and _plain(persons_)
        and _plain(canonical)
    ):
        tail = "\t" + "\t".join(_copy_text(v) for v in (*metas[0], batch_id, active))
        payload = "\n".join(map("\t".join, zip(specimen_ids, persons_, strict=True)))
        _copy_payload(
            conn,
            specimens,
            _SPECIMEN_COLUMNS,
            payload.replace("\n", tail + "\n") + tail + "\n",
        )
        hexed = b"".join(encoded).hex()
        size = len(hexed) // len(encoded)
        hexes = ["\\\\x" + hexed[i : i + size] for i in range(0, len(hexed), size)]
        rows = zip(specimen_ids, canonical, hexes, map(str, seqs), strict=True)
        _copy_payload(conn, haplotypes, _HAPLOTYPE_COLUMNS, "\n".join(map("\t".join, rows)) + "\n")
        return
    if uniform:
        _bulk(
            conn,
            specimens,
            _SPECIMEN_COLUMNS,
            zip(specimen_ids, persons_, strict=True),
            (*metas[0], batch_id, active),
        )
    else:
        _bulk(
            conn,
            specimens,
            _SPECIMEN_COLUMNS,
            ((s, p, *m) for s, p, m in zip(specimen_ids, persons_, metas, strict=True)),
            (batch_id, active),
        )
    _bulk(
        conn,
        haplotypes,
        _HAPLOTYPE_COLUMNS,
        zip(specimen_ids, canonical, encoded, seqs, strict=True),
    )


_SPECIMEN_COLUMNS = (
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
)
_HAPLOTYPE_COLUMNS = ("specimen", "canonical", "encoded", "seq")


def _drop_batch_fks(conn: Connection, n_new: int) -> bool:
    """On PostgreSQL, for a large batch, drop the batch's foreign keys (re-added by
    :func:`_restore_batch_fks` in the same transaction); True when dropped."""
    if conn.dialect.name != "postgresql" or n_new < PG_BULK_FK:
        return False
    stored = conn.exec_driver_sql(
        "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = 'specimens'"
    ).scalar()
    if n_new * 8 < int(stored or 0):
        return False
    for table, name, _column, _ref in _BATCH_FKS:
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return True


def _restore_batch_fks(conn: Connection) -> None:
    for table, name, column, ref in _BATCH_FKS:
        conn.exec_driver_sql(
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" FOREIGN KEY ({column}) REFERENCES {ref}'
        )


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
    refuse_conflicts: bool = False,
) -> ImportSummary:
    """Classify and insert ``prep`` in the open write transaction ``conn``.

    ``refuse_conflicts``: a specimen given with a different haplotype than the one stored
    (or earlier in the file) raises :class:`ConflictError` before anything is written.
    """
    n = len(prep.specimens)
    # 1. duplicates inside the file
    first: dict[str, int] = {}
    keep: list[int] | range = range(n)
    conflicts: list[Conflict] = []
    unchanged = 0
    if len(set(prep.specimens)) < n:
        keep = []
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
    ids = prep.specimens if isinstance(keep, range) else [prep.specimens[i] for i in keep]
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
    added: list[int] = []
    check: Sequence[int] = () if not stored and not gone else keep
    new: list[int] | range = keep if not check else added
    for i in check:
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
            added.append(i)
    if refuse_conflicts:
        _refuse(conflicts)
    # 3. write
    batch_id = int(
        conn.execute(
            insert(import_batches)
            .values(**batch, rows=rows, added=0, unchanged=0, conflicts=0, rejected=0)
            .returning(import_batches.c.id)
        ).scalar_one()
    )
    every = isinstance(new, range) and len(new) == n
    new_persons = prep.persons if every else [prep.persons[i] for i in new]
    person_ids = list(dict.fromkeys(new_persons))
    known: set[str] = set()
    if conn.execute(select(persons.c.id).limit(1)).first() is not None:
        known = {r[0] for r in lookup(conn, persons.c.id, person_ids)}
    fresh = [p for p in person_ids if p not in known] if known else person_ids
    # SQLite: when every new specimen brings its own new person (the usual case), the
    # persons are copied from the specimens just written, in SQL (4x cheaper than binding)
    from_specimens = conn.dialect.name == "sqlite" and len(fresh) == len(new_persons) > 0
    if from_specimens:
        last_rowid = int(
            conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM specimens").scalar_one()
        )
    else:
        _bulk(conn, persons, ("id", "batch_id"), zip(fresh), (batch_id,))
    seq0 = bump_seq(conn, len(new)) if new else 0
    dropped = _drop_batch_fks(conn, len(new))
    for a, b in _chunks(len(new)):
        if every:
            part = slice(a, b)
            cols = (prep.specimens[part], prep.persons[part], prep.meta[part])
            texts, blobs = prep.canonical[part], prep.encoded[part]
        else:
            idx = new[a:b]
            cols = (
                [prep.specimens[i] for i in idx],
                [prep.persons[i] for i in idx],
                [prep.meta[i] for i in idx],
            )
            texts = [prep.canonical[i] for i in idx]
            blobs = [prep.encoded[i] for i in idx]
        _insert_rows(conn, batch_id, *cols, texts, blobs, seq0 + a)
        if progress is not None:
            progress(b, len(new))
    if from_specimens:
        copied = conn.exec_driver_sql(
            "INSERT INTO persons (id, batch_id) SELECT person, ? FROM specimens"
            " WHERE rowid > ? ORDER BY rowid",
            (batch_id, last_rowid),
        ).rowcount
        if copied != len(fresh):  # pragma: no cover - rowids are handed out increasing
            raise RuntimeError(f"persons copied from {copied} specimens, expected {len(fresh)}")
    if dropped:
        _restore_batch_fks(conn)
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


def _refuse(conflicts: Sequence[Conflict]) -> None:
    """Raise :class:`ConflictError` for the same-ID, different-haplotype conflicts (a
    likely sample mix-up); an expunged specimen stays a reported conflict."""
    differ = [c for c in conflicts if c.stored is not None]
    if not differ:
        return
    c = min(differ, key=lambda c: c.line if c.line is not None else 0)
    more = f" (and {len(differ) - 1} more conflicts)" if len(differ) > 1 else ""
    raise ConflictError(
        f"line {c.line}, specimen {c.specimen}: {c.reason}: stored {c.stored}, incoming "
        f"{c.incoming}{more}; nothing was imported (use --allow-conflicts to import the "
        "other rows)",
        line=c.line,
        specimen=c.specimen,
        stored=c.stored,
        incoming=c.incoming,
        conflicts=len(differ),
    )


def count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def write_haplotype_batch(
    db: Any,
    prep: Prepared,
    *,
    rows: int,
    batch: dict[str, Any],
    entry: Any,
    progress: Progress | None = None,
    refuse_conflicts: bool = False,
) -> ImportSummary:
    """Write ``prep`` as one batch and ``entry`` (an :class:`~patriline.store.audit.AuditRecord`;
    its params get the batch ID, its result the summary) in one transaction."""
    from patriline.store import audit as _audit

    with db.write() as conn:
        summary = write_batch(
            conn,
            prep,
            rows=rows,
            batch=batch,
            progress=progress,
            refuse_conflicts=refuse_conflicts,
        )
        params = {**(entry.params or {}), "batch": summary.batch_id}
        _audit.append_record(conn, entry.but(params=params, result=summary.to_dict()))
    return summary
