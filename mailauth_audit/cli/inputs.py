"""Domain names for `check` from its arguments, `-` (stdin) and `--domains-file FILE`.

A line per name, blank lines and `#` comments ignored, duplicates folded (as `bulk` reads its
list). The input is read with a size cap and a name cap: past either, `check` refuses with a
usage error that names `bulk`, never audits a silently truncated list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from ..asyncapi import normalize_domain, strip_comment
from ..errors import InvalidDomainError
from ..options import CheckInputLimits

__all__ = ["DomainInputError", "collect_domains", "read_domain_lines"]

STDIN = "-"


class DomainInputError(ValueError):
    """A name list that cannot be used: too large, or a line that is not a domain name."""


@dataclass(frozen=True)
class NamedSource:
    label: str  # "stdin" or the file's path, for error messages
    text: str


def read_limited(stream: BinaryIO, label: str, limits: CheckInputLimits) -> NamedSource:
    """At most max_domains_file_bytes from the stream; one byte more is an error."""
    cap = limits.max_domains_file_bytes
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise DomainInputError(
            f"{label} is larger than {cap:,} bytes: use `mailauth-audit bulk` for long lists"
        )
    return NamedSource(label, data.decode("utf-8", errors="replace").replace("\ufeff", ""))


def read_domain_lines(source: NamedSource) -> list[str]:
    """The names of a list, in order; a line that is not a domain name is an error naming
    its line number (a typo in a list should not pass unnoticed)."""
    names: list[str] = []
    for number, line in enumerate(source.text.splitlines(), start=1):
        text = strip_comment(line.replace("\x00", "\ufffd"))
        if not text:
            continue
        try:
            normalize_domain(text)
        except InvalidDomainError as exc:
            raise DomainInputError(f"{source.label}, line {number}: {exc}") from None
        names.append(text)
    return names


def collect_domains(
    arguments: Iterable[str], sources: Iterable[NamedSource], limits: CheckInputLimits
) -> list[str]:
    """Arguments then listed names, duplicates folded (case, trailing dot, IDN spelling)."""
    seen: set[str] = set()
    names: list[str] = []
    candidates = [*arguments]
    for source in sources:
        candidates.extend(read_domain_lines(source))
    for name in candidates:
        try:
            key = normalize_domain(name)
        except InvalidDomainError as exc:
            raise DomainInputError(str(exc)) from None
        if key in seen:
            continue
        seen.add(key)
        names.append(name)
        if len(names) > limits.max_domains:
            raise DomainInputError(
                f"more than {limits.max_domains:,} domains: use `mailauth-audit bulk` "
                "for long lists"
            )
    return names
