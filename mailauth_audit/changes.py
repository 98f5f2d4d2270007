"""A finding's proposed fix as typed zone-record changes, not prose to be parsed back.

Why typed: renderers show "replace X with Y" without reading remediation text, the changes
of several findings for one DNS name can be merged into one record (`fix/merge.py`), and the
`fix` command applies them to a zone file and audits the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .fastinit import fast_init

__all__ = ["ChangeAction", "RecordChange"]


class ChangeAction(StrEnum):
    ADD = "add"  # publish `proposed`; nothing there is replaced
    REPLACE = "replace"  # the record whose value is `current` becomes `proposed`
    REMOVE = "remove"  # delete the record whose value is `current`


@fast_init
@dataclass(frozen=True)
class RecordChange:
    """One DNS record to add, replace or remove.

    Values are record data as a resolver returns it (TXT: the strings joined, unquoted);
    `records.zonefile.zone_line` writes them as zone-file lines.
    """

    action: ChangeAction
    name: str  # fully qualified owner, without the trailing dot: "_dmarc.example.com"
    rtype: str  # "TXT", "MX", "A" ...
    ttl: int  # the TTL the current record was answered with, or the proposal's default
    current: str | None = None  # set for replace and remove
    proposed: str | None = None  # set for add and replace
    # values only the owner knows, written as "<your-public-ip>" in `proposed`: a change
    # holding one cannot be applied as it stands
    placeholders: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()  # the finding codes this change fixes

    def fixing(self, codes: tuple[str, ...]) -> RecordChange:
        """This change with `fixes` set (dataclasses.replace costs ~5x more on a hot path)."""
        return RecordChange(
            self.action,
            self.name,
            self.rtype,
            self.ttl,
            self.current,
            self.proposed,
            self.placeholders,
            codes,
        )

    def with_ttl(self, ttl: int) -> RecordChange:
        """This change with `ttl` set (without dataclasses.replace, as `fixing`)."""
        return RecordChange(
            self.action,
            self.name,
            self.rtype,
            ttl,
            self.current,
            self.proposed,
            self.placeholders,
            self.fixes,
        )
