"""The tables of the history store, in SQLAlchemy Core: one definition for SQLite and
PostgreSQL.

What is stored per audit, and why so: the whole report once, compressed (`blobs`, shared by
identical reports), so an audit decodes back to the typed report a newer version can judge
again; and beside it, in the audit's row, the few facts lists and filters read without
decoding it (`grade`, `score`, and `facts`: check statuses and finding codes with their
severity, see facts.py). Finding texts come from the catalogue, never from rows. Times are
ISO 8601 UTC text of one fixed width, so they sort and compare the same way in both
databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_tokens",
    "audits",
    "blobs",
    "deliveries",
    "events",
    "metadata",
    "query_budget",
    "runs",
    "schedule_ticks",
    "schedules",
    "service_chunks",
    "service_jobs",
]

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # "check", "bulk", "import"
    # what makes a run the same run again (a bulk folder's results file): `history import`
    # of a run recorded in part adds the missing audits to it instead of a second run
    Column("run_key", String(200), nullable=True, unique=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=True),
    Column("tool_version", String(40), nullable=False),
    Column("provenance", Text, nullable=True),  # the run's Provenance, JSON
    Column("source", Text, nullable=True),  # the results file a bulk run wrote
)

blobs = Table(
    "blobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the uncompressed document, raw (32 bytes): half the hex form, in the row
    # and in its unique index
    Column("digest", LargeBinary, nullable=False, unique=True),
    Column("codec", Integer, nullable=False),  # blob.CODECS: how `body` is compressed
    Column("body", LargeBinary, nullable=False),
)

audits = Table(
    "audits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("audited_at", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # DomainStatus
    Column("grade", String(2), nullable=True),  # None: not graded (a check in error) or invalid
    Column("score", Integer, nullable=True),
    Column("schema_version", String(16), nullable=False),  # of the stored document
    Column("blob_id", Integer, ForeignKey("blobs.id"), nullable=False),
    Column("facts", Text, nullable=True),  # facts.py: check statuses, finding codes
    # record.content_digest: equal in two audits whose documents differ at most in their
    # query count (revision 0006; NULL in rows recorded before it)
    Column("content_digest", LargeBinary, nullable=True),
    Column("dns_queries", Integer, nullable=True),  # the report's; NULL: recorded before 0007
    UniqueConstraint("run_id", "domain", name="uq_audits_run_domain"),
    # a domain's audits, put in time order after (revision 0008: the time in every entry
    # made this the largest index)
    Index("ix_audits_domain", "domain"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # sha256 of what the event says (domain, code, subject, before, after, the audits
    # compared): the same change seen again is the same event, delivered once
    Column("event_key", String(64), nullable=False, unique=True),
    Column("domain", String(255), nullable=False),
    Column("code", String(80), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("subject", Text, nullable=False),  # what changed: a selector, a record name, a check
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("audit_id", Integer, ForeignKey("audits.id", ondelete="CASCADE"), nullable=False),
    Column("previous_audit_id", Integer, nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("acked_at", String(32), nullable=True),
    Index("ix_events_created", "created_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(400), nullable=False),  # "webhook:<url>" or "email:<address>"
    Column("status", String(16), nullable=False),  # "delivered" or "failed"
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("event_id", "channel", name="uq_deliveries_event_channel"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),  # "read", "write" or "admin"
    # sha256 of the token (hex): the token itself is shown once and never stored
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("cron", String(120), nullable=False),  # five fields (minute..weekday), UTC
    Column("group_name", String(100), nullable=False),  # the named group of domains
    Column("domains", Text, nullable=False),  # JSON list of normalised names
    Column("checks", Text, nullable=True),  # JSON list of check ids; None: the operator's
    Column("targets", Text, nullable=False),  # JSON list: "webhook:<url>", "email:<address>"
    Column("enabled", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),  # ticks before it are never fired
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("tick_at", String(32), nullable=False),  # the cron time this row fires
    Column("claimed_at", String(32), nullable=False),
    Column("run_id", Integer, nullable=True),  # the job submitted; None while or if not
    Column("error", Text, nullable=True),  # why no job was submitted
    # whichever scheduler inserts the row first fires the tick; the others' inserts conflict
    UniqueConstraint("schedule_id", "tick_at", name="uq_schedule_ticks_tick"),
)

# service jobs (revision 0004): a job's shared state, its chunks, the workers' DNS budget
service_jobs = Table(
    "service_jobs",
    metadata,
    Column("id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),  # queued, running, done, failed, cancelled
    Column("total", Integer, nullable=False),  # domains in the job
    Column("chunks", Integer, nullable=False),
    Column("checks", Text, nullable=False),  # JSON list of check names
    Column("created_at", String(32), nullable=False),
    Column("started_at", String(32), nullable=True),
    Column("finished_at", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_service_jobs_status", "status"),
)

service_chunks = Table(
    "service_chunks",
    metadata,
    Column("job_id", Integer, ForeignKey("service_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("domains", Text, nullable=False),  # JSON list of names
    Column("size", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # queued, done, failed, cancelled
    Column("task_id", BigInteger, nullable=True),  # the queue's job id (PostgreSQL only)
    Column("runs", Integer, nullable=False, server_default="0"),  # times a worker started it
    Column("audited", Integer, nullable=False, server_default="0"),
    Column("with_errors", Integer, nullable=False, server_default="0"),
    Column("updated_at", String(32), nullable=True),
)

query_budget = Table(
    "query_budget",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("tokens", Float, nullable=False),  # tokens in the bucket at updated_at
    Column("updated_at", Float, nullable=False),  # the database's clock, epoch seconds
)
