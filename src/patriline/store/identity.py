"""Identity data, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``).

The key is the user's (e.g. ``PATRILINE_IDENTITY_KEY``, made with
:func:`new_identity_key`); the store never keeps it. Without the key, identity rows are
opaque tokens; with a wrong key, reading fails with a clear error.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, select

from patriline.errors import InputError, NotFound
from patriline.store import audit as _audit
from patriline.store.importer import _IN_CHUNK, file_sha256, lookup
from patriline.store.schema import identities, persons

if TYPE_CHECKING:
    from patriline.store.access import Actor, Case
    from patriline.store.database import Database

__all__ = [
    "IdentityImport",
    "IdentityProblem",
    "fernet",
    "import_identities",
    "new_identity_key",
    "read_identity",
    "set_identity",
]


def new_identity_key() -> str:
    """A fresh random Fernet key (URL-safe base64 text): keep it outside the store."""
    return Fernet.generate_key().decode()


def fernet(key: str | bytes) -> Fernet:
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise InputError(
            "identity key is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
            "patriline.store.new_identity_key())"
        ) from None


def set_identity(
    db: Database, actor: Actor, person: str, data: dict[str, Any], key: str | bytes
) -> None:
    """Encrypt and store (or replace) the identity of ``person``; the audit entry holds no data."""
    db.authorize(actor, "import")
    token = fernet(key).encrypt(json.dumps(data, sort_keys=True).encode())
    with db.write() as conn:
        if conn.execute(select(persons.c.id).where(persons.c.id == person)).first() is None:
            raise NotFound(f"no person {person!r} in the store")
        conn.execute(delete(identities).where(identities.c.person == person))
        conn.execute(
            insert(identities).values(
                person=person, payload=token, updated_at=_audit.now(), updated_by=actor.name
            )
        )
        _audit.append(
            conn,
            user=actor.name,
            role=actor.role,
            action="identity_write",
            params={"person": person, "fields": sorted(data)},
        )


def read_identity(
    db: Database, actor: Actor, case: str | Case, person: str, key: str | bytes
) -> dict[str, Any]:
    """Decrypt the identity of ``person``: needs a case; audited (also when it fails)."""
    c = db.authorize(actor, "read_identity", case)
    assert c is not None
    with db.read() as conn:
        token = conn.execute(
            select(identities.c.payload).where(identities.c.person == person)
        ).scalar_one_or_none()
    found = token is not None
    db.audit(actor, "read_identity", case=c, params={"person": person}, result={"found": found})
    if token is None:
        raise NotFound(f"no identity stored for person {person!r}")
    try:
        return dict(json.loads(fernet(key).decrypt(bytes(token))))
    except InvalidToken:
        raise InputError(
            "identity key does not decrypt this store's identity data (wrong key)"
        ) from None


@dataclass(frozen=True)
class IdentityProblem:
    """A rejected row of an identity file: where and why (never its identity data)."""

    file: str
    line: int
    person: str | None
    reason: str

    def __str__(self) -> str:
        who = f" person {self.person!r}:" if self.person else ""
        return f"{self.file}:{self.line}:{who} {self.reason}"


@dataclass
class IdentityImport:
    """Counts of one identity import: ``rows == added + replaced + rejected``."""

    rows: int
    added: int
    replaced: int
    rejected: int
    problems: list[IdentityProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "added": self.added,
            "replaced": self.replaced,
            "rejected": self.rejected,
            "problems": [
                {"line": p.line, "person": p.person, "reason": p.reason} for p in self.problems
            ],
        }


#: Header spellings of the person column (compared case-insensitively).
PERSON_COLUMNS = ("person", "person_id")


def import_identities(
    db: Database, actor: Actor, path: str | Path, key: str | bytes, *, lenient: bool = False
) -> IdentityImport:
    """Encrypt and store the identities of a CSV file: one row per person.

    The file has a ``person`` column (the store's person ID) and any other columns, whose
    non-empty values become that person's identity fields (``{column: text}``); a row
    replaces the person's stored identity as :func:`set_identity` does. A row is rejected
    when its person is empty, unknown to the store or given twice, or when it has no
    field. **Atomic** (default): the first rejected row stops the import with an error
    naming file, line and reason, and nothing is written (the refusal is audited);
    ``lenient=True`` stores the valid rows and returns the rejected ones. Every row is
    written in one transaction with one audit entry (``identity_write``: file, its
    SHA-256, the person IDs and field names, counts; never the data).

    Parameters
    ----------
    db : Database
    actor : Actor
        Needs the ``import`` permission (as :func:`set_identity`).
    path : str or Path
        CSV (comma, semicolon or tab separated, UTF-8).
    key : str or bytes
        The user's Fernet key (:func:`new_identity_key`); the store never keeps it.
    lenient : bool

    Returns
    -------
    IdentityImport
    """
    db.authorize(actor, "import")
    token = fernet(key)
    path = Path(path)
    name = str(path)
    try:
        digest = file_sha256(path)
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    params: dict[str, Any] = {"identities": name, "file_hash": digest, "lenient": lenient}
    try:
        rows, problems = _read_identity_csv(name, text)
        if problems and not lenient:
            raise InputError(f"{problems[0]} (nothing was written)")
        with db.write() as conn:
            wanted = [p for p, _, _ in rows]
            known = {r[0] for r in lookup(conn, persons.c.id, wanted)}
            good = []
            for person, line, data in rows:
                if person in known:
                    good.append((person, data))
                    continue
                problem = IdentityProblem(name, line, person, "no such person in the store")
                if not lenient:
                    raise InputError(f"{problem} (nothing was written)")
                problems.append(problem)
            ids = [p for p, _ in good]
            stored = {r[0] for r in lookup(conn, identities.c.person, ids)}
            old = sorted(stored)
            for i in range(0, len(old), _IN_CHUNK):
                conn.execute(
                    delete(identities).where(identities.c.person.in_(old[i : i + _IN_CHUNK]))
                )
            at = _audit.now()
            if good:
                conn.execute(
                    insert(identities),
                    [
                        {
                            "person": p,
                            "payload": token.encrypt(json.dumps(d, sort_keys=True).encode()),
                            "updated_at": at,
                            "updated_by": actor.name,
                        }
                        for p, d in good
                    ],
                )
            problems.sort(key=lambda p: p.line)
            added, replaced = len(good) - len(stored), len(stored)
            result = IdentityImport(
                added + replaced + len(problems), added, replaced, len(problems), problems
            )
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="identity_write",
                params=params | {"persons": ids, "fields": sorted({k for _, d in good for k in d})},
                result={k: v for k, v in result.to_dict().items() if k != "problems"},
            )
    except InputError as exc:
        if not lenient:
            db.audit(actor, "identity_write", params=params, result={"added": 0, "error": str(exc)})
        raise
    return result


def _read_identity_csv(
    name: str, text: str
) -> tuple[list[tuple[str, int, dict[str, str]]], list[IdentityProblem]]:
    """Rows ``(person, line, fields)`` and the rows rejected on their own (no store needed)."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InputError(f"{name}: empty file (a header with a person column is needed)")
    header = [h.strip() for h in header]
    lowered = [h.lower() for h in header]
    cols = [i for i, h in enumerate(lowered) if h in PERSON_COLUMNS]
    if len(cols) != 1:
        raise InputError(
            f"{name}: needs exactly one person column ({' or '.join(PERSON_COLUMNS)}); "
            f"header: {', '.join(header)}"
        )
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise InputError(f"{name}: column(s) given twice: {', '.join(dupes)}")
    pc = cols[0]
    rows: list[tuple[str, int, dict[str, str]]] = []
    problems: list[IdentityProblem] = []
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            problems.append(
                IdentityProblem(name, line, None, f"{len(values)} fields, header has {len(header)}")
            )
            continue
        person = values[pc].strip() if pc < len(values) else ""
        data = {
            header[i]: v.strip()
            for i, v in enumerate(values)
            if i != pc and header[i] and v.strip()
        }
        if not person:
            problems.append(IdentityProblem(name, line, None, "empty person"))
        elif person in seen:
            problems.append(
                IdentityProblem(
                    name, line, person, f"person given twice (first on line {seen[person]})"
                )
            )
        elif not data:
            problems.append(IdentityProblem(name, line, person, "no identity field"))
        else:
            seen[person] = line
            rows.append((person, line, data))
    return rows, problems
