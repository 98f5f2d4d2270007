"""What a result in a format-5 line leaves out because the line's domain or the result's other
fields give it (format 4's rules, `slim_rules.py`, still apply on top).

The rules, each applied only where it holds (elsewhere the value is written, even an empty
one: absent means the rule's value):

- SPF and DMARC result `domain`: the line's domain
- DMARC `organizational_domain`, `psl_organizational_domain`: the result's domain
- DMARC `lookups[i].name`: `discovery_path[i]`
- DANE `hosts[].tlsa_name`: `_25._tcp.<host>` (RFC 7672 §2.2)
- MTA-STS `txt_name`: `_mta-sts.<domain>`; TLS-RPT `txt_name`: `_smtp._tls.<domain>`
- DKIM `selector_lists[].selectors`: for the "date" list, the date-style names of the
  result's `audit_date` (when it has one); for the "default" list, the built-in list
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..model import CheckId
from ..options import DEFAULT_DKIM_SELECTORS, dkim_date_selectors, fact_date
from .slim_rules import put

__all__ = ["result_in", "result_out"]


def _dmarc_out(result: Any, out: dict[str, Any], domain: str) -> None:
    put(out, "domain", result.domain, domain)
    put(out, "organizational_domain", result.organizational_domain, result.domain)
    put(out, "psl_organizational_domain", result.psl_organizational_domain, result.domain)
    written = out.get("lookups")
    if type(written) is list:
        path = result.discovery_path
        for i, (lookup, doc) in enumerate(zip(result.lookups, written, strict=True)):
            if type(doc) is dict:
                put(doc, "name", lookup.name, path[i] if i < len(path) else None)


def _dmarc_in(doc: dict[str, Any], domain: str) -> None:
    doc.setdefault("domain", domain)
    for name in ("organizational_domain", "psl_organizational_domain"):
        doc.setdefault(name, doc["domain"])
    path, lookups = doc.get("discovery_path"), doc.get("lookups")
    if type(lookups) is list:
        path = path if type(path) is list else []
        doc["lookups"] = [
            {"name": path[i], **x} if type(x) is dict and "name" not in x and i < len(path) else x
            for i, x in enumerate(lookups)
        ]


def _dane_out(result: Any, out: dict[str, Any], domain: str) -> None:
    written = out.get("hosts")
    if type(written) is list:
        for host, doc in zip(result.hosts, written, strict=True):
            if type(doc) is dict:
                put(doc, "tlsa_name", host.tlsa_name, f"_25._tcp.{host.host}")


def _dane_in(doc: dict[str, Any], domain: str) -> None:
    hosts = doc.get("hosts")
    if type(hosts) is list:
        doc["hosts"] = [
            {**h, "tlsa_name": f"_25._tcp.{h['host']}"}
            if type(h) is dict and "tlsa_name" not in h and type(h.get("host")) is str
            else h
            for h in hosts
        ]


def _dkim_lists(audit_date: Any) -> Mapping[str, tuple[str, ...]]:
    """The names each rule-given selector list holds, by source."""
    return _lists_of(audit_date if type(audit_date) is str else None)


@functools.lru_cache(maxsize=64)  # one audit date per run: computed once, not per domain
def _lists_of(audit_date: str | None) -> Mapping[str, tuple[str, ...]]:
    lists = {"default": DEFAULT_DKIM_SELECTORS}
    if audit_date:
        with contextlib.suppress(ValueError):  # a damaged date: reading the line fails
            lists["date"] = dkim_date_selectors(fact_date(audit_date))
    return MappingProxyType(lists)


def _dkim_out(result: Any, out: dict[str, Any], domain: str) -> None:
    written = out.get("selector_lists")
    if type(written) is list:
        lists = _dkim_lists(result.audit_date)
        for entry, doc in zip(result.selector_lists, written, strict=True):
            if type(doc) is dict:
                put(doc, "selectors", entry.selectors, lists.get(entry.source._value_))


def _dkim_in(doc: dict[str, Any], domain: str) -> None:
    written = doc.get("selector_lists")
    if type(written) is list:
        lists = _dkim_lists(doc.get("audit_date"))
        doc["selector_lists"] = [
            {**x, "selectors": list(lists[x["source"]])}
            if type(x) is dict and "selectors" not in x and str(x.get("source")) in lists
            else x
            for x in written
        ]


def _txt_name(prefix: str) -> tuple[Any, Any]:
    def out(result: Any, doc: dict[str, Any], domain: str) -> None:
        put(doc, "txt_name", result.txt_name, prefix + domain)

    def into(doc: dict[str, Any], domain: str) -> None:
        doc.setdefault("txt_name", prefix + domain)

    return out, into


def _domain_out(result: Any, out: dict[str, Any], domain: str) -> None:
    put(out, "domain", result.domain, domain)


def _domain_in(doc: dict[str, Any], domain: str) -> None:
    doc.setdefault("domain", domain)


_MTA_STS, _TLS_RPT = _txt_name("_mta-sts."), _txt_name("_smtp._tls.")
_OUT = {
    CheckId.SPF: _domain_out,
    CheckId.DKIM: _dkim_out,
    CheckId.DMARC: _dmarc_out,
    CheckId.DANE: _dane_out,
    CheckId.MTA_STS: _MTA_STS[0],
    CheckId.TLS_RPT: _TLS_RPT[0],
}
_IN = {
    CheckId.SPF: _domain_in,
    CheckId.DKIM: _dkim_in,
    CheckId.DMARC: _dmarc_in,
    CheckId.DANE: _dane_in,
    CheckId.MTA_STS: _MTA_STS[1],
    CheckId.TLS_RPT: _TLS_RPT[1],
}


def result_out(cid: CheckId, result: Any, out: dict[str, Any], domain: str) -> None:
    """Take out of `out` (the slim form of `result`) what the rules give."""
    rule = _OUT.get(cid)
    if rule is not None:
        rule(result, out, domain)


def result_in(cid: CheckId, doc: Any, domain: str) -> Any:
    """The format-5 result `doc` (plain JSON) with what the rules give put back."""
    rule = _IN.get(cid)
    if rule is None or type(doc) is not dict:
        return doc
    out = dict(doc)
    rule(out, domain)
    return out
