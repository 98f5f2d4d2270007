"""Which store a command uses: --store, else the environment, else the default file.

Kept free of SQLAlchemy: `check` asks this on every run, and imports the database layer only
when a store is named.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["STORE_ENV", "default_store_path", "store_url_from"]

STORE_ENV = "MAILAUTH_AUDIT_STORE"


def default_store_path() -> Path:
    """Where `history`, `diff`, `alerts` and `prune` look when no store is named."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mailauth-audit" / "audits.db"


def store_url_from(option: str | None) -> str | None:
    """--store, else $MAILAUTH_AUDIT_STORE; None when neither names a store."""
    if option:
        return option
    value = os.environ.get(STORE_ENV, "").strip()
    return value or None
