"""The attacker of the tamper tests: write access to the store, past its own guards.

Not a pytest plugin (import it: ``from plugins.tamper import attacker, rechain``). The
store refuses UPDATE/DELETE/TRUNCATE of ``audit_log`` and moving the chain head back
(migration 0003); an attacker with the SQLite file drops those triggers, and a
PostgreSQL superuser skips them (``session_replication_role = replica``). Both are
done here explicitly, so a test shows what such an attacker can change and what
``verify`` still finds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patriline.store import Database
from patriline.store.audit import BOUND, GENESIS, HEAD_KEY, bound_row_hash, entry_hash
from patriline.store.schema import audit_log, meta

SQLITE_TRIGGERS = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "meta_audit_head_forward",
    "meta_audit_head_keep",
)


@contextmanager
def attacker(db: Database) -> Iterator[Connection]:
    """One write transaction with the append-only guards bypassed."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for name in SQLITE_TRIGGERS:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield conn


def rechain(conn: Connection) -> None:
    """Recompute every hash, the head and every bound row's ``audit_hash`` with the
    published rules, as someone with write access could (only anchors catch it)."""
    rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]
    prev = GENESIS
    hashes = {}
    for r in rows:
        r["prev_hash"] = prev
        r["hash"] = entry_hash(prev, r)
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == r["id"])
            .values(prev_hash=r["prev_hash"], hash=r["hash"])
        )
        prev = hashes[r["id"]] = r["hash"]
    head = f"{rows[-1]['id']}:{prev}" if rows else f"0:{GENESIS}"
    conn.execute(update(meta).where(meta.c.key == HEAD_KEY).values(value=head))
    for bt in BOUND.values():
        for b in conn.execute(select(bt.table)).mappings():
            if b["audit_id"] in hashes:
                key = {c: b[c] for c in bt.key}
                conn.execute(
                    update(bt.table)
                    .filter_by(**key)
                    .values(audit_hash=bound_row_hash(hashes[b["audit_id"]], bt, b))
                )
