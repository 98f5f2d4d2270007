"""Collect: one DNSSEC verdict for the domain's MX RRset and for each MX host's addresses."""

from __future__ import annotations

from ...resolver.base import Resolver, RRType
from ..base import CheckContext
from ..concurrent import gather
from ..mx import is_ip_literal
from .chain import expected_ds, explain_bogus
from .lookup import (
    SignedAnswer,
    ede_text,
    implicit_mx_lookup,
    require_validation,
    resolver_label,
    signed_lookup,
)
from .result import DnssecName, DnssecResult, DnssecVerdict


async def _name(
    resolver: Resolver, name: str, role: str, rdtype: RRType
) -> tuple[SignedAnswer, DnssecName]:
    return await _described(
        resolver, name, role, rdtype, await signed_lookup(resolver, name, rdtype)
    )


async def _described(
    resolver: Resolver, name: str, role: str, rdtype: RRType, got: SignedAnswer
) -> tuple[SignedAnswer, DnssecName]:
    bogus = None
    if got.verdict is DnssecVerdict.BOGUS:
        bogus = await explain_bogus(resolver, got.signer, got.answer)
    return got, DnssecName(
        name=name,
        role=role,
        rdtype=rdtype.name,
        verdict=got.verdict,
        signed=got.signed,
        zone=got.signer,
        extended_errors=ede_text(got.extended_errors),
        bogus=bogus,
    )


async def _missing_ds(resolver: Resolver, zone: str) -> str | None:
    keys = await resolver.resolve(zone, RRType.DNSKEY, dnssec_ok=True)
    return expected_ds(zone, keys.rdata())


async def _zone_of_empty_answer(resolver: Resolver, name: str) -> SignedAnswer | None:
    """An empty answer (no MX: NODATA or NXDOMAIN) is signed in its authority section
    (RFC 4035 §3.1.3), which answers do not keep: whether the zone is signed is read from the
    SOA of the closest enclosing name that has one, its apex. At most one query per label of
    `name` (through the run's cache), and only when the answer came without AD."""
    labels = name.rstrip(".").split(".")
    for start in range(len(labels)):
        got = await signed_lookup(resolver, ".".join(labels[start:]), RRType.SOA)
        if got.answer.records or got.verdict is not DnssecVerdict.INSECURE:
            return got
    return None


async def collect_dnssec(ctx: CheckContext) -> DnssecResult:
    """The domain's MX RRset is asked here with DO, not read from the MX check: when it is
    bogus the MX check ends in SERVFAIL, and this is the check that must say why. A domain
    without MX records that has an address is its own MX host (RFC 5321 §5.1), judged as
    one: its address records are the host's (`implicit_mx_lookup`, shared with DANE)."""
    resolver = ctx.validating_resolver
    domain_got, domain_item = await _name(resolver, ctx.domain, "domain", RRType.MX)
    exchanges = sorted(domain_got.answer.mx(), key=lambda r: (r.preference, r.exchange))
    names = [r.exchange for r in exchanges if r.exchange and not is_ip_literal(r.exchange)]
    hosts = list(dict.fromkeys(names))[: ctx.options.limits.max_mx_hosts]
    pairs = [(domain_got, domain_item)]
    pairs += await gather([_name(resolver, host, "mx", RRType.A) for host in hosts])
    implicit = await implicit_mx_lookup(resolver, ctx.domain, domain_got)
    if implicit is not None:
        rdtype, got = implicit
        pairs.append(await _described(resolver, ctx.domain, "mx", rdtype, got))
    evidence = [got for got, _ in pairs]
    if domain_got.verdict is DnssecVerdict.INSECURE and domain_got.answer.empty:
        # without this a signed domain without MX, asked through a resolver that does not
        # validate, would pass for insecure: signatures present, AD never set
        apex = await _zone_of_empty_answer(resolver, ctx.domain)
        if apex is not None and apex.signed:
            evidence.append(apex)
            if apex.verdict is DnssecVerdict.INSECURE:
                domain_item = DnssecName(
                    **{**vars(domain_item), "signed": True, "zone": apex.signer}
                )
                pairs[0] = (domain_got, domain_item)
    validates = await require_validation(ctx, evidence)
    items = []
    zones: dict[str, str | None] = {}
    for _, item in pairs:
        if item.verdict is DnssecVerdict.INSECURE and item.signed and item.zone is not None:
            if item.zone not in zones:  # a signed island: the DS the parent lacks
                zones[item.zone] = await _missing_ds(resolver, item.zone)
            item = DnssecName(**{**vars(item), "expected_ds": zones[item.zone]})
        items.append(item)
    return DnssecResult(
        resolver=resolver_label(ctx), names=tuple(items), resolver_validates=validates
    )
