"""Each audit's content digest: SHA-256 (first 16 bytes) of its stored document without the
query count.

Revision ID: 0006
Revises: 0005

Why: two runs of the same domains store different blobs for most unchanged domains, since
the query count a domain took depends on what the run's cache already held. A run diff
told those apart by decompressing both documents; with this column it compares two short
values. Rows recorded before this revision keep NULL, and a run diff reads their documents
as before (a backfill would decompress the whole store inside one migration).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audits", sa.Column("content_digest", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("a store is never downgraded (connect.migrate refuses to)")
