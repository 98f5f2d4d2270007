"""The first schema: runs, blobs, audits, check results, findings, events, deliveries.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from mailauth_audit.store.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the tables as schema.py defines them at this revision; a later revision changes them
    # with op.add_column & co., never by editing this one
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
