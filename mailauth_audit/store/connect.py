"""Opening a store: the URL, the engine, and the schema brought up to date on first use.

Why SQLAlchemy Core and Alembic: one code path for SQLite (a file, no server: the default)
and PostgreSQL (teams, the service to come) with the SQL written once, and migrations that
a store applies to itself when a newer version first opens it; the ORM is not needed, the
store moves rows, not objects. A store whose schema is newer than this code is refused
(it would be written in a shape this version does not know), never downgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import MailauthAuditError
from ..options import StoreLimits
from .location import STORE_ENV, default_store_path, store_url_from

__all__ = [
    "REVISIONS",
    "STORE_ENV",
    "SchemaTooNew",
    "StoreError",
    "StoreUnavailable",
    "default_store_path",
    "make_engine",
    "migrate",
    "resolve_store_url",
    "store_url_from",
]

# every migration in migrations/versions, oldest first (tests/store keep this list equal to
# Alembic's script directory): a store at a revision not listed here is newer than this code
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
READ_ONLY_OPTION = "mailauth_audit_read_only"  # Connection.execution_options: a reading transaction
_PG_MIGRATION_LOCK = 0x6D61696C  # pg_advisory_xact_lock key: one migrator at a time


class StoreError(MailauthAuditError):
    """The store cannot be used: damaged, not a database, or refused."""


class StoreUnavailable(StoreError):
    """The database server or file cannot be reached now; trying later may work."""


class SchemaTooNew(StoreError):
    """The store was set up by a newer mailauth-audit."""


def resolve_store_url(value: str) -> str:
    """A path or a URL as SQLAlchemy wants it (psycopg 3 for PostgreSQL)."""
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + rest
    if scheme in ("sqlite", "postgresql+psycopg"):
        return value
    raise StoreError(
        f"unsupported store URL scheme {scheme!r} (use a path, sqlite:// or postgresql://)"
    )


def make_engine(value: str, limits: StoreLimits | None = None) -> Engine:
    limits = limits or StoreLimits()
    url = resolve_store_url(value)
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreUnavailable(f"cannot open the store {path}: its folder does not exist")
        engine = create_engine(url, connect_args={"timeout": limits.lock_timeout})
        _sqlite_pragmas(engine, limits)
        return engine
    connect_args: dict[str, Any] = {
        "connect_timeout": max(1, round(limits.connect_timeout)),
        "options": f"-c lock_timeout={int(limits.lock_timeout * 1000)}",
    }
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine, limits: StoreLimits) -> None:
    """WAL (readers never wait for the writer), foreign keys, and transactions that take
    the write lock when they begin: two writers then wait their turn (busy timeout) instead
    of one failing when it upgrades a read lock."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(limits.lock_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")  # a reader never waits for a writer in WAL mode
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class MigrationOutcome:
    before: str | None  # the store's revision when opened; None for a new store
    after: str


def migrate(engine: Engine) -> MigrationOutcome:
    """Bring the schema to this code's revision; refuse a newer one. Safe to run from two
    processes at once: the second waits for the first and finds the schema up to date."""
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            before = _current_revision(conn)
            if before is not None and before not in REVISIONS:
                raise SchemaTooNew(
                    f"the store is at schema revision {before!r}, newer than this "
                    f"mailauth-audit knows (up to {REVISIONS[-1]!r}): upgrade mailauth-audit "
                    "to use it"
                )
            if before != REVISIONS[-1]:
                _upgrade(conn)
            return MigrationOutcome(before, REVISIONS[-1])
    except StoreError:
        raise
    except DBAPIError as exc:
        raise classify(exc, engine) from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot set up the store: {exc}") from None


def _current_revision(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _upgrade(conn: Any) -> None:
    from alembic import command  # only when a store is created or migrated
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def classify(exc: DBAPIError, engine: Engine) -> StoreError:
    """A driver error as a StoreError a person can act on."""
    where = engine.url.render_as_string(hide_password=True)
    message = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if engine.dialect.name == "sqlite":
        lowered = message.lower()
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            return StoreError(f"the store {where} is not a usable SQLite database: {message}")
        if "locked" in lowered or "busy" in lowered:
            return StoreUnavailable(f"the store {where} stayed locked by another writer: {message}")
    if type(exc.orig).__name__ == "OperationalError" and engine.dialect.name != "sqlite":
        return StoreUnavailable(f"cannot reach the store {where}: {message}")
    return StoreError(f"the store {where} failed: {message}")
