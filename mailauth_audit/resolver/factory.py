"""The resolver a real run uses, built from `AuditOptions`: a run-wide cache over the wire.

Nameservers must be IP literals: resolving a nameserver's own name would need the very DNS
we are configuring, and would hide a typo behind a lookup. Without `--nameserver` the
system's /etc/resolv.conf servers are used.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ..errors import ConfigurationError
from ..options import AuditOptions
from .base import Resolver
from .caching import CachingResolver
from .wire import WireResolver

__all__ = [
    "RESOLV_CONF",
    "make_dnssec_resolver",
    "make_resolver",
    "parse_nameserver",
    "system_nameservers",
]

RESOLV_CONF = Path("/etc/resolv.conf")
DNS_PORT = 53


def _ip(text: str, spec: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ConfigurationError(
            f"invalid nameserver {spec!r}: expected an IP address as HOST, HOST:PORT, "
            "HOST#PORT, [IPV6]:PORT or IPV6"
        ) from None


def _port(text: str, spec: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigurationError(f"invalid nameserver {spec!r}: port must be 1-65535")
    return int(text)


def parse_nameserver(spec: str) -> tuple[str, int]:
    """Spec "HOST", "HOST:PORT", "[IPV6]:PORT", "[IPV6]" or a bare IPv6 -> (ip, port).

    "HOST#PORT" (IPv4 or IPv6, as dig, kdig and unbound write it) is accepted as well: it
    needs no brackets around an IPv6 address."""
    text = spec.strip()
    if not text:
        raise ConfigurationError("invalid nameserver '': empty")
    if "#" in text:
        host, _, port = text.rpartition("#")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            raise ConfigurationError(f"invalid nameserver {spec!r}: no address before '#'")
        return _ip(host, spec), _port(port, spec)
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ConfigurationError(f"invalid nameserver {spec!r}: missing ']'")
        host, rest = text[1:close], text[close + 1 :]
        if ":" not in host:
            raise ConfigurationError(f"invalid nameserver {spec!r}: brackets are for IPv6")
        if not rest:
            return _ip(host, spec), DNS_PORT
        if not rest.startswith(":"):
            raise ConfigurationError(f"invalid nameserver {spec!r}: expected ':PORT' after ']'")
        return _ip(host, spec), _port(rest[1:], spec)
    if text.count(":") == 1:
        host, port = text.split(":")
        return _ip(host, spec), _port(port, spec)
    return _ip(text, spec), DNS_PORT


def system_nameservers(path: str | Path = RESOLV_CONF) -> list[tuple[str, int]]:
    """The `nameserver` lines of resolv.conf; ConfigurationError when there are none."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigurationError(
            f"no nameserver given and cannot read {path}: {exc.strerror}; "
            "pass --nameserver HOST[:PORT]"
        ) from None
    servers: list[tuple[str, int]] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                servers.append((str(ipaddress.ip_address(fields[1])), DNS_PORT))
            except ValueError:
                continue  # glibc skips what it cannot parse, and so do we
    if not servers:
        raise ConfigurationError(
            f"no nameserver given and none in {path}; pass --nameserver HOST[:PORT]"
        )
    return servers


def make_resolver(options: AuditOptions, *, resolv_conf: str | Path = RESOLV_CONF) -> Resolver:
    """CachingResolver(WireResolver(servers)) for a run; servers from options or the system."""
    if options.nameservers:
        servers = [parse_nameserver(s) for s in options.nameservers]
    else:
        servers = system_nameservers(resolv_conf)
    return CachingResolver(
        WireResolver(servers, limits=options.limits),
        max_entries=options.limits.max_cache_entries,
    )


def make_dnssec_resolver(options: AuditOptions) -> Resolver | None:
    """--dnssec-resolver: a cache over the validating resolver(s) DNSSEC verdicts are read
    from; None when none is named (the audit's own resolver is asked)."""
    specs = options.probes.dnssec_resolvers
    if not specs:
        return None
    servers = [parse_nameserver(s) for s in specs]
    return CachingResolver(
        WireResolver(servers, limits=options.limits),
        max_entries=options.limits.max_cache_entries,
    )
