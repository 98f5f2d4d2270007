"""The I/O of the starttls check: which (MX host, address) pairs to probe, and the probes.

Probes go through the run's `ProbeSet`, whose caching wrapper probes each (host, port,
address) once per run however many domains share it; `max_connections_per_address` keeps
one connection per address at a time. An address the target rule refuses (loopback,
private, documentation...) or any address under `--no-probes` is recorded as not probed,
with the reason, and never connected to.
"""

from __future__ import annotations

import functools
import ssl
from datetime import UTC, datetime

from ...errors import ProbeError, ProbeTlsHandshakeFailed
from ...model import CheckError, CheckId
from ...probes.targets import refusal_reason
from ..base import CheckContext
from ..concurrent import gather
from ..mx import MxResult
from .result import MxAddressTls, MxHostTls, StarttlsResult

NO_PROBES = "not probed: --no-probes"
_LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")


def mx_targets(mx: MxResult, domain: str) -> list[tuple[str, int, tuple[str, ...]]]:
    """(host, preference, addresses) in preference order, each host once: the MX hosts, or
    the domain itself when it has no MX (the implicit MX of RFC 5321 §5.1). IP-literal
    exchanges and a null MX have nothing to probe (the MX check reports them)."""
    if mx.implicit_mx:
        return [(domain, 0, mx.implicit_addresses)] if mx.implicit_addresses else []
    seen: dict[str, tuple[str, int, tuple[str, ...]]] = {}
    for h in mx.hosts:
        if not h.is_ip_literal and h.host not in seen:
            seen[h.host] = (h.host, h.preference, h.addresses)
    return list(seen.values())


@functools.lru_cache(maxsize=4096)  # a pure function of the text; providers' MX addresses
def _refused_by_default(address: str) -> str | None:  # recur in thousands of domains
    return refusal_reason(address, allow_private=False)


def refused_everywhere(
    mx: MxResult, domain: str
) -> list[tuple[str, int, list[tuple[str, str]]]] | None:
    """(host, preference, [(address, why not probed)]) as `collect_starttls` plans them under
    the default options (probes on, private targets refused) when no address may be probed;
    None when some address would be."""
    plan = []
    for host, preference, addresses in mx_targets(mx, domain):
        entries = []
        for address in addresses:
            why = _refused_by_default(address)
            if why is None:
                return None
            entries.append((address, why))
        plan.append((host, preference, entries))
    return plan


def refused_result(mx: MxResult, domain: str) -> StarttlsResult | None:
    """The facts `collect_starttls` gathers under the default options when every MX address
    is refused by the target rule (nothing is probed); None when some address would be."""
    plan = refused_everywhere(mx, domain)
    if plan is None:
        return None
    return StarttlsResult(
        hosts=tuple(
            MxHostTls(
                host=host,
                preference=preference,
                addresses=tuple(
                    MxAddressTls(host=host, address=a, not_probed=why) for a, why in entries
                ),
            )
            for host, preference, entries in plan
        )
    )


def over_cap_reason(cap: int) -> str:
    return f"not probed: more than {cap} MX addresses for one domain (max_mx_addresses_probed)"


async def collect_starttls(ctx: CheckContext) -> StarttlsResult:
    mx = ctx.result(CheckId.MX, MxResult)
    options = ctx.options.probes
    cap = options.limits.max_mx_addresses_probed
    plan: list[tuple[str, int, list[tuple[str, str | None]]]] = []
    budget = cap
    over = 0
    for host, preference, addresses in mx_targets(mx, ctx.domain):
        entries: list[tuple[str, str | None]] = []
        for address in addresses:
            why = NO_PROBES if not options.enabled else ctx.probes.refusal(address)
            if why is None and budget <= 0:
                why, over = over_cap_reason(cap), over + 1
            elif why is None:
                budget -= 1
            entries.append((address, why))
        plan.append((host, preference, entries))

    probed = any(why is None for _, _, entries in plan for _, why in entries)
    started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    jobs = [
        _address(ctx, host, address, options.smtp_port)
        if why is None
        else _not_probed(host, address, why)
        for host, _, entries in plan
        for address, why in entries
    ]
    results = iter(await gather(jobs))
    hosts = tuple(
        MxHostTls(
            host=host,
            preference=preference,
            addresses=tuple(next(results) for _ in entries),
        )
        for host, preference, entries in plan
    )
    return StarttlsResult(
        hosts=hosts,
        probes_enabled=options.enabled,
        port=options.smtp_port,
        addresses_over_cap=over,
        probed_at=started if probed else None,
    )


async def _not_probed(host: str, address: str, why: str) -> MxAddressTls:
    return MxAddressTls(host=host, address=address, not_probed=why)


def _could_not_test(exc: ProbeError) -> CheckError:
    return CheckError(reason=exc.reason, message=f"could not test: {exc}")


async def _address(ctx: CheckContext, host: str, address: str, port: int) -> MxAddressTls:
    try:
        probe = await ctx.probes.smtp.probe(host, address, port)
    except ProbeError as exc:
        return MxAddressTls(host=host, address=address, error=_could_not_test(exc))
    legacy: str | None = None
    unknown: str | None = None
    if probe.tls is not None and probe.tls.version not in _LEGACY_VERSIONS:
        legacy, unknown = await _legacy_tls(ctx, host, address, port)
    return MxAddressTls(
        host=host,
        address=address,
        probe=probe,
        legacy_tls_accepted=legacy,
        legacy_tls_unknown=unknown,
    )


async def _legacy_tls(
    ctx: CheckContext, host: str, address: str, port: int
) -> tuple[str | None, str | None]:
    """(version accepted, None), (None, None) when refused, or (None, why unknown)."""
    legacy = ctx.probes.smtp_legacy
    if legacy is None:
        return None, "no prober for older TLS versions in this run"
    if not _local_openssl_has_legacy():
        return None, "the local OpenSSL cannot offer TLS 1.0 or 1.1"
    try:
        probe = await legacy.probe(host, address, port)
    except ProbeTlsHandshakeFailed:
        return None, None
    except ProbeError as exc:
        return None, f"could not test: {exc}"
    if probe.tls is None:
        return None, "STARTTLS was not offered on the second connection"
    version = probe.tls.version
    return (version, None) if version in _LEGACY_VERSIONS else (None, None)


def _local_openssl_has_legacy() -> bool:
    return bool(getattr(ssl, "HAS_TLSv1_1", False) or getattr(ssl, "HAS_TLSv1", False))
