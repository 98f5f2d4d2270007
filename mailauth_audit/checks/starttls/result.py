"""What the starttls check saw at each MX address: the contract other checks read.

MTA-STS (is an `enforce` MX's certificate valid?) and DANE (does a TLSA record match the
chain presented?) build on these facts through `depends_on`/`evaluate_after`, so the shape
is fixed here and extended only by adding fields with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...model import CheckError
from ...probes.results import SmtpProbeResult


@dataclass(frozen=True)
class MxAddressTls:
    """One (MX host, address) pair. Exactly one of `probe`, `error` and `not_probed` is set."""

    host: str  # MX host name, lower case, no trailing dot
    address: str  # IP address literal
    probe: SmtpProbeResult | None = None  # the server answered (with or without STARTTLS)
    error: CheckError | None = None  # could not test: refused, 421, timeout... (never "no TLS")
    not_probed: str | None = None  # why no connection was attempted (address rule, --no-probes)
    # set when `probe` has a TLS 1.2+ session: the version a second handshake offering at most
    # TLS 1.1 completed with ("TLSv1.1", "TLSv1"), or None when the server refused it
    legacy_tls_accepted: str | None = None
    # set when that second probe could not say (it could not connect, or the local OpenSSL
    # has no TLS 1.0/1.1): why; None when it answered or was not needed
    legacy_tls_unknown: str | None = None


@dataclass(frozen=True)
class MxHostTls:
    host: str  # lower case, no trailing dot
    preference: int
    addresses: tuple[MxAddressTls, ...] = ()
    # the host has no address (or its lookup failed): nothing to probe; said, never a pass
    address_error: CheckError | None = None


@dataclass(frozen=True)
class StarttlsResult:
    hosts: tuple[MxHostTls, ...] = ()
    probes_enabled: bool = True  # False under --no-probes: every address is `not_probed`
    port: int = 25  # the SMTP port probed (--smtp-port in test setups)
    # addresses left out by ProbeLimits.max_mx_addresses_probed (each is also listed,
    # `not_probed` with the reason)
    addresses_over_cap: int = 0
    # when the probes ran (ISO 8601 UTC): certificate expiry is judged against this time, so
    # saved facts are judged the same on any later day; None when nothing was probed
    probed_at: str | None = None
