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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from patriline.errors import InputError
from patriline.store.schema import audit_log, meta, users

__all__ = [
    "ANCHOR_FORMAT",
    "GENESIS",
    "Anchor",
    "AuditEntry",
    "VerifyResult",
    "anchor",
    "append",
    "entry_hash",
    "read",
    "read_anchors",
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
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad_id`` names the first broken entry."""

    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str | None = None


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


def _head(conn: Connection) -> tuple[int, str]:
    value = conn.execute(select(meta.c.value).where(meta.c.key == HEAD_KEY)).scalar_one_or_none()
    if value is None:
        return 0, GENESIS
    last, h = value.split(":", 1)
    return int(last), h


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
) -> int:
    """Append one entry inside the caller's (write) transaction; return its ID.

    The role recorded is the user's role in the store when the user exists (a forged
    ``Actor`` cannot misstate it), else ``role`` as given.
    """
    stored = conn.execute(select(users.c.role).where(users.c.name == user)).scalar_one_or_none()
    role = stored if stored is not None else role
    last, prev = _head(conn)
    new_id = last + 1
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
    head = f"{row['id']}:{row['hash']}"
    if last == 0 and prev == GENESIS:
        exists = conn.execute(select(meta.c.key).where(meta.c.key == HEAD_KEY)).first()
        if exists is None:
            conn.execute(insert(meta).values(key=HEAD_KEY, value=head))
            return new_id
    conn.execute(update(meta).where(meta.c.key == HEAD_KEY).values(value=head))
    return new_id


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

    With ``anchors``, also check that entry ``a.entries`` of the chain still has the
    hash ``a.hash`` for each anchor (an anchor of 0 entries is the empty chain).
    """
    prev = GENESIS
    expected_id = 1
    n = 0
    wanted = {a.entries for a in anchors}
    seen: dict[int, str] = {0: GENESIS}
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
        prev = r["hash"]
        if r["id"] in wanted:
            seen[r["id"]] = prev
        expected_id += 1
    last, head = _head(conn)
    if last != n or (n and head != prev):
        return VerifyResult(
            False,
            n,
            n + 1 if last > n else last,
            f"the chain head says {last} entries but {n} are present (entries deleted at the end)",
        )
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
    return VerifyResult(True, n)


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
