"""Outbound I/O other than DNS: SMTP and HTTPS probes of the servers a domain names.

Each kind sits behind a protocol (`SmtpProber`, `HttpsFetcher`) with a real implementation,
a caching wrapper for a whole run (one probe per (host, port, address), in-flight probes
shared, at most `ProbeLimits.max_connections_per_address` connections to one address) and a
fake that answers from fixtures. Probes never resolve names: the caller gives the address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import HttpsFetcher, SmtpProber
from .results import CertificateSummary, HttpsFetchResult, SmtpProbeResult, SmtpReply, TlsSession

if TYPE_CHECKING:
    from .cache import AddressLimiter, ProbeCache, ProbeCacheStats
    from .certs import TrustStore
    from .https import CachingHttpsFetcher, HttpxHttpsFetcher
    from .smtp import AsyncSmtpProber, CachingSmtpProber
    from .static import StaticHttpsFetcher, StaticSmtpProber

_LAZY = {
    "AddressLimiter": "cache",
    "ProbeCache": "cache",
    "ProbeCacheStats": "cache",
    "TrustStore": "certs",
    "CachingHttpsFetcher": "https",
    "HttpxHttpsFetcher": "https",
    "AsyncSmtpProber": "smtp",
    "CachingSmtpProber": "smtp",
    "StaticHttpsFetcher": "static",
    "StaticSmtpProber": "static",
}


def __getattr__(name: str) -> object:
    """Implementations load on first use: importing the protocols does not import httpx."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "AddressLimiter",
    "AsyncSmtpProber",
    "CachingHttpsFetcher",
    "CachingSmtpProber",
    "CertificateSummary",
    "HttpsFetchResult",
    "HttpsFetcher",
    "HttpxHttpsFetcher",
    "ProbeCache",
    "ProbeCacheStats",
    "SmtpProbeResult",
    "SmtpProber",
    "SmtpReply",
    "StaticHttpsFetcher",
    "StaticSmtpProber",
    "TlsSession",
    "TrustStore",
]
