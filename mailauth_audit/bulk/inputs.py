"""Read a domain list: one name per line, comments and blanks ignored, duplicates folded.

A list of 100,000 names typed by people and exported from spreadsheets has every kind of
mess in it. Nothing in it stops a run: a line that is not a domain name becomes a result
with status `invalid`, and the same name written twice (or in another case, with a trailing
dot, as a U-label) is audited once. The entries are kept in memory (about 100 bytes a name)
so that progress can show a total and an ETA, and resume can skip what is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..domain import normalize_domain
from ..errors import InvalidDomainError

__all__ = ["DomainEntry", "InputStats", "iter_entries", "read_entries", "strip_comment"]


@dataclass(frozen=True, slots=True)
class DomainEntry:
    key: str  # the name results are filed under: the A-label form, or the raw text if invalid
    text: str  # the line as written (whitespace stripped)
    error: str | None = None  # set when the line is not a valid domain name

    @property
    def valid(self) -> bool:
        return self.error is None


@dataclass
class InputStats:
    """Counted while reading, for the summary: what happened to each input line."""

    lines: int = 0
    ignored: int = 0  # blank or comment lines
    duplicates: int = 0  # names already seen (case, trailing dot and IDN spelling folded)
    invalid: int = 0  # distinct lines that are not domain names
    entries: int = 0  # distinct names (valid or not) to report on


def strip_comment(line: str) -> str:
    """The name on a line: `#` starts a comment at the line start or after whitespace."""
    text = line.strip()
    if text.startswith("#"):
        return ""
    for sep in (" #", "\t#"):
        cut = text.find(sep)
        if cut >= 0:
            text = text[:cut].rstrip()
    return text


def iter_entries(lines: Iterable[str], stats: InputStats | None = None) -> Iterator[DomainEntry]:
    """Distinct entries in input order. Pure: the caller opens the file (or stdin)."""
    stats = stats if stats is not None else InputStats()
    seen: set[str] = set()
    for line in lines:
        stats.lines += 1
        text = strip_comment(line.replace("\ufeff", "").replace("\x00", "\ufffd"))
        if not text:
            stats.ignored += 1
            continue
        error: str | None = None
        try:
            key = normalize_domain(text)
        except InvalidDomainError as exc:
            key, error = text, str(exc)
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        stats.entries += 1
        if error is not None:
            stats.invalid += 1
        yield DomainEntry(key=key, text=text, error=error)


def read_entries(
    lines: Iterable[str], stats: InputStats | None = None
) -> tuple[list[DomainEntry], InputStats]:
    stats = stats if stats is not None else InputStats()
    return list(iter_entries(lines, stats)), stats
