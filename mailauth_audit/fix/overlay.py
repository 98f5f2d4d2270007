"""Live answers with a change set laid over them: how the domain would look once fixed.

`fix` without a zone file cannot edit the zone, but it can still audit the domain as it
would be: this resolver asks the live resolver and changes the records the change set names
(nothing else), so the re-audit sees exactly the proposed records and the live rest.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..changes import ChangeAction, RecordChange
from ..records.zonefile import split_txt
from ..resolver.base import Answer, MxRecord, Rcode, RecordValue, Resolver, RRType, TxtRecord
from .zone import same_record

__all__ = ["OverlayResolver"]

_TYPES = {"TXT": RRType.TXT, "MX": RRType.MX, "A": RRType.A, "AAAA": RRType.AAAA}


def _text(value: RecordValue) -> str:
    if isinstance(value, TxtRecord):
        return value.text
    if isinstance(value, MxRecord):
        return f"{value.preference} {value.exchange or ''}."
    return str(value)


def _record(rtype: str, value: str) -> RecordValue:
    if rtype == "TXT":
        return TxtRecord(split_txt(value))
    if rtype == "MX":
        pref, _, host = value.partition(" ")
        return MxRecord(int(pref), host.strip().rstrip(".").lower())
    return value


class OverlayResolver:
    """`inner`'s answers, with `changes` applied to the records they name."""

    def __init__(self, inner: Resolver, changes: Iterable[RecordChange]) -> None:
        self.inner = inner
        self._changes: dict[tuple[str, RRType], list[RecordChange]] = {}
        self._added_names: set[str] = set()
        for c in changes:
            rdtype = _TYPES.get(c.rtype.upper())
            if rdtype is None:
                continue
            name = c.name.rstrip(".").lower()
            self._changes.setdefault((name, rdtype), []).append(c)
            if c.action is ChangeAction.ADD:
                self._added_names.add(name)

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        answer = await self.inner.resolve(
            name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
        )
        qname = name.rstrip(".").lower()
        changes = self._changes.get((qname, rdtype))
        if answer.cname_chain or (not changes and qname not in self._added_names):
            return answer
        rtype = rdtype.name
        records = list(answer.records)
        for c in changes or ():
            if c.action is ChangeAction.ADD:
                records.append(_record(rtype, c.proposed or ""))
                continue
            kept = [r for r in records if not same_record(rtype, _text(r), c.current or "")]
            if c.action is ChangeAction.REPLACE and len(kept) < len(records):
                kept.append(_record(rtype, c.proposed or ""))
            records = kept
        rcode = Rcode.NOERROR if answer.nxdomain and qname in self._added_names else answer.rcode
        return Answer(qname, rdtype, rcode, tuple(records), (), answer.ttl, answer.provenance)

    async def aclose(self) -> None:
        await self.inner.aclose()
