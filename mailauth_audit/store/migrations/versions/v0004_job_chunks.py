"""Service jobs split into chunks, and the global DNS query budget of `worker --qps`.

Revision ID: 0004
Revises: 0002

`service_jobs` is a job's state shared by `serve` and every `worker` (one row per job,
its id the store run's id); `service_chunks` holds each chunk's domains and outcome, so a
queued task carries only (job, chunk) and a retried chunk reads what it must audit.
`query_budget` is the token bucket the workers lease DNS queries from. Exactly one stored
result per (job, domain) rests on the unique (run_id, domain) of `audits` (revision 0001):
a retried chunk skips what is stored, and a concurrent duplicate write is refused.
Self-contained: nothing here depends on another revision's tables but `runs`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_jobs",
        sa.Column("id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_service_jobs_status", "service_jobs", ["status"])
    op.create_table(
        "service_chunks",
        sa.Column(
            "job_id",
            sa.Integer,
            sa.ForeignKey("service_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("domains", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("task_id", sa.BigInteger, nullable=True),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("audited", sa.Integer, nullable=False, server_default="0"),
        sa.Column("with_errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "query_budget",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("query_budget", "service_chunks", "service_jobs"):
        op.drop_table(table)
