"""Least privilege: only the schema owner moves the Alembic version.

The service connects as a role that reads and writes the data tables, only appends to
``audit_log`` and cannot run DDL (``patriline db grant``, ``patriline.store.roles``);
migrations run as the role that owns the tables. This revision adds the database side
of that split on PostgreSQL:

* ``patriline_owner_only()``, a trigger function that refuses a change by any role that
  is not (a member of) the table's owner, and on ``alembic_version`` row triggers for
  INSERT, UPDATE and DELETE and a ``BEFORE TRUNCATE`` statement trigger with it: even a
  service role granted too much (``GRANT ALL ON ALL TABLES``) cannot say the schema is
  at another revision;
* ``REVOKE ALL ON alembic_version FROM PUBLIC``.

``audit_log`` needs nothing new: since 0003 its triggers refuse UPDATE, DELETE and
TRUNCATE by everyone, the owner included, and nothing in patriline rewrites an audit
row (expungement and retention delete profile rows and *append* an entry; no migration
updates the log), so there is no owner exception to make.

SQLite has no roles (whoever can write the file can do anything; its audit triggers are
0003's): nothing to do there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSTGRES_UP = [
    """CREATE FUNCTION patriline_owner_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        owner name;
    BEGIN
        SELECT pg_get_userbyid(relowner) INTO owner FROM pg_class WHERE oid = TG_RELID;
        IF NOT pg_has_role(current_user, owner, 'USAGE') THEN
            RAISE EXCEPTION
                'patriline: % on % is for the schema owner (migrations run as %), not %',
                TG_OP, TG_TABLE_NAME, owner, current_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER alembic_version_owner_only
    BEFORE INSERT OR UPDATE OR DELETE ON alembic_version
    FOR EACH ROW EXECUTE FUNCTION patriline_owner_only()""",
    """CREATE TRIGGER alembic_version_owner_only_truncate BEFORE TRUNCATE ON alembic_version
    FOR EACH STATEMENT EXECUTE FUNCTION patriline_owner_only()""",
    "REVOKE ALL ON alembic_version FROM PUBLIC",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS alembic_version_owner_only_truncate ON alembic_version",
    "DROP TRIGGER IF EXISTS alembic_version_owner_only ON alembic_version",
    "DROP FUNCTION IF EXISTS patriline_owner_only()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
