"""Initial schema: specimens, haplotypes, persons, identities, links, cases, users, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:07:01.616891
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("case_id", sa.String(length=128), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_case_id", ["case_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("opened_at", sa.String(length=32), nullable=False),
        sa.Column("familial_approved_by", sa.String(length=128), nullable=True),
        sa.Column("familial_approved_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("file_hash", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("software_version", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_table(
        "removals",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("specimen", sa.String(length=128), nullable=False),
        sa.Column("removed_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_removals")),
    )
    with op.batch_alter_table("removals", schema=None) as batch_op:
        batch_op.create_index("ix_removals_specimen", ["specimen"], unique=False)

    op.create_table(
        "users",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    op.create_table(
        "identities",
        sa.Column("person", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["person"], ["persons.id"], name=op.f("fk_identities_person_persons")
        ),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_identities")),
    )
    op.create_table(
        "paternal_links",
        sa.Column("son", sa.String(length=128), nullable=False),
        sa.Column("father", sa.String(length=128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_paternal_links_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["father"], ["persons.id"], name=op.f("fk_paternal_links_father_persons")
        ),
        sa.ForeignKeyConstraint(
            ["son"], ["persons.id"], name=op.f("fk_paternal_links_son_persons")
        ),
        sa.PrimaryKeyConstraint("son", name=op.f("pk_paternal_links")),
    )
    with op.batch_alter_table("paternal_links", schema=None) as batch_op:
        batch_op.create_index("ix_paternal_links_father", ["father"], unique=False)

    op.create_table(
        "specimens",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("person", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("kit", sa.String(length=32), nullable=True),
        sa.Column("collected_at", sa.String(length=32), nullable=True),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("consent_ref", sa.Text(), nullable=True),
        sa.Column("retention_until", sa.String(length=10), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_specimens_batch_id_import_batches")
        ),
        sa.ForeignKeyConstraint(
            ["person"], ["persons.id"], name=op.f("fk_specimens_person_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specimens")),
    )
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.create_index("ix_specimens_person", ["person"], unique=False)

    op.create_table(
        "haplotypes",
        sa.Column("specimen", sa.String(length=128), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("encoded", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specimen"], ["specimens.id"], name=op.f("fk_haplotypes_specimen_specimens")
        ),
        sa.PrimaryKeyConstraint("specimen", name=op.f("pk_haplotypes")),
    )
    with op.batch_alter_table("haplotypes", schema=None) as batch_op:
        batch_op.create_index("ix_haplotypes_seq", ["seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("haplotypes", schema=None) as batch_op:
        batch_op.drop_index("ix_haplotypes_seq")

    op.drop_table("haplotypes")
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.drop_index("ix_specimens_person")

    op.drop_table("specimens")
    with op.batch_alter_table("paternal_links", schema=None) as batch_op:
        batch_op.drop_index("ix_paternal_links_father")

    op.drop_table("paternal_links")
    op.drop_table("identities")
    op.drop_table("users")
    with op.batch_alter_table("removals", schema=None) as batch_op:
        batch_op.drop_index("ix_removals_specimen")

    op.drop_table("removals")
    op.drop_table("persons")
    op.drop_table("meta")
    op.drop_table("import_batches")
    op.drop_table("cases")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_case_id")

    op.drop_table("audit_log")
