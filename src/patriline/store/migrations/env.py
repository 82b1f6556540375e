"""Alembic environment: migrations run programmatically on a connection the store passes.

``patriline.store.migrate.upgrade`` puts the open connection in
``config.attributes["connection"]``; there is no ``alembic.ini`` and no logging set-up.
"""

from __future__ import annotations

from alembic import context

from patriline.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI
    raise RuntimeError("patriline migrations run through patriline.store (Database.create/open)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
