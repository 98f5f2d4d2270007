"""Both tools over the same zone on loopback, reduced to the same few facts per domain.

checkdmarc answers in dicts of English strings; mailauth-audit in typed results and finding
codes. `Verdict` is what both can say: is the SPF record usable (RFC 7208: no permerror), how
many DNS lookups it costs (§4.6.4), is there a DMARC record that applies, where, with which
`p`. `differences()` lists where the two verdicts part, as hashable rows the test compares
with its triaged table.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.model import CheckId, DomainReport
from mailauth_audit.options import AuditOptions

# Findings that mean check_host() would return permerror (RFC 7208 §2.6.7): the record is not
# usable, which is what checkdmarc's `valid: False` says about a record it found.
SPF_PERMERROR_CODES = frozenset(
    {
        "spf.syntax_error",
        "spf.multiple_records",
        "spf.lookup_limit_exceeded",
        "spf.void_lookup_limit_exceeded",
        "spf.include_loop",
        "spf.include_missing_record",
        "spf.include_multiple_records",
        "spf.include_syntax_error",
        "spf.mx_too_many_names",
    }
)


@dataclass(frozen=True)
class Verdict:
    """One tool's answer for one domain, in terms both tools can give."""

    spf_valid: bool  # an SPF record exists and evaluating it gives no permerror
    spf_lookups: int | None  # §4.6.4 lookups; None when the tool gives no count
    dmarc_valid: bool  # a DMARC policy applies to the domain (its own record or a parent's)
    dmarc_location: str | None  # with dmarc_valid: the domain publishing that record
    dmarc_policy: str | None  # with dmarc_valid: its p, RFC 7489 §6.6.3's p=none default applied


# Compared only where both tools give them: checkdmarc gives no lookup count for a record it
# stopped on (a syntax error, a missing include), and no location or policy for a record it
# calls invalid, so those rows would only repeat the disagreement on validity.
_ONLY_WHERE_BOTH = {
    "spf_lookups": "spf_lookups",
    "dmarc_location": "dmarc_valid",
    "dmarc_policy": "dmarc_valid",
}


Difference = tuple[str, str, str, str]  # (domain, field, ours, checkdmarc's), values as repr


def differences(ours: dict[str, Verdict], theirs: dict[str, Verdict]) -> set[Difference]:
    out: set[Difference] = set()
    for domain, mine in ours.items():
        other = theirs[domain]
        for f in fields(Verdict):
            a, b = getattr(mine, f.name), getattr(other, f.name)
            guard = _ONLY_WHERE_BOTH.get(f.name)
            if guard and not (getattr(mine, guard) and getattr(other, guard)):
                continue
            if a != b:
                out.add((domain, f.name, repr(a), repr(b)))
    return out


# --- mailauth-audit --------------------------------------------------------------------------


def _our_verdict(report: DomainReport) -> Verdict:
    spf, dmarc = report.checks[CheckId.SPF], report.checks[CheckId.DMARC]
    assert spf.result is not None and dmarc.result is not None, (report.domain, spf, dmarc)
    codes = {f.code for f in spf.findings}
    facts = dmarc.result
    applies = facts.effective_policy is not None
    policy = facts.policy
    if policy is None and facts.effective_policy_source == "default":
        policy = "none"  # no valid p, but a valid rua: RFC 7489 §6.6.3, RFC 9989 §4.10.1
    return Verdict(
        spf_valid=spf.result.record is not None and not codes & SPF_PERMERROR_CODES,
        spf_lookups=spf.result.dns_lookups if spf.result.record is not None else None,
        dmarc_valid=applies,
        dmarc_location=facts.policy_domain if applies else None,
        dmarc_policy=policy if applies else None,
    )


def ours(domains: Sequence[str], host: str, port: int) -> dict[str, Verdict]:
    options = AuditOptions(
        checks=frozenset({CheckId.SPF, CheckId.DMARC}), nameservers=(f"{host}:{port}",)
    )
    run = asyncio.run(audit_domains(domains, options))
    return {r.domain: _our_verdict(r) for r in run.domains}


# --- checkdmarc ------------------------------------------------------------------------------


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse (and list) every connection or datagram to an address off 127.0.0.0/8 and ::1
    while checkdmarc runs: it is pointed at our server, and this proves it stays there."""
    refused: list[str] = []
    original = {name: getattr(socket.socket, name) for name in ("connect", "sendto")}

    def loopback(address: Any) -> bool:
        try:
            return ipaddress.ip_address(address[0]).is_loopback
        except (TypeError, ValueError, IndexError):
            return False

    def connect(self: socket.socket, address: Any) -> Any:
        if not loopback(address):
            refused.append(f"connect {address}")
            raise OSError("the oracle test allows loopback only")
        return original["connect"](self, address)

    def sendto(self: socket.socket, data: bytes, *args: Any) -> Any:
        if not loopback(args[-1]):
            refused.append(f"sendto {args[-1]}")
            raise OSError("the oracle test allows loopback only")
        return original["sendto"](self, data, *args)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    try:
        yield refused
    finally:
        socket.socket.connect = original["connect"]  # type: ignore[method-assign]
        socket.socket.sendto = original["sendto"]  # type: ignore[method-assign]


def _their_verdict(spf: dict[str, Any], dmarc: dict[str, Any]) -> Verdict:
    valid = bool(dmarc.get("valid"))
    policy = (dmarc.get("tags") or {}).get("p", {}).get("value") if valid else None
    return Verdict(
        spf_valid=bool(spf.get("valid")) and spf.get("record") is not None,
        spf_lookups=spf.get("dns_lookups") if spf.get("record") is not None else None,
        dmarc_valid=valid,
        dmarc_location=dmarc.get("location") if valid else None,
        dmarc_policy=policy,
    )


def theirs(domains: Sequence[str], host: str, port: int) -> dict[str, Verdict]:
    import checkdmarc.dmarc
    import checkdmarc.spf
    import checkdmarc.utils
    import dns.nameserver

    # checkdmarc takes only addresses (port 53) as strings, but passes dnspython Nameserver
    # objects through untouched: that is how it reaches nsd on its own port
    nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    checkdmarc.utils.DNS_CACHE.clear()  # module-wide, keyed by name: not another zone's
    out = {}
    with loopback_only() as refused:
        for domain in domains:
            kw: dict[str, Any] = {"nameservers": nameservers, "timeout": 5.0, "retries": 1}
            spf = checkdmarc.spf.check_spf(domain, **kw)
            dmarc = checkdmarc.dmarc.check_dmarc(domain, **kw)
            out[domain] = _their_verdict(spf, dict(dmarc))
    assert refused == [], f"checkdmarc tried to leave loopback: {refused[:5]}"
    return out
