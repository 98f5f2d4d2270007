"""The index a domain's audits are found by holds the domain only.

Revision ID: 0008
Revises: 0007

Why: `ix_audits_domain_time` (domain, audited_at) carried the 27-character audit time in
every entry, the largest index of the store (about 94 bytes per audit on PostgreSQL). What
reads it asks for one domain's audits (history, diff, the previous audit drift compares
with, prune): an index on the domain finds them, and the few audits of one domain are put
in time order after. An index on the domain alone also shrinks across runs (PostgreSQL
stores a repeated key once per page). About 49 bytes per audit less at rest.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audits_domain_time", table_name="audits")
    op.create_index("ix_audits_domain", "audits", ["domain"])


def downgrade() -> None:
    op.drop_index("ix_audits_domain", table_name="audits")
    op.create_index("ix_audits_domain_time", "audits", ["domain", "audited_at"])
