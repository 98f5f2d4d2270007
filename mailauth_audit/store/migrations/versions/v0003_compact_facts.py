"""Compact audits: check statuses and finding codes fold into `audits.facts`; the blob key
becomes the raw SHA-256.

Revision ID: v0003
Revises: 0002

Why: a row per check and per finding (with the finding's parameters, which the report blob
holds too) cost more at rest than the compressed report itself; one short text per audit
(store/facts.py) holds what lists and filters read. The hex digest, twice in every blob's
row and index, becomes its 32 raw bytes. Existing data is carried over: each audit's facts
are rebuilt from its check_results and findings rows before they are dropped, and each hex
digest is decoded. Compressed bodies are left as they are (every codec stays readable).

SQLite cannot change a column's type or drop a UNIQUE column in place, and renaming `blobs`
would make audits' foreign key follow the old table: `blobs` is copied aside, dropped and
created again under its name with foreign keys deferred to the end of the transaction, by
when every audit's blob is back.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000
# facts.py's one-letter forms, written out: a revision does not change with later code
_SHORT = {
    **{s: s[0] for s in ("pass", "warn", "fail", "error", "skipped")},
    **{s: s[0] for s in ("critical", "high", "medium", "low", "info")},
}


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("audits", sa.Column("facts", sa.Text, nullable=True))
    _fold_facts(conn)
    op.drop_index("ix_findings_audit", table_name="findings")
    op.drop_table("findings")
    op.drop_table("check_results")
    if conn.dialect.name == "postgresql":
        op.add_column("blobs", sa.Column("digest", sa.LargeBinary, nullable=True))
        op.execute("UPDATE blobs SET digest = decode(sha256, 'hex')")
        op.alter_column("blobs", "digest", nullable=False)
        op.drop_column("blobs", "sha256")
        op.create_unique_constraint("blobs_digest_key", "blobs", ["digest"])
    else:
        _rebuild_sqlite_blobs(conn)


def _fold_facts(conn: sa.Connection) -> None:
    statuses: dict[int, list[str]] = defaultdict(list)
    for audit_id, check_id, status, reason in conn.execute(
        sa.text("SELECT audit_id, check_id, status, reason FROM check_results ORDER BY audit_id")
    ):
        short = _SHORT.get(status, status)
        statuses[audit_id].append(f"{check_id}:{short}" + (f"/{reason}" if reason else ""))
    found: dict[int, list[str]] = defaultdict(list)
    for audit_id, code, severity in conn.execute(
        sa.text("SELECT audit_id, code, severity FROM findings ORDER BY audit_id, id")
    ):
        found[audit_id].append(f"{code}:{_SHORT.get(severity, severity)}")
    rows = [
        {"i": audit_id, "f": ",".join(statuses[audit_id]) + "|" + ",".join(found[audit_id])}
        for audit_id in statuses.keys() | found.keys()
    ]
    update = sa.text("UPDATE audits SET facts = :f WHERE id = :i")
    for start in range(0, len(rows), _BATCH):
        conn.execute(update, rows[start : start + _BATCH])


def _rebuild_sqlite_blobs(conn: sa.Connection) -> None:
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # until this transaction ends
    # the new rows find the audits pointing at them through this index, not a table scan each
    conn.exec_driver_sql("CREATE INDEX tmp_v0003_audits_blob ON audits (blob_id)")
    conn.exec_driver_sql("CREATE TABLE blobs_v0002 AS SELECT id, sha256, codec, body FROM blobs")
    op.drop_table("blobs")
    op.create_table(
        "blobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("codec", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    read = conn.exec_driver_sql("SELECT id, sha256, codec, body FROM blobs_v0002 ORDER BY id")
    insert = sa.text("INSERT INTO blobs (id, digest, codec, body) VALUES (:i, :d, :c, :b)")
    while batch := read.fetchmany(_BATCH):
        conn.execute(
            insert, [{"i": i, "d": bytes.fromhex(sha), "c": c, "b": b} for i, sha, c, b in batch]
        )
    conn.exec_driver_sql("DROP TABLE blobs_v0002")
    conn.exec_driver_sql("DROP INDEX tmp_v0003_audits_blob")


def downgrade() -> None:
    raise NotImplementedError("a store is never downgraded (connect.migrate refuses to)")
