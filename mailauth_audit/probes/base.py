"""The two probe protocols. Checks see only these; the real probers, the caching wrappers
and the fixture-driven fakes all satisfy them.

A probe connects to the address it is given: turning a host name into addresses is the
caller's job, through the audit's resolver, so that every DNS question of a run goes
through one cache and one set of limits. The host name is still passed, for SNI, the HTTP
Host header, the certificate name check and the cache key.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol, runtime_checkable

from .results import HttpsFetchResult, SmtpProbeResult

__all__ = ["HttpsFetcher", "SmtpProber", "check_target", "split_content_type"]


@runtime_checkable
class SmtpProber(Protocol):
    async def probe(self, host: str, address: str, port: int = 25) -> SmtpProbeResult:
        """Greeting, EHLO, STARTTLS when offered, the TLS facts; raises a `ProbeError`
        when the server could not be tested."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class HttpsFetcher(Protocol):
    async def fetch(self, host: str, address: str, path: str, port: int = 443) -> HttpsFetchResult:
        """One GET of https://host:port/path sent to `address`; any HTTP status is a result,
        a failure to get one is a `ProbeError`."""
        ...

    async def aclose(self) -> None: ...


def check_target(host: str, address: str, port: int) -> str:
    """The address in canonical text, after refusing what a probe must never do: resolve a
    name itself (`address` must be an IP literal), or go to a nonsense port."""
    if not host or any(c.isspace() for c in host) or len(host) > 253:
        raise ValueError(f"not a host name: {host!r}")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"not a port: {port!r}")
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        raise ValueError(f"a probe needs an IP address, not {address!r}") from None


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset), both lower-cased; (None, None) without a header."""
    if value is None:
        return None, None
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip('"').lower() or None
    return media.strip().lower() or None, charset
