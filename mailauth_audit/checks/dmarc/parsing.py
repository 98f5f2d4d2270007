"""Record parsing shared by `collect` and `evaluate`: one parse per distinct record text."""

from __future__ import annotations

import functools
from enum import StrEnum

from ...records.dmarc import parse_dmarc_lenient
from ...records.errors import RecordSyntaxError

__all__ = ["parse_cached", "valid_records", "value"]

# A domain's record used to be parsed up to five times (validity, PSD flag, issues, policy,
# evaluate), and a bulk run meets the same provider records over and over. Safe to share: the
# parser is pure and its result immutable (frozen dataclasses and tuples); a
# RecordSyntaxError is not cached, it is raised again.
parse_cached = functools.lru_cache(maxsize=2048)(parse_dmarc_lenient)


def valid_records(texts: tuple[str, ...]) -> list[str]:
    """Those of `texts` that receivers accept as DMARC records (they start v=DMARC1)."""
    valid = []
    for text in texts:
        try:
            parse_cached(text)
        except RecordSyntaxError:
            continue
        valid.append(text)
    return valid


def value(member: StrEnum | None) -> str | None:
    """An enum member's value as text (None stays None), for the plain-text result fields.
    (A StrEnum member's str is its value, without the Python-level `value` property.)"""
    return None if member is None else str(member)
