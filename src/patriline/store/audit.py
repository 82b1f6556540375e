"""The audit log: append-only and hash-chained.

Each entry holds the SHA-256 of the previous entry's hash plus its own content as
canonical JSON (sorted keys, no whitespace), as in a hash chain / Merkle-style
tamper-evident log (Haber & Stornetta 1991, "How to time-stamp a digital document",
J. Cryptology 3:99-111; Schneier & Kelsey 1999, "Secure audit logs to support computer
forensics", ACM TISSEC 2:159-176). Editing an entry breaks its own hash; deleting one
breaks the next entry's ``prev_hash`` and the ID sequence; deleting the newest entries is
caught by the chain head kept in ``meta``. A rewrite of the whole chain *and* its head
is caught only against an anchor kept outside the store: an :class:`Anchor` records
``(n, hash_n)`` at a moment, and :func:`verify` checks that entry ``n`` still carries
that hash (it depends on every earlier entry), as in the periodic publication of a
chain's head in Haber & Stornetta's time-stamping scheme.

Rows that grant power are *bound* to the chain (:data:`BOUND`): a user's role, a case and
its familial approval. The entry that writes such a row records the SHA-256 of the row's
content (``result["bound"]``), and the row stores that entry's ID and
``audit_hash = SHA-256(entry hash ‖ canonical row)``; :func:`verify` recomputes both for
every bound row, so a forged approval, an edited role or a user inserted outside the
application is named by table and key. The store also refuses, in the database itself,
to update, delete or truncate the log or to move its head backwards (migration 0003).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, Table, and_, func, insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import InputError
from patriline.store.schema import (
    approvals,
    audit_log,
    cases,
    identities,
    import_batches,
    meta,
    paternal_links,
    persons,
    specimens,
    users,
)

__all__ = [
    "ANCHOR_FORMAT",
    "BOUND",
    "GENESIS",
    "Anchor",
    "AuditEntry",
    "AuditRecord",
    "BoundTable",
    "VerifyResult",
    "anchor",
    "append",
    "append_record",
    "bound_row_hash",
    "entry_hash",
    "read",
    "read_anchors",
    "row_digest",
    "verify",
]

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
#: The ``format`` field of an anchor line.
ANCHOR_FORMAT = "patriline-audit-anchor/1"


def now() -> str:
    """The current time, UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    role: str | None
    case: str | None
    purpose: str | None
    action: str
    params: dict[str, Any]
    result: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "user": self.user,
            "role": self.role,
            "case": self.case,
            "purpose": self.purpose,
            "action": self.action,
            "params": self.params,
            "result": self.result,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class BoundTable:
    """A table whose rows are bound to the chain: ``columns`` are hashed, ``key``
    names a row, and only entries with one of ``actions`` may write it."""

    table: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]
    actions: tuple[str, ...]
    #: Columns added after rows were first bound: hashed only when not NULL, so a row
    #: bound before the column existed keeps its digest (and one that has a value is
    #: bound to it: clearing it again is caught too).
    optional: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    def select(self, conn: Connection | None = None) -> Select[Any]:
        """The columns binding reads (key, hashed columns, the binding itself): never the
        whole table, so a migration that adds an unbound column does not change what an
        older revision's migration reads. With ``conn``, only the :attr:`optional`
        columns the database has (an older revision's migration binds rows too)."""
        extra: tuple[str, ...] = self.optional
        if extra and conn is not None:
            from sqlalchemy import inspect

            have = {c["name"] for c in inspect(conn).get_columns(self.table.name)}
            extra = tuple(c for c in extra if c in have)
        names = dict.fromkeys((*self.key, *self.columns, *extra, "audit_id", "audit_hash"))
        return select(*(self.table.c[n] for n in names))

    def content(self, row: Any) -> dict[str, Any]:
        """What is hashed of ``row``: every bound column, the optional ones when not NULL."""
        out = {c: row[c] for c in self.columns}
        for c in self.optional:
            v = row.get(c) if hasattr(row, "get") else None
            if v is not None:
                out[c] = v
        return out


#: The bound tables. A new one (say ``approvals``, with ``audit_id``/``audit_hash``
#: columns) is one entry here plus ``bind=[("approvals", key)]`` in its writer.
BOUND: dict[str, BoundTable] = {
    "users": BoundTable(
        users,
        ("name",),
        ("name", "role", "created_at", "created_by"),
        ("user_admin", "audit_guard"),
    ),
    "cases": BoundTable(
        cases,
        ("id",),
        (
            "id",
            "purpose",
            "legal_basis",
            "opened_by",
            "opened_at",
            "familial_approved_by",
            "familial_approved_at",
        ),
        ("case_open", "case_approve", "case_close", "audit_guard"),
        # migration 0004: NULL in every row bound before it, so those rows keep their
        # digests; a new case binds its type, a closed case its closing.
        optional=("case_type", "closed_at", "closed_by", "closed_reason"),
    ),
    # The terms of a familial approval. Its use counters and revocation change after
    # the approving entry and are not bound (docs/safeguards.md).
    "approvals": BoundTable(
        approvals,
        ("id",),
        (
            "id",
            "case_id",
            "kind",
            "trace_sha256",
            "max_mismatches",
            "max_steps",
            "min_loci",
            "approved_by",
            "approved_at",
            "expires_at",
        ),
        ("case_approve", "audit_guard"),
    ),
}

#: Tables whose rows mean the store holds data (the chain can then not be empty).
_DATA_TABLES = (users, cases, specimens, persons, paternal_links, identities, import_batches)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad_id`` names the first broken entry;
    ``table``/``key`` name a bound row that does not match the chain."""

    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str | None = None
    table: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Anchor:
    """The chain head at one moment: ``entries`` entries, the newest with ``hash``.

    Kept outside the store (a write-once log, a signed note, another system), one JSON
    line per anchor (:meth:`to_line`); :func:`verify` checks the chain still extends it.
    """

    entries: int
    hash: str
    taken_at: str

    def to_line(self) -> str:
        return _canonical(
            {
                "format": ANCHOR_FORMAT,
                "entries": self.entries,
                "hash": self.hash,
                "taken_at": self.taken_at,
            }
        )


def read_anchors(path: str | Path) -> list[Anchor]:
    """Anchors of a JSON-lines file written by ``patriline audit anchor``.

    Raises :class:`InputError` naming the file, line and the field that is wrong.
    """
    out = []
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not a JSON anchor ({exc.msg})") from None
        if not isinstance(doc, dict) or doc.get("format") != ANCHOR_FORMAT:
            raise InputError(f"{where}: format is not {ANCHOR_FORMAT!r}")
        entries, digest = doc.get("entries"), doc.get("hash")
        if not isinstance(entries, int) or isinstance(entries, bool) or entries < 0:
            raise InputError(f"{where}: entries must be a whole number >= 0 (got {entries!r})")
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise InputError(f"{where}: hash must be 64 hex digits (got {digest!r})")
        out.append(Anchor(entries, digest, str(doc.get("taken_at", ""))))
    if not out:
        raise InputError(f"{path}: no anchor in the file")
    return out


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """SHA-256 of ``prev_hash`` and the entry's canonical JSON (params/result as stored text)."""
    body = {k: row[k] for k in ("id", "at", "user", "role", "case_id", "purpose", "action")}
    body["params"] = row["params"]
    body["result"] = row["result"]
    return hashlib.sha256((prev_hash + _canonical(body)).encode()).hexdigest()


def _bound_body(bt: BoundTable, row: Any) -> str:
    return _canonical({"table": bt.name, "row": bt.content(row)})


def row_digest(bt: BoundTable, row: Any) -> str:
    """SHA-256 of a bound row's canonical content (what its audit entry records)."""
    return hashlib.sha256(_bound_body(bt, row).encode()).hexdigest()


def bound_row_hash(entry_hash_: str, bt: BoundTable, row: Any) -> str:
    """``audit_hash`` of a bound row: SHA-256 of its entry's hash and canonical content."""
    return hashlib.sha256((entry_hash_ + _bound_body(bt, row)).encode()).hexdigest()


def _key_tuple(key: Any) -> tuple[str, ...]:
    return tuple(str(k) for k in key) if isinstance(key, tuple | list) else (str(key),)


def _where_key(bt: BoundTable, key: tuple[str, ...]) -> Any:
    """Keys travel as text (in audit entries); compare them as the column's type."""
    cols = [bt.table.c[c] for c in bt.key]
    return and_(*(col == col.type.python_type(v) for col, v in zip(cols, key, strict=True)))


def _show_key(key: Sequence[str]) -> str:
    return ", ".join(repr(k) for k in key)


def _head_row(conn: Connection) -> tuple[int, str] | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == HEAD_KEY)).scalar_one_or_none()
    if value is None:
        return None
    last, h = value.split(":", 1)
    return int(last), h


def _head(conn: Connection) -> tuple[int, str]:
    return _head_row(conn) or (0, GENESIS)


def append(
    conn: Connection,
    *,
    user: str,
    role: str | None,
    action: str,
    case: str | None = None,
    purpose: str | None = None,
    params: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    bind: Sequence[tuple[str, Any]] = (),
) -> int:
    """Append one entry inside the caller's (write) transaction; return its ID.

    The role recorded is the user's role in the store when the user exists (a forged
    ``Actor`` cannot misstate it), else ``role`` as given. ``bind`` lists rows the
    caller has just written in this transaction, as ``(table, key)`` of :data:`BOUND`:
    the entry records each row's digest and the row gets ``audit_id``/``audit_hash``.
    """
    stored = conn.execute(select(users.c.role).where(users.c.name == user)).scalar_one_or_none()
    role = stored if stored is not None else role
    last, prev = _head(conn)
    new_id = last + 1
    to_bind = []
    if bind:
        records = []
        for name, key in bind:
            bt = BOUND[name]
            k = _key_tuple(key)
            r = conn.execute(bt.select(conn).where(_where_key(bt, k))).mappings().one()
            to_bind.append((bt, k, r))
            records.append({"table": name, "key": list(k), "row_sha256": row_digest(bt, r)})
        result = {**(result or {}), "bound": records}
    row: dict[str, Any] = {
        "id": new_id,
        "at": now(),
        "user": user,
        "role": role,
        "case_id": case,
        "purpose": purpose,
        "action": action,
        "params": _canonical(params or {}),
        "result": _canonical(result or {}),
        "prev_hash": prev,
    }
    row["hash"] = entry_hash(prev, row)
    conn.execute(insert(audit_log).values(**row))
    for bt, k, r in to_bind:
        conn.execute(
            update(bt.table)
            .where(_where_key(bt, k))
            .values(audit_id=new_id, audit_hash=bound_row_hash(row["hash"], bt, r))
        )
    head = f"{row['id']}:{row['hash']}"
    if last == 0 and prev == GENESIS:
        exists = conn.execute(select(meta.c.key).where(meta.c.key == HEAD_KEY)).first()
        if exists is None:
            conn.execute(insert(meta).values(key=HEAD_KEY, value=head))
            return new_id
    conn.execute(update(meta).where(meta.c.key == HEAD_KEY).values(value=head))
    return new_id


@dataclass(frozen=True)
class AuditRecord:
    """The content of one audit entry to append, as the application layer decided it.

    A low-level writer of the store takes one and appends it (:func:`append_record`) in
    the same transaction as its data write, adding what only the write knows (a batch ID,
    counts) with :meth:`but`. ``via`` (how the user reached the store: ``"local"`` or
    ``"service"``) is recorded in ``params``.
    """

    user: str
    role: str | None
    action: str
    case: str | None = None
    purpose: str | None = None
    params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    bind: Sequence[tuple[str, Any]] = field(default=())
    via: str | None = None

    def but(self, **changes: Any) -> AuditRecord:
        """This record with ``changes`` (e.g. ``result=``, ``params=``)."""
        return replace(self, **changes)


def append_record(conn: Connection, entry: AuditRecord) -> int:
    """Append ``entry`` inside the caller's (write) transaction (see :func:`append`)."""
    params = dict(entry.params or {})
    if entry.via is not None:
        params["via"] = entry.via
    return append(
        conn,
        user=entry.user,
        role=entry.role,
        action=entry.action,
        case=entry.case,
        purpose=entry.purpose,
        params=params,
        result=entry.result,
        bind=entry.bind,
    )


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        id=r.id,
        at=r.at,
        user=r.user,
        role=r.role,
        case=r.case_id,
        purpose=r.purpose,
        action=r.action,
        params=json.loads(r.params),
        result=json.loads(r.result),
        prev_hash=r.prev_hash,
        hash=r.hash,
    )


def read(
    conn: Connection,
    *,
    case: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries in order, optionally of one case / action; ``limit`` keeps the newest."""
    q = select(audit_log)
    if case is not None:
        q = q.where(audit_log.c.case_id == case)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    if limit is not None:
        q = q.order_by(audit_log.c.id.desc()).limit(limit)
        return [_entry(r) for r in reversed(conn.execute(q).all())]
    return [_entry(r) for r in conn.execute(q.order_by(audit_log.c.id))]


def verify(conn: Connection, anchors: Sequence[Anchor] = ()) -> VerifyResult:
    """Walk the chain; report the first entry whose ID, link or hash is wrong.

    Also fails when the chain is empty (every store starts with an ``init`` entry, in
    the transaction that creates it) or headless, when an import batch has no audit
    entry, and when a row of a :data:`BOUND` table is not the one its latest audit
    entry recorded (named by table and key). With ``anchors``, also check that entry
    ``a.entries`` of the chain still has the hash ``a.hash`` for each anchor (an
    anchor of 0 entries is the empty chain).
    """
    prev = GENESIS
    expected_id = 1
    n = 0
    wanted = {a.entries for a in anchors}
    seen: dict[int, str] = {0: GENESIS}
    # (table, key) -> (entry id, entry hash, row digest, action) of its latest writer
    latest: dict[tuple[str, tuple[str, ...]], tuple[int, str, str, str]] = {}
    batches: set[int] = set()
    for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
        n += 1
        if r["id"] != expected_id:
            return VerifyResult(
                False, n, expected_id, f"entry {expected_id} is missing (next is {r['id']})"
            )
        if r["prev_hash"] != prev:
            return VerifyResult(
                False, n, r["id"], f"entry {r['id']} does not link to entry {r['id'] - 1}"
            )
        if entry_hash(prev, dict(r)) != r["hash"]:
            return VerifyResult(False, n, r["id"], f"entry {r['id']} was altered (hash mismatch)")
        if n == 1 and r["action"] != "init":
            return VerifyResult(
                False,
                n,
                1,
                f"entry 1 is a {r['action']!r} entry, not the store's genesis ('init') entry: "
                "the log was replaced",
            )
        prev = r["hash"]
        if '"bound"' in r["result"]:
            for b in json.loads(r["result"]).get("bound", ()):
                key = (b["table"], tuple(b["key"]))
                latest[key] = (r["id"], prev, b["row_sha256"], r["action"])
        if r["action"] == "import" and '"batch"' in r["params"] + r["result"]:
            for part in (r["params"], r["result"]):
                batch = json.loads(part).get("batch")
                if isinstance(batch, int):
                    batches.add(batch)
        if r["id"] in wanted:
            seen[r["id"]] = prev
        expected_id += 1
    if n == 0:
        held = _data_counts(conn)
        what = ", ".join(f"{k} {v}" for k, v in held.items() if v) or "no rows"
        return VerifyResult(
            False,
            0,
            1,
            f"the audit log is empty but every store starts with an 'init' entry "
            f"(the store holds: {what}): the log was truncated or deleted",
        )
    head_row = _head_row(conn)
    if head_row is None:
        return VerifyResult(
            False,
            n,
            n,
            f"the chain head is missing from meta ({n} entries present): it was deleted",
        )
    last, head = head_row
    if last != n or head != prev:
        if last > n:
            reason = (
                f"the chain head says {last} entries but {n} are present "
                "(entries deleted at the end)"
            )
        elif last < n:
            reason = f"the chain head says {last} entries but {n} are present (head moved back)"
        else:
            reason = f"the chain head's hash does not match entry {n} (head or entry rewritten)"
        return VerifyResult(False, n, n + 1 if last > n else last, reason)
    for a in sorted(anchors, key=lambda a: a.entries):
        when = f" (anchor taken {a.taken_at})" if a.taken_at else ""
        if a.entries > n:
            return VerifyResult(
                False,
                n,
                n + 1,
                f"an anchor records {a.entries} entries but the log holds {n}{when}: "
                "entries were removed and the chain rebuilt",
            )
        if seen[a.entries] != a.hash:
            return VerifyResult(
                False,
                n,
                a.entries,
                f"entry {a.entries} no longer has the anchored hash{when}: the log was "
                "rewritten up to or before this entry",
            )
    bad = _check_bound(conn, n, latest)
    if bad is not None:
        return bad
    for (batch,) in conn.execute(select(import_batches.c.id).order_by(import_batches.c.id)):
        if batch not in batches:
            return VerifyResult(
                False,
                n,
                None,
                f"import batch {batch} has no 'import' audit entry (written outside the "
                "application)",
                "import_batches",
                str(batch),
            )
    return VerifyResult(True, n)


def _data_counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in _DATA_TABLES
    }


def _check_bound(
    conn: Connection,
    n: int,
    latest: dict[tuple[str, tuple[str, ...]], tuple[int, str, str, str]],
) -> VerifyResult | None:
    """The first bound row that its latest audit entry does not vouch for, or None."""
    for name, bt in BOUND.items():
        present: set[tuple[str, ...]] = set()
        order = [bt.table.c[c] for c in bt.key]
        for r in conn.execute(bt.select(conn).order_by(*order)).mappings():
            key = tuple(str(r[c]) for c in bt.key)
            present.add(key)
            where = f"{name} row {_show_key(key)}"
            got = latest.get((name, key))
            if got is None:
                return VerifyResult(
                    False,
                    n,
                    r["audit_id"],
                    f"{where} was written by no audit entry (inserted outside the application)",
                    name,
                    _show_key(key),
                )
            entry_id, entry_h, digest, action = got
            if action not in bt.actions:
                return VerifyResult(
                    False,
                    n,
                    entry_id,
                    f"{where} is recorded by entry {entry_id}, a {action!r} entry, which "
                    f"may not write {name}",
                    name,
                    _show_key(key),
                )
            if r["audit_id"] != entry_id:
                return VerifyResult(
                    False,
                    n,
                    entry_id,
                    f"{where} names audit entry {r['audit_id']} but entry {entry_id} wrote it "
                    "last (the row was replaced or rolled back)",
                    name,
                    _show_key(key),
                )
            if row_digest(bt, r) != digest:
                return VerifyResult(
                    False,
                    n,
                    entry_id,
                    f"{where} differs from what audit entry {entry_id} recorded (the row "
                    "was edited or forged outside the application)",
                    name,
                    _show_key(key),
                )
            if r["audit_hash"] != bound_row_hash(entry_h, bt, r):
                return VerifyResult(
                    False,
                    n,
                    entry_id,
                    f"{where} has an audit_hash that does not match entry {entry_id}",
                    name,
                    _show_key(key),
                )
        for (table, key), (entry_id, *_rest) in latest.items():
            if table == name and key not in present:
                return VerifyResult(
                    False,
                    n,
                    entry_id,
                    f"{name} row {_show_key(key)} written by audit entry {entry_id} is "
                    "missing (deleted outside the application)",
                    name,
                    _show_key(key),
                )
    return None


def anchor(conn: Connection) -> Anchor:
    """The current chain head as an :class:`Anchor` (after :func:`verify` passed).

    Raises :class:`InputError` when the chain is broken: a broken chain is not anchored.
    """
    result = verify(conn)
    if not result.ok:
        raise InputError(
            f"the audit log is broken at entry {result.first_bad_id} ({result.reason}); "
            "not anchoring it"
        )
    last, head = _head(conn)
    return Anchor(last, head, now())
