"""Identity data, encrypted at rest with envelope encryption (``cryptography``).

Every identity is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under one random
*data key* of the store (the DEK), which the store keeps only *wrapped* for each user
allowed to read identities: sealed to that user's X25519 public key (an ephemeral
X25519 key agreement, HKDF-SHA256, Fernet; the ECIES pattern of RFC 9180's base mode).
A user's private key (``PATRILINE_IDENTITY_KEY`` or a key file, made with
:func:`new_identity_key`: 32 random bytes, URL-safe base64) never enters the store; the
store holds its public key and the wrapped DEK (``meta`` rows ``identity_key:<user>``).

* The first identity write of a store creates the DEK, wrapped for the writer.
* A user registers a public key (:func:`register_identity_key`); a holder of the DEK with
  the ``user_admin`` right grants it to him (:func:`grant_identity_key`), without
  learning his private key; revoking removes his wrapped DEK (:func:`revoke_identity_key`).
* Each decryption unwraps the DEK with the reader's own key inside an authorised read
  in a case, audited (also when it fails).

A store written before envelope encryption holds identities encrypted directly with a
shared key: that key becomes the store's DEK the first time a user presents it, wrapped
for that user (see docs/safeguards.md for what remains of the shared key's risk).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import AccessDenied, ConflictError, InputError, NotFound
from patriline.store import audit as _audit
from patriline.store.batches import _IN_CHUNK, file_sha256, lookup
from patriline.store.schema import identities, meta, persons

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = [
    "IdentityImport",
    "IdentityProblem",
    "decrypt_identity",
    "fernet",
    "grant_identity_key",
    "identity_key_holders",
    "import_identities",
    "new_identity_key",
    "open_identity",
    "public_identity_key",
    "register_identity_key",
    "revoke_identity_key",
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


# ---------------------------------------------------------------- envelope (wrapped DEK)
_META_PREFIX = "identity_key:"
_HKDF_INFO = b"patriline identity data key v1"


def _private_key(key: str | bytes) -> X25519PrivateKey:
    fernet(key)  # same format and message as before: 32 url-safe base64 bytes
    raw = base64.urlsafe_b64decode(key.encode() if isinstance(key, str) else key)
    return X25519PrivateKey.from_private_bytes(raw)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def public_identity_key(key: str | bytes) -> str:
    """The public key (URL-safe base64) of a user's identity key; the store keeps only this."""
    return _b64(_private_key(key).public_key().public_bytes_raw())


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_HKDF_INFO
    ).derive(shared)
    return Fernet(base64.urlsafe_b64encode(derived))


def _wrap(dek: bytes, public: str) -> str:
    """Seal ``dek`` to the X25519 public key ``public``: ``ephemeral-public.token``."""
    recipient = base64.urlsafe_b64decode(public)
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    return _b64(eph_pub) + "." + _kek(shared, eph_pub, recipient).encrypt(dek).decode()


def _unwrap(wrapped: str, key: str | bytes) -> bytes:
    head, token = wrapped.split(".", 1)
    eph_pub = base64.urlsafe_b64decode(head)
    private = _private_key(key)
    recipient = private.public_key().public_bytes_raw()
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    return _kek(shared, eph_pub, recipient).decrypt(token.encode())


def _key_rows(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        select(meta.c.key, meta.c.value).where(meta.c.key.like(_META_PREFIX + "%"))
    ).all()
    return {k[len(_META_PREFIX) :]: json.loads(v) for k, v in rows}


def _put_key_row(conn: Connection, user: str, doc: dict[str, Any], *, new: bool) -> None:
    value = json.dumps(doc, sort_keys=True)
    if new:
        conn.execute(insert(meta).values(key=_META_PREFIX + user, value=value))
    else:
        conn.execute(update(meta).where(meta.c.key == _META_PREFIX + user).values(value=value))


def _wrong_key(user: str) -> InputError:
    return InputError(
        f"identity key does not decrypt this store's identity data (wrong key: not the key "
        f"registered for user {user!r})"
    )


def _data_key(conn: Connection, user: str, key: str | bytes, *, create: bool) -> bytes:
    """The store's DEK, unwrapped with ``user``'s key (created, or adopted from a store
    written before envelope encryption, and wrapped for ``user`` when the store has none)."""
    rows = _key_rows(conn)
    mine = rows.get(user)
    public = public_identity_key(key)
    if mine is not None and mine.get("wrapped_dek"):
        if mine["public_key"] != public:
            raise _wrong_key(user)
        try:
            return _unwrap(mine["wrapped_dek"], key)
        except InvalidToken:
            raise _wrong_key(user) from None
    if any(r.get("wrapped_dek") for r in rows.values()):
        raise AccessDenied(
            f"user {user!r} holds no identity key of this store; the user registers one "
            f"(patriline identity register --user {user}) and a holder with the user_admin "
            f"right grants it (patriline identity grant {user})"
        )
    legacy = conn.execute(select(identities.c.payload).limit(1)).scalar_one_or_none()
    if legacy is not None:  # identities encrypted directly with a shared key (older store)
        dek = key.encode() if isinstance(key, str) else bytes(key)
        try:
            fernet(dek).decrypt(bytes(legacy))
        except InvalidToken:
            raise InputError(
                "identity key does not decrypt this store's identity data (wrong key)"
            ) from None
        origin = "adopted shared key"
    elif create:
        dek, origin = Fernet.generate_key(), "created"
    else:
        raise NotFound("the store holds no identity data")
    doc = {
        "public_key": public,
        "wrapped_dek": _wrap(dek, public),
        "granted_by": user,
        "granted_at": _audit.now(),
    }
    _put_key_row(conn, user, doc, new=mine is None)
    _audit.append(
        conn, user=user, role=None, action="identity_key", params={"data_key": origin, "user": user}
    )
    return dek


def register_identity_key(db: Database, key: str | bytes, *, entry: _audit.AuditRecord) -> str:
    """Record the user's (``entry.user``) public identity key so a holder can grant him the data key.

    Idempotent for the same key; a different key while a data key is wrapped for him
    must be revoked first. Returns the public key. Audited (``identity_key``).
    """
    user = entry.user
    public = public_identity_key(key)
    with db.write() as conn:
        mine = _key_rows(conn).get(user)
        if mine is not None and mine["public_key"] == public:
            return public
        if mine is not None and mine.get("wrapped_dek"):
            raise ConflictError(
                f"user {user!r} holds a data key for another identity key; revoke it first "
                f"(patriline identity revoke {user})"
            )
        doc = {"public_key": public, "wrapped_dek": None, "granted_by": None, "granted_at": None}
        _put_key_row(conn, user, doc, new=mine is None)
        _audit.append_record(conn, entry.but(params={"register": user, "public_key": public}))
    return public


def grant_identity_key(
    db: Database, user: str, key: str | bytes, *, entry: _audit.AuditRecord
) -> None:
    """Wrap the store's data key for ``user`` (who registered a public key), unwrapping
    it with the granting user's (``entry.user``) own ``key``: he needs a wrapped data key."""
    db.actor(user)  # NotFound for an unknown user
    with db.write() as conn:
        target = _key_rows(conn).get(user)
        if target is None:
            raise NotFound(
                f"user {user!r} has registered no identity key (patriline identity register "
                f"--user {user}, with that user's key file)"
            )
        dek = _data_key(conn, entry.user, key, create=True)
        target = _key_rows(conn)[user]
        target |= {"wrapped_dek": _wrap(dek, target["public_key"])}
        target |= {"granted_by": entry.user, "granted_at": _audit.now()}
        _put_key_row(conn, user, target, new=False)
        _audit.append_record(conn, entry.but(params={"grant": user}))


def revoke_identity_key(db: Database, user: str, *, entry: _audit.AuditRecord) -> None:
    """Remove ``user``'s wrapped data key; never the last holder's."""
    with db.write() as conn:
        rows = _key_rows(conn)
        if user not in rows:
            raise NotFound(f"user {user!r} holds no identity key of this store")
        holders = [u for u, r in rows.items() if r.get("wrapped_dek")]
        if holders == [user]:
            raise ConflictError(
                f"user {user!r} is the last holder of the data key: revoking would leave every "
                "identity unreadable; grant it to another user first"
            )
        conn.execute(delete(meta).where(meta.c.key == _META_PREFIX + user))
        _audit.append_record(conn, entry.but(params={"revoke": user}))


def identity_key_holders(db: Database) -> list[str]:
    """The users a data key is wrapped for (who may decrypt identities within a case)."""
    with db.read() as conn:
        return sorted(u for u, r in _key_rows(conn).items() if r.get("wrapped_dek"))


def set_identity(
    db: Database, person: str, data: dict[str, Any], key: str | bytes, *, entry: _audit.AuditRecord
) -> None:
    """Encrypt and store (or replace) the identity of ``person``; the audit entry holds no data."""
    fernet(key)
    with db.write() as conn:
        if conn.execute(select(persons.c.id).where(persons.c.id == person)).first() is None:
            raise NotFound(f"no person {person!r} in the store")
        dek = _data_key(conn, entry.user, key, create=True)
        token = fernet(dek).encrypt(json.dumps(data, sort_keys=True).encode())
        conn.execute(delete(identities).where(identities.c.person == person))
        conn.execute(
            insert(identities).values(
                person=person, payload=token, updated_at=_audit.now(), updated_by=entry.user
            )
        )
        _audit.append_record(conn, entry.but(params={"person": person, "fields": sorted(data)}))


def open_identity(
    db: Database, user: str, person: str, key: str | bytes
) -> tuple[bytes | None, bytes, Exception | None]:
    """The encrypted identity of ``person`` (None if none), the data key unwrapped with
    ``user``'s ``key`` and the error that unwrapping gave (wrong or ungranted key).

    A store from before envelope encryption adopts its shared key here (a write).
    Decrypt with :func:`decrypt_identity`; the caller audits the read.
    """
    fernet(key)
    error: Exception | None = None
    dek = b""
    with db.read() as conn:
        token = conn.execute(
            select(identities.c.payload).where(identities.c.person == person)
        ).scalar_one_or_none()
        adopt = token is not None and not any(
            r.get("wrapped_dek") for r in _key_rows(conn).values()
        )
    if token is not None:
        try:
            if adopt:  # a store from before envelope encryption: adopt its shared key
                with db.write() as conn:
                    dek = _data_key(conn, user, key, create=False)
            else:
                with db.read() as conn:
                    dek = _data_key(conn, user, key, create=False)
        except (AccessDenied, InputError) as exc:
            error = exc
    return (None if token is None else bytes(token)), dek, error


def decrypt_identity(token: bytes, dek: bytes) -> dict[str, Any]:
    """The identity fields sealed in ``token`` (:class:`InputError` for a wrong key)."""
    try:
        return dict(json.loads(fernet(dek).decrypt(token)))
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
    db: Database,
    path: str | Path,
    key: str | bytes,
    *,
    lenient: bool = False,
    entry: _audit.AuditRecord,
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
    path : str or Path
        CSV (comma, semicolon or tab separated, UTF-8).
    key : str or bytes
        The user's identity key (:func:`new_identity_key`), which unwraps the store's data
        key (created for this user on the store's first identity write); never stored.
    lenient : bool
    entry : AuditRecord
        The entry (user, role, action ``identity_write``) to append, with the params and
        counts of the import; a refusal (atomic) appends it with the error instead.

    Returns
    -------
    IdentityImport
    """
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
            token = fernet(_data_key(conn, entry.user, key, create=True))
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
                            "updated_by": entry.user,
                        }
                        for p, d in good
                    ],
                )
            problems.sort(key=lambda p: p.line)
            added, replaced = len(good) - len(stored), len(stored)
            result = IdentityImport(
                added + replaced + len(problems), added, replaced, len(problems), problems
            )
            _audit.append_record(
                conn,
                entry.but(
                    params=params
                    | {"persons": ids, "fields": sorted({k for _, d in good for k in d})},
                    result={k: v for k, v in result.to_dict().items() if k != "problems"},
                ),
            )
    except InputError as exc:
        if not lenient:
            db.append_audit(entry.but(params=params, result={"added": 0, "error": str(exc)}))
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
