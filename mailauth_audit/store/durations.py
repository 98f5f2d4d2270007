"""Durations as people write them on a command line: 90m, 12h, 7d, 2w."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

__all__ = ["cutoff", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """ValueError unless `text` is a positive number and a unit (s, m, h, d, w)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (examples: 90m, 12h, 7d, 2w)")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 100 * 365 * 86400:
        raise ValueError(f"duration out of range: {text!r}")
    return timedelta(seconds=seconds)


def cutoff(text: str, now: datetime | None = None) -> datetime:
    """The moment `text` ago."""
    return (now or datetime.now(UTC)) - parse_duration(text)
