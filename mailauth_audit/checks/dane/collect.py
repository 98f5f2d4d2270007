"""Collect: each MX host's TLSA RRset with its DNSSEC verdict, and, where secure usable
records are published, the chain each address presents after STARTTLS.

The chain comes from the run's SMTP prober (`ctx.probes.smtp`), whose run-wide cache also
serves the starttls check: an address is connected to once however many checks read it.
"""

from __future__ import annotations

from ...errors import ProbeError, ProbeTlsHandshakeFailed
from ...model import CheckError
from ...records.tlsa import TlsaRecord
from ...resolver.base import RRType
from ..base import CheckContext
from ..concurrent import gather
from ..dnssec.lookup import (
    SignedAnswer,
    ede_text,
    implicit_mx_lookup,
    require_validation,
    signed_lookup,
)
from ..dnssec.result import DnssecVerdict
from ..mx import is_ip_literal
from .match import match_address, read_records
from .result import DaneAddress, DaneHost, DaneResult


async def _probe(
    ctx: CheckContext, host: str, address: str, records: list[TlsaRecord], port: int
) -> DaneAddress:
    why = ctx.probes.refusal(address)
    if why is not None:
        return DaneAddress(address=address, not_probed=why)
    try:
        probe = await ctx.probes.smtp.probe(host, address, port)
    except ProbeTlsHandshakeFailed as exc:
        return DaneAddress(address=address, tls=False, no_tls_reason=f"TLS handshake failed: {exc}")
    except ProbeError as exc:
        return DaneAddress(address=address, error=CheckError(exc.reason, f"could not check: {exc}"))
    if probe.tls is None:
        if not probe.starttls_offered:
            reason = "it does not offer STARTTLS"
        else:
            reply = probe.starttls_reply
            reason = f"STARTTLS was answered {reply.code if reply else 'with nothing'}"
        return DaneAddress(address=address, tls=False, no_tls_reason=reason)
    return match_address(
        address,
        records,
        probe.tls.chain_der,
        probe.tls.hostname_matches,
        max_certificates=ctx.options.probes.limits.max_chain_certificates,
    )


async def _host(
    ctx: CheckContext, host: str, addresses: tuple[str, ...], got: SignedAnswer
) -> DaneHost:
    limit = ctx.options.limits.max_tlsa_records
    wire = [r.to_digestable() for r in got.answer.rdata() if r.rdtype == RRType.TLSA]
    parsed, unreadable = read_records(wire[:limit])
    base = DaneHost(
        host=host,
        tlsa_name=f"_25._tcp.{host}",
        verdict=got.verdict,
        records=tuple(r.to_text() for r in parsed),
        unreadable=tuple(unreadable),
        records_not_checked=max(0, len(wire) - limit),
        extended_errors=ede_text(got.extended_errors),
    )
    usable = [r for r in parsed if r.smtp_usable]
    probes = ctx.options.probes
    if got.verdict is not DnssecVerdict.SECURE or not usable or not probes.enabled:
        return base
    port = probes.smtp_port
    checked = await gather([_probe(ctx, host, a, usable, port) for a in addresses])
    return DaneHost(**{**vars(base), "addresses": tuple(checked)})


async def _addresses(ctx: CheckContext, host: str) -> tuple[str, ...]:
    """The host's addresses, as DANE senders find them: a bogus answer gives none."""
    resolver = ctx.validating_resolver
    found: list[str] = []
    for rdtype in (RRType.A, RRType.AAAA):
        got = await signed_lookup(resolver, host, rdtype)
        if got.verdict is not DnssecVerdict.BOGUS:
            found += got.answer.texts()
    return tuple(found)


async def collect_dane(ctx: CheckContext) -> DaneResult:
    """The MX hosts come from the domain's own MX answer (with DO, as the DNSSEC check asks
    it: one cached question), not from the MX check: an MX host whose address lookup is
    bogus ends the MX check in SERVFAIL, and its TLSA is exactly what must be judged. A domain
    without MX records that has an address is its own MX host (RFC 5321 §5.1): its TLSA is
    at `_25._tcp.<domain>` (RFC 7672 §2.2.1); a null MX (RFC 7505) has no host at all."""
    resolver = ctx.validating_resolver
    mx = await signed_lookup(resolver, ctx.domain, RRType.MX)
    exchanges = sorted(mx.answer.mx(), key=lambda r: (r.preference, r.exchange))
    names = [r.exchange for r in exchanges if r.exchange and not is_ip_literal(r.exchange)]
    hosts = list(dict.fromkeys(names))[: ctx.options.limits.max_mx_hosts]
    if not hosts and await implicit_mx_lookup(resolver, ctx.domain, mx) is not None:
        hosts = [ctx.domain]
    answers: list[SignedAnswer] = await gather(
        [signed_lookup(resolver, f"_25._tcp.{host}", RRType.TLSA) for host in hosts]
    )
    if any(a.answer.records for a in answers):
        await require_validation(ctx, [mx, *answers])
    addresses = await gather(
        [
            _addresses(ctx, host)
            for host, got in zip(hosts, answers, strict=True)
            if got.verdict is DnssecVerdict.SECURE and got.answer.records
        ]
    )
    per_host = iter(addresses)
    found = await gather(
        [
            _host(
                ctx,
                host,
                next(per_host)
                if got.verdict is DnssecVerdict.SECURE and got.answer.records
                else (),
                got,
            )
            for host, got in zip(hosts, answers, strict=True)
        ]
    )
    return DaneResult(
        hosts=tuple(found),
        probes_enabled=ctx.options.probes.enabled,
        port=ctx.options.probes.smtp_port,
    )
