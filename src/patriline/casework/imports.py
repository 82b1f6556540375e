"""Importing haplotypes: authorize → read → validate/encode → one transaction → summary
and reject file; a refused (atomic) import is audited.

Files are read with :func:`patriline.io.read_encoded` (columnar, no per-row objects) and
laid out for the store by :func:`patriline.store.encoded_rows.prepare_encoded`; records already
read go through :func:`patriline.store.record_rows.prepare`. Both give the same rows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline import __version__
from patriline._files import private_open
from patriline.casework.access import Action
from patriline.errors import ConflictError, InputError
from patriline.io.encoded import EncodedRead
from patriline.io.model import Problem, Record
from patriline.store import audit as _audit
from patriline.store.batches import file_sha256, write_haplotype_batch
from patriline.store.record_rows import Prepared, prepare
from patriline.store.records import ImportSummary

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["REJECT_COLUMNS", "import_encoded", "import_file", "import_records", "write_rejects"]

#: Headers of a count column: a table of a population sample's haplotypes, not specimens.
COUNT_COLUMNS = frozenset({"n", "count", "counts", "frequency", "freq"})

REJECT_COLUMNS = ("file", "line", "specimen", "column", "locus", "value", "reason", "suggestion")


def write_rejects(
    path: str | Path, problems: Sequence[Problem], conflicts: Sequence[Any] = ()
) -> int:
    """Write one CSV line per rejected row (and per conflict) with its reason; return the count."""
    with private_open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(REJECT_COLUMNS)
        for p in problems:
            w.writerow(
                [p.file, p.line, p.specimen, p.column, p.locus, p.value, p.reason, p.suggestion]
            )
        for c in conflicts:
            w.writerow(["", c.line, c.specimen, "", "", c.incoming, "conflict: " + c.reason, ""])
    return len(problems) + len(conflicts)


def _audit_failure(
    session: Session,
    file: str,
    file_hash: str | None,
    format: str | None,
    reason: str,
) -> None:
    """Record a refused (atomic) import: who tried what, and why nothing was written."""
    session.audit(
        Action.IMPORT,
        params={"file": file, "file_hash": file_hash, "format": format, "lenient": False},
        result={"added": 0, "error": reason},
    )


def _refuse_population_table(file: str, columns: Iterable[str]) -> None:
    """A count column means a population table (YHRD style): refused, lenient or not."""
    for col in columns:
        if col.strip().lower() in COUNT_COLUMNS:
            raise InputError(
                f"{file}: column {col!r} looks like a population table's count column; a"
                " population table lists haplotypes with counts, not specimens, and is"
                " not imported into the database (nothing was imported)",
                file=file,
                column=col,
            )


def _drop_empty_profiles(prep: Prepared, file: str) -> Prepared:
    """Rows with no locus typed become problems (an empty profile is never stored)."""
    empty = [i for i, c in enumerate(prep.canonical) if c == ""]
    if not empty:
        return prep
    reason = "no locus typed (an empty profile is not imported)"
    if len(empty) == len(prep.canonical):  # a whole file of empty profiles: refused
        first = Problem(
            file,
            prep.lines[0],
            reason + "; the file has no locus column that was read (check --format)",
            specimen=prep.specimens[0],
        )
        raise InputError(f"{first}; nothing was imported", **first.to_dict())
    problems = [Problem(file, prep.lines[i], reason, specimen=prep.specimens[i]) for i in empty]
    gone = set(empty)
    keep = [i for i in range(len(prep.canonical)) if i not in gone]
    return Prepared(
        specimens=[prep.specimens[i] for i in keep],
        lines=[prep.lines[i] for i in keep],
        persons=[prep.persons[i] for i in keep],
        canonical=[prep.canonical[i] for i in keep],
        encoded=[prep.encoded[i] for i in keep],
        meta=[prep.meta[i] for i in keep],
        problems=sorted(
            [*prep.problems, *problems], key=lambda p: p.line if p.line is not None else 0
        ),
        rejected_specimens=prep.rejected_specimens + len(empty),
    )


def import_records(
    session: Session,
    records: Sequence[Record],
    *,
    file: str = "<records>",
    file_hash: str | None = None,
    format: str | None = None,
    rows: int | None = None,
    problems: Sequence[Problem] = (),
    lenient: bool = False,
    rejects: str | Path | None = None,
    category: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allow_conflicts: bool = False,
) -> ImportSummary:
    """Import ``records`` as one batch.

    Atomic (default): any invalid row raises :class:`InputError` naming file, line,
    column and value, and a specimen given with a different haplotype than the one stored
    (or earlier in the file) raises :class:`ConflictError` showing both; nothing is
    written. Lenient: invalid rows are skipped and listed (with reasons) in ``rejects``.
    Lenient or ``allow_conflicts``: a conflict is reported (and in ``rejects``), never
    overwritten, and the other rows are written. An expunged specimen is always a
    reported conflict.

    ``rows`` is the number of input rows (default: records + problems); ``problems``
    are rows the reader already rejected.
    """
    session.authorize(Action.IMPORT)
    try:
        _refuse_population_table(file, {k for r in records[:1] for k in r.fields})
        prep = prepare(records, session.store.layout, file=file, category=category)
        prep = _drop_empty_profiles(prep, file)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    except InputError as exc:
        _audit_failure(session, file, file_hash, format, str(exc))
        raise
    total = rows if rows is not None else len(records) + len(problems)
    return _import_prepared(
        session,
        prep,
        file,
        file_hash,
        format,
        total,
        problems,
        lenient,
        rejects,
        progress,
        allow_conflicts,
    )


def import_encoded(
    session: Session,
    read: EncodedRead,
    *,
    file_hash: str | None = None,
    lenient: bool = False,
    rejects: str | Path | None = None,
    category: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allow_conflicts: bool = False,
) -> ImportSummary:
    """Import what :func:`patriline.io.read_encoded` read under ``session.store.layout`` as one batch.

    The columnar twin of :func:`import_records` (same checks, rows, conflicts, provenance
    and audit); ``read.problems`` are the rows the reader rejected.
    """
    from patriline.store.encoded_rows import prepare_encoded

    session.authorize(Action.IMPORT)
    try:
        _refuse_population_table(read.file, read.fields)
        prep = prepare_encoded(read, session.store.layout, file=read.file, category=category)
        prep = _drop_empty_profiles(prep, read.file)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    except InputError as exc:
        _audit_failure(session, read.file, file_hash, read.format, str(exc))
        raise
    return _import_prepared(
        session,
        prep,
        read.file,
        file_hash,
        read.format,
        read.rows,
        read.problems,
        lenient,
        rejects,
        progress,
        allow_conflicts,
    )


def _import_prepared(
    session: Session,
    prep: Prepared,
    file: str,
    file_hash: str | None,
    format: str | None,
    total: int,
    problems: Sequence[Problem],
    lenient: bool,
    rejects: str | Path | None,
    progress: Callable[[int, int], None] | None,
    allow_conflicts: bool = False,
) -> ImportSummary:
    all_problems = [*problems, *prep.problems]
    if all_problems and not lenient:
        first = all_problems[0]
        more = f" (and {len(all_problems) - 1} more problems)" if len(all_problems) > 1 else ""
        _audit_failure(session, file, file_hash, format, str(first))
        raise InputError(
            f"{first}{more}; nothing was imported (use --lenient to import the valid rows)",
            **first.to_dict(),
        )
    batch = {
        "kind": "haplotypes",
        "file": file,
        "file_hash": file_hash,
        "format": format,
        "software_version": __version__,
        "user": session.user,
        "created_at": _audit.now(),
    }
    entry = session.entry(
        Action.IMPORT,
        params={"file": file, "file_hash": file_hash, "format": format, "lenient": lenient},
    )
    try:
        summary = write_haplotype_batch(
            session.store,
            prep,
            rows=total,
            batch=batch,
            entry=entry,
            progress=progress,
            refuse_conflicts=not (lenient or allow_conflicts),
        )
    except ConflictError as exc:  # rolled back: nothing written; the refusal is audited
        _audit_failure(session, file, file_hash, format, str(exc))
        raise
    summary.problems = all_problems
    if rejects is not None:
        write_rejects(rejects, all_problems, summary.conflict_details)
    return summary


def import_file(
    session: Session,
    path: str | Path,
    *,
    format: str | None = None,
    lenient: bool = False,
    rejects: str | Path | None = None,
    category: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allow_conflicts: bool = False,
) -> ImportSummary:
    """Read ``path`` with :func:`patriline.io.read_encoded` and import it (see :func:`import_records`)."""
    from patriline.io import read_encoded

    session.authorize(Action.IMPORT)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    # the hash runs in a thread while the file is read (hashlib and the compiled scanner
    # release the GIL)
    with ThreadPoolExecutor(1, thread_name_prefix="patriline-sha256") as pool:
        hashing = pool.submit(file_sha256, p)
        try:
            result = read_encoded(p, session.store.layout, format=format, strict=not lenient)
            error: InputError | None = None
        except InputError as exc:  # a ReadError, or e.g. an unknown format: refused, audited
            error = exc
        file_hash = hashing.result()
    if error is not None:
        _audit_failure(session, str(path), file_hash, format, str(error))
        raise InputError(
            f"{error}; nothing was imported (use --lenient to import the valid rows)",
            **error.details,
        ) from None
    result.file = str(path)
    return import_encoded(
        session,
        result,
        file_hash=file_hash,
        lenient=lenient,
        rejects=rejects,
        category=category,
        progress=progress,
        allow_conflicts=allow_conflicts,
    )
