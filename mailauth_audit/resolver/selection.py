"""The resolver a command's source options ask for: zone file(s), the zones' own servers, or
(None) the run's usual resolver from `make_resolver`.

Kept apart from `factory.py` (nameserver parsing, the default resolver) so that each source
option is handled in one place for `check` and `bulk` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigurationError
from ..options import AuditOptions
from .authoritative import DNS_PORT, AuthoritativeResolver
from .base import Resolver
from .caching import CachingResolver
from .factory import make_resolver, parse_nameserver
from .wire import WireResolver
from .zonefiles import ZoneFileResolver, ZoneSet, load_zone_files

__all__ = ["load_zones", "source_resolver", "zone_file_resolver"]


def load_zones(
    options: AuditOptions, zone_files: Sequence[str | Path], origin: str | None
) -> ZoneSet | None:
    """The zone files, loaded and checked (ConfigurationError for anything wrong)."""
    if not zone_files:
        if origin is not None:
            raise ConfigurationError("--origin applies to --zone-file only")
        return None
    return load_zone_files(zone_files, origin=origin, max_bytes=options.limits.max_zone_file_bytes)


def zone_file_resolver(
    zones: ZoneSet,
    options: AuditOptions,
    *,
    authoritative: bool = False,
    authoritative_port: int = DNS_PORT,
) -> ZoneFileResolver:
    """Answers from `zones`; names outside them asked of --nameserver when one is given."""
    outside: Resolver | None = None
    if options.nameservers:
        servers = [parse_nameserver(s) for s in options.nameservers]
        outside = CachingResolver(WireResolver(servers, limits=options.limits))
        if authoritative:
            outside = AuthoritativeResolver(outside, limits=options.limits, port=authoritative_port)
    return ZoneFileResolver(zones, outside)


def source_resolver(
    options: AuditOptions,
    *,
    zone_files: Sequence[str | Path] = (),
    origin: str | None = None,
    authoritative: bool = False,
    authoritative_port: int = DNS_PORT,
) -> Resolver | None:
    """None when the options ask for nothing special (the Auditor makes its own). The
    caller closes what it gets (`await resolver.aclose()`)."""
    zones = load_zones(options, zone_files, origin)
    if zones is not None:
        return zone_file_resolver(
            zones, options, authoritative=authoritative, authoritative_port=authoritative_port
        )
    if authoritative:
        return AuthoritativeResolver(
            make_resolver(options), limits=options.limits, port=authoritative_port
        )
    return None
