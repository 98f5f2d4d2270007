"""The typed MTA-STS record and policy (RFC 8461 §3.1, §3.2), their notes (non-fatal
oddities, one per kind) and the error for a policy past a parser bound, frozen. The parsers
that build them are `records/mta_sts.py` (which re-exports these names); this module only
names the parts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import RecordSyntaxError
from .txtfields import TxtField

__all__ = [
    "MtaStsMode",
    "MtaStsNote",
    "MtaStsNoteKind",
    "MtaStsPolicy",
    "MtaStsPolicyTooLarge",
    "MtaStsTxtRecord",
]


class MtaStsMode(StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


class MtaStsNoteKind(StrEnum):
    """Non-fatal oddities; stable names a check maps to findings."""

    UNKNOWN_FIELD = "unknown_field"  # ignored by senders; may be a typo of a known field
    DUPLICATE_FIELD = "duplicate_field"  # a non-repeating field again: the first copy wins
    DUPLICATE_MX = "duplicate_mx"  # the same mx pattern twice (case-insensitive)
    MX_TRAILING_DOT = "mx_trailing_dot"  # `mx: mail.example.com.`: outside the grammar
    BLANK_LINE = "blank_line"  # an empty or whitespace-only policy line
    TRAILING_WHITESPACE = "trailing_whitespace"  # TXT: whitespace after the last field
    MAX_AGE_ABOVE_LIMIT = "max_age_above_limit"  # max_age > 31557600


@dataclass(frozen=True)
class MtaStsNote:
    """One kind of oddity, said once: where it first occurs and how often (bounded output)."""

    kind: MtaStsNoteKind
    message: str  # about the first occurrence
    position: int  # character offset of the first occurrence
    line: int | None = None  # policy only: 1-based line of the first occurrence
    count: int = 1


@dataclass(frozen=True)
class MtaStsTxtRecord:
    """What a sender reads at `_mta-sts.<domain>`: the policy id that triggers a refetch."""

    id: str
    extensions: tuple[TxtField, ...] = ()  # unknown fields, ignored by senders
    notes: tuple[MtaStsNote, ...] = ()


@dataclass(frozen=True)
class MtaStsPolicy:
    """The policy served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`."""

    version: str  # always "STSv1"
    mode: MtaStsMode
    max_age: int  # seconds, as published (may exceed MTA_STS_MAX_AGE_LIMIT: see notes)
    mx: tuple[str, ...]  # patterns as published, less a trailing dot, in order, de-duplicated
    extensions: tuple[tuple[str, str], ...] = ()  # unknown (name, value) lines, ignored
    notes: tuple[MtaStsNote, ...] = ()

    def note(self, kind: MtaStsNoteKind) -> MtaStsNote | None:
        return next((n for n in self.notes if n.kind is kind), None)


class MtaStsPolicyTooLarge(RecordSyntaxError):
    """The policy exceeds a parser bound (`limit` names the `Limits` field): not judged.

    A subclass so callers that only know `RecordSyntaxError` still stop; a check should
    catch it first and report "not checked", since the policy was not shown to be wrong.
    """

    def __init__(self, message: str, position: int = 0, limit: str = "") -> None:
        super().__init__(message, position)
        self.limit = limit

    def __reduce__(self) -> tuple[type[MtaStsPolicyTooLarge], tuple[str, int, str]]:
        return (type(self), (self.message, self.position, self.limit))


class _Notes:
    """Collects notes one per kind, counting repeats, so a hostile text cannot grow them."""

    def __init__(self) -> None:
        self._by_kind: dict[MtaStsNoteKind, MtaStsNote] = {}

    def add(
        self, kind: MtaStsNoteKind, message: str, position: int, line: int | None = None
    ) -> None:
        first = self._by_kind.get(kind)
        if first is None:
            self._by_kind[kind] = MtaStsNote(kind, message, position, line)
        else:
            self._by_kind[kind] = MtaStsNote(
                kind, first.message, first.position, first.line, first.count + 1
            )

    def done(self) -> tuple[MtaStsNote, ...]:
        return tuple(self._by_kind.values())
