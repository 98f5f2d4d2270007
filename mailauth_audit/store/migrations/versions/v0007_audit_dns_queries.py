"""The DNS queries of each audit in its row, written when it is recorded, so /metrics sums
them without decompressing a report per audit. Rows recorded before this revision keep
NULL (what reads the column falls back to their report).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audits", sa.Column("dns_queries", sa.Integer, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("a store is never downgraded (connect.migrate refuses to)")
