"""mx_identity: who each MX address says it is, and whether DNS agrees.

For every MX address the target rule lets us look at: the PTR names (RFC 1912 §2.1), whether
one resolves back to the address (forward-confirmed reverse DNS), and, from the starttls
probe when it ran, whether the banner or EHLO name is the MX name or the PTR name, and
whether an IPv6 address answers where the host's IPv4 address does. DNS-only in `collect`,
so it runs under --no-probes; the banner and IPv6 parts come from the starttls outcome
(`evaluate_after`) and are left out when that check did not probe.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import OutsideZoneFile, ResolverError
from ...findings import mx_identity as F
from ...model import CheckError, CheckId, CheckOutcome, ErrorReason, Finding
from ...resolver.base import RRType
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from ..concurrent import gather
from ..mx import MxResult
from ..starttls.collect import mx_targets, over_cap_reason, refused_everywhere
from ..starttls.result import StarttlsResult
from .result import MxAddressIdentity, MxIdentityResult


@dataclass(frozen=True)
class _Reverse:
    names: tuple[str, ...]
    confirmed: str | None


async def _reverse(ctx: CheckContext, address: str) -> _Reverse:
    ip = ipaddress.ip_address(address)
    answer = await ctx.resolver.resolve(ip.reverse_pointer, RRType.PTR)
    names = tuple(dict.fromkeys(n.rstrip(".").lower() for n in answer.texts()))
    rtype = RRType.A if ip.version == 4 else RRType.AAAA
    for name in names[: ctx.options.limits.max_ptr_names_confirmed]:
        forward = await ctx.resolver.resolve(name, rtype)
        if any(_same(t, ip) for t in forward.texts()):
            return _Reverse(names, name)
    return _Reverse(names, None)


def _same(text: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


async def _identity(ctx: CheckContext, host: str, address: str) -> MxAddressIdentity:
    reverse_name = ipaddress.ip_address(address).reverse_pointer
    try:
        found: _Reverse = await ctx.memo.get_or_compute(
            "mx_identity.reverse", address, functools.partial(_reverse, ctx, address)
        )
    except OutsideZoneFile:
        # a draft audit (--zone-file) holds the domain's zone, not the address owner's
        # reverse zone: nothing to judge, and nothing that could not be answered either
        why = "not checked: the reverse zone is outside the zone file(s)"
        return MxAddressIdentity(host, address, reverse_name, not_checked=why)
    except ResolverError as exc:
        error = CheckError(reason=exc.reason, message=f"could not check: {exc}")
        return MxAddressIdentity(host, address, reverse_name, error=error)
    return MxAddressIdentity(host, address, reverse_name, found.names, found.confirmed)


async def _skip(host: str, address: str, why: str) -> MxAddressIdentity:
    return _skipped(host, address, why)


def _skipped(host: str, address: str, why: str) -> MxAddressIdentity:
    return MxAddressIdentity(host, address, _reverse_name(address), not_checked=why)


@functools.lru_cache(maxsize=4096)  # a pure function of the text; providers' MX addresses
def _reverse_name(address: str) -> str:  # recur in thousands of domains
    try:
        return ipaddress.ip_address(address).reverse_pointer
    except ValueError:
        return ""


class MxIdentityCheck(Check[MxIdentityResult]):
    """Reverse DNS, forward confirmation, banner name and IPv6 of every MX address
    (RFC 1912 §2.1, RFC 5321 §4.1.1.1, RFC 3974 §3)."""

    id = CheckId.MX_IDENTITY
    title = "MX identity (reverse DNS, server name, IPv6)"
    result_type = MxIdentityResult
    catalogue = catalogue_of(F)
    depends_on = (CheckId.MX,)
    evaluate_after = (CheckId.STARTTLS,)
    standard = "RFC 1912, RFC 5321"
    judges_facts_only = True  # evaluate reads no options

    async def collect(self, ctx: CheckContext) -> MxIdentityResult:
        mx = ctx.result(CheckId.MX, MxResult)
        cap = ctx.options.probes.limits.max_mx_addresses_probed
        jobs = []
        for host, _, addresses in mx_targets(mx, ctx.domain):
            for address in addresses:
                why = ctx.probes.refusal(address)
                if why is None and cap <= 0:
                    why = over_cap_reason(ctx.options.probes.limits.max_mx_addresses_probed)
                elif why is None:
                    cap -= 1
                why = why.replace("not probed", "not checked", 1) if why else None
                jobs.append(
                    _identity(ctx, host, address) if why is None else _skip(host, address, why)
                )
        return MxIdentityResult(tuple(await gather(jobs)))

    def not_judged(self, facts: MxIdentityResult) -> CheckError | str | None:
        checked = [a for a in facts.addresses if a.not_checked is None]
        if not facts.addresses:
            return "no MX address to look up"
        if not checked:
            reasons = list(dict.fromkeys(a.not_checked or "" for a in facts.addresses))
            return "; ".join(reasons[:3])
        if all(a.error is not None for a in checked):
            first = checked[0].error
            assert first is not None
            return first
        return None

    def evaluate(self, facts: MxIdentityResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_identity(facts, ctx.outcomes.get(CheckId.STARTTLS))

    @classmethod
    def skipped_by_rule(
        cls, domain: str, outcomes: Mapping[CheckId, CheckOutcome]
    ) -> tuple[Any, str] | None:
        mx = outcomes.get(CheckId.MX)
        if mx is None or not isinstance(mx.result, MxResult):
            return None
        plan = refused_everywhere(mx.result, domain)
        if plan is None:
            return None
        facts = MxIdentityResult(
            tuple(
                _skipped(host, address, why.replace("not probed", "not checked", 1))
                for host, _, entries in plan
                for address, why in entries
            )
        )
        why = cls().not_judged(facts)
        return (facts, why) if isinstance(why, str) else None

    @classmethod
    def summary(cls, result: MxIdentityResult | None) -> str:
        checked = [a for a in (result.addresses if result else ()) if a.not_checked is None]
        if not checked:
            return "no MX address checked"
        ptr = sum(1 for a in checked if a.ptr_names)
        confirmed = sum(1 for a in checked if a.forward_confirmed)
        return f"PTR on {ptr} of {len(checked)} MX address(es), {confirmed} forward-confirmed"


def _greeting_name(text: str) -> str:
    return text.split(" ", 1)[0].strip().rstrip(".").lower() if text else ""


def evaluate_identity(facts: MxIdentityResult, starttls: CheckOutcome | None) -> list[Finding]:
    findings: list[Finding] = []
    checked = [a for a in facts.addresses if a.not_checked is None and a.error is None]
    no_ptr = [a for a in checked if not a.ptr_names]
    if no_ptr:
        first = no_ptr[0]
        findings.append(
            F.NO_PTR(
                addresses=", ".join(f"{a.host} [{a.address}]" for a in no_ptr[:6]),
                reverse=first.reverse_name,
                host=first.host,
                evidence=tuple(f"{a.reverse_name}: no PTR" for a in no_ptr),
            )
        )
    unconfirmed = [a for a in checked if a.ptr_names and not a.forward_confirmed]
    if unconfirmed:
        first = unconfirmed[0]
        version = ipaddress.ip_address(first.address).version
        findings.append(
            F.NOT_CONFIRMED(
                addresses=", ".join(f"{a.host} [{a.address}]" for a in unconfirmed[:6]),
                pairs="; ".join(f"{a.address} -> {a.ptr_names[0]}" for a in unconfirmed[:6]),
                ptr=first.ptr_names[0],
                rtype="A" if version == 4 else "AAAA",
                address=first.address,
                evidence=tuple(f"{a.address} PTR {' '.join(a.ptr_names)}" for a in unconfirmed),
            )
        )
    tls = starttls.result if starttls is not None else None
    if isinstance(tls, StarttlsResult):
        findings += _banner_findings(facts, tls)
        findings += _ipv6_findings(tls)
    return findings


def _banner_findings(facts: MxIdentityResult, tls: StarttlsResult) -> list[Finding]:
    ptrs = {(a.host, a.address): set(a.ptr_names) for a in facts.addresses}
    odd: list[tuple[str, str, str]] = []
    for host in tls.hosts:
        for a in host.addresses:
            if a.probe is None:
                continue
            names = {_greeting_name(a.probe.banner.lines[0] if a.probe.banner.lines else "")}
            names.add(_greeting_name(a.probe.ehlo_greeting))
            names.discard("")
            known = {a.host} | ptrs.get((a.host, a.address), set())
            if names and not names & known:
                odd.append((a.host, a.address, ", ".join(sorted(names))))
    if not odd:
        return []
    pairs = "; ".join(f"{h} [{addr}] calls itself {n}" for h, addr, n in odd[:6])
    return [
        F.BANNER_MISMATCH(
            pairs=pairs,
            host=odd[0][0],
            evidence=tuple(f"{h} [{addr}]: {n}" for h, addr, n in odd),
        )
    ]


_UNREACHABLE = (ErrorReason.CONNECTION_REFUSED, ErrorReason.PROBE_TIMEOUT)


def _ipv6_findings(tls: StarttlsResult) -> list[Finding]:
    dead: list[tuple[str, str, str]] = []
    for host in tls.hosts:
        v4_answered = any(
            a.probe is not None and ipaddress.ip_address(a.address).version == 4
            for a in host.addresses
        )
        for a in host.addresses:
            if (
                v4_answered
                and a.error is not None
                and a.error.reason in _UNREACHABLE
                and ipaddress.ip_address(a.address).version == 6
            ):
                dead.append((host.host, a.address, a.error.reason.value))
    if not dead:
        return []
    return [
        F.IPV6_UNREACHABLE(
            addresses=", ".join(f"{h} [{addr}]" for h, addr, _ in dead[:6]),
            reasons=", ".join(sorted({r for _, _, r in dead})),
            port=tls.port,
            host=dead[0][0],
            evidence=tuple(f"{h} [{addr}]: {r}" for h, addr, r in dead),
        )
    ]
