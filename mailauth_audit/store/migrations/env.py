"""Alembic's entry point: migrations run on the connection `connect.migrate` hands over."""

from alembic import context

from mailauth_audit.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
