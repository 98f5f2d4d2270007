"""The first schema: runs, blobs, audits, check results, findings, events, deliveries.

Revision ID: 0001
Revises:

Written out table by table, not taken from schema.py: a revision is what a store at that
revision holds, whatever schema.py says later (a later revision changes it with
op.add_column & co.). tests/store check that a store built by the revisions has the tables
schema.py describes.
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
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("run_key", sa.String(200), nullable=True, unique=True),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("tool_version", sa.String(40), nullable=False),
        sa.Column("provenance", sa.Text, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
    )
    op.create_table(
        "blobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("codec", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("audited_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(2), nullable=True),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("blob_id", sa.Integer, sa.ForeignKey("blobs.id"), nullable=False),
        sa.UniqueConstraint("run_id", "domain", name="uq_audits_run_domain"),
    )
    op.create_index("ix_audits_domain_time", "audits", ["domain", "audited_at"])
    op.create_table(
        "check_results",
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audits.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("check_id", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audits.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("params", sa.Text, nullable=True),
    )
    op.create_index("ix_findings_audit", "findings", ["audit_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(64), nullable=False, unique=True),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audits.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("previous_audit_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("acked_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_events_created", "events", ["created_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            sa.Integer,
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(400), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("event_id", "channel", name="uq_deliveries_event_channel"),
    )


def downgrade() -> None:
    for table in ("deliveries", "events", "findings", "check_results", "audits", "blobs", "runs"):
        op.drop_table(table)
