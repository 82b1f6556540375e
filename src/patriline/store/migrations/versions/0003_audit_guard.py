"""Audit guard: the log is append-only in the database; users and cases are bound to it.

* ``users`` and ``cases`` get ``audit_id`` and ``audit_hash`` (rows bound to the chain,
  see ``patriline.store.audit.BOUND``); a store upgraded from an older revision gets one
  ``audit_guard`` entry that binds its existing rows as they are (trust on first use).
* SQLite: triggers that ``RAISE(ABORT)`` on UPDATE or DELETE of ``audit_log`` and on a
  change of the chain head in ``meta`` that deletes it or moves it backwards.
* PostgreSQL: the same as row triggers, plus ``BEFORE TRUNCATE`` statement triggers
  on ``audit_log`` and ``meta``, and ``REVOKE UPDATE, DELETE, TRUNCATE ON audit_log
  FROM PUBLIC``.

The table owner (or whoever can write the SQLite file) can still drop the triggers;
that is what anchors kept outside the store are for (``patriline audit anchor``).

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-04 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "patriline: the audit log is append-only"

SQLITE_UP = [
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END""",
    """CREATE TRIGGER meta_audit_head_forward BEFORE UPDATE ON meta
    WHEN old.key = 'audit_head' AND (
        new.key IS NOT old.key
        OR CAST(substr(new.value, 1, instr(new.value, ':') - 1) AS INTEGER)
           <= CAST(substr(old.value, 1, instr(old.value, ':') - 1) AS INTEGER))
    BEGIN SELECT RAISE(ABORT, 'patriline: the audit chain head only moves forward'); END""",
    """CREATE TRIGGER meta_audit_head_keep BEFORE DELETE ON meta
    WHEN old.key = 'audit_head'
    BEGIN SELECT RAISE(ABORT, 'patriline: the audit chain head cannot be deleted'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS meta_audit_head_forward",
    "DROP TRIGGER IF EXISTS meta_audit_head_keep",
]

POSTGRES_UP = [
    f"""CREATE FUNCTION patriline_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP;
    END $$""",
    """CREATE FUNCTION patriline_audit_head_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            RAISE EXCEPTION 'patriline: meta holds the audit chain head (TRUNCATE refused)';
        END IF;
        IF OLD.key <> 'audit_head' THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'patriline: the audit chain head cannot be deleted';
        END IF;
        IF NEW.key <> OLD.key
           OR split_part(NEW.value, ':', 1)::bigint <= split_part(OLD.value, ':', 1)::bigint
        THEN
            RAISE EXCEPTION 'patriline: the audit chain head only moves forward';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION patriline_audit_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION patriline_audit_append_only()""",
    """CREATE TRIGGER meta_audit_head_guard BEFORE UPDATE OR DELETE ON meta
    FOR EACH ROW EXECUTE FUNCTION patriline_audit_head_guard()""",
    """CREATE TRIGGER meta_no_truncate BEFORE TRUNCATE ON meta
    FOR EACH STATEMENT EXECUTE FUNCTION patriline_audit_head_guard()""",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS meta_no_truncate ON meta",
    "DROP TRIGGER IF EXISTS meta_audit_head_guard ON meta",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS patriline_audit_head_guard()",
    "DROP FUNCTION IF EXISTS patriline_audit_append_only()",
]


def upgrade() -> None:
    for table in ("users", "cases"):
        op.add_column(table, sa.Column("audit_id", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("audit_hash", sa.String(length=64), nullable=True))
    # approvals (0002) already has audit_id, the entry written with the row.
    op.add_column("approvals", sa.Column("audit_hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for statement in SQLITE_UP if bind.dialect.name == "sqlite" else POSTGRES_UP:
        op.execute(statement)
    _bind_existing_rows(bind)


def _bind_existing_rows(conn: sa.engine.Connection) -> None:
    """Bind the rows of a store created before this revision (none in a new store)."""
    from patriline.store import audit

    rows = [
        ("users", name) for (name,) in conn.execute(sa.text("SELECT name FROM users ORDER BY name"))
    ] + [("cases", case) for (case,) in conn.execute(sa.text("SELECT id FROM cases ORDER BY id"))]
    rows += [
        ("approvals", int(i))
        for (i,) in conn.execute(sa.text("SELECT id FROM approvals ORDER BY id"))
    ]
    if not rows:
        return
    audit.append(
        conn,
        user="patriline",
        role=None,
        action="audit_guard",
        params={"migration": revision, "note": "rows bound as found (trust on first use)"},
        bind=rows,
    )


def downgrade() -> None:
    bind = op.get_bind()
    for statement in SQLITE_DOWN if bind.dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
    with op.batch_alter_table("approvals") as batch_op:
        batch_op.drop_column("audit_hash")
    for table in ("cases", "users"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("audit_hash")
            batch_op.drop_column("audit_id")
