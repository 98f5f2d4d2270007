"""What the DANE check saw per MX host: its TLSA RRset, its DNSSEC verdict, and how the
records compare with the chain each address presented (RFC 7672)."""

from __future__ import annotations

from dataclasses import dataclass

from ...model import CheckError
from ..dnssec.result import DnssecVerdict


@dataclass(frozen=True)
class DaneAddress:
    """One address of the host. Exactly one of: `tls` set (the server answered), `error`
    (could not test), `not_probed` (no connection was attempted)."""

    address: str
    # True: a TLS session was made and its chain compared; False: the server offered no
    # STARTTLS or its handshake failed (`no_tls_reason` says which); None: not tested
    tls: bool | None = None
    no_tls_reason: str | None = None  # set when tls is False
    # TLSA records (as text) that authenticate the chain: a DANE-EE leaf match, or a DANE-TA
    # match with an issuer path from the leaf and a leaf that names the host
    authenticated_by: tuple[str, ...] = ()
    # DANE-TA records whose certificate is in the chain, but the leaf does not name the
    # host (RFC 7672 §3.2.3) or no issuer path leads to it: no authentication
    ta_unauthenticated: tuple[str, ...] = ()
    # `3 1 1 <hex>` for the leaf presented now (what remediation proposes); None: no leaf
    leaf_tlsa: str | None = None
    hostname_matches: bool | None = None  # the leaf names the MX host
    error: CheckError | None = None  # could not test: refused, timeout... (never "no TLS")
    not_probed: str | None = None  # why no connection was attempted


@dataclass(frozen=True)
class DaneHost:
    host: str  # lower case, no trailing dot
    tlsa_name: str  # _25._tcp.<host>
    verdict: DnssecVerdict  # of the TLSA answer or of its denial of existence
    records: tuple[str, ...] = ()  # the TLSA records read, as text, up to the limit
    unreadable: tuple[str, ...] = ()  # records that do not parse: "<rdata hex>: why"
    # records past Limits.max_tlsa_records: not compared with the chain
    records_not_checked: int = 0
    extended_errors: tuple[str, ...] = ()  # RFC 8914, when the TLSA answer was bogus
    addresses: tuple[DaneAddress, ...] = ()  # set when usable records are secure

    @property
    def has_tlsa(self) -> bool:
        return bool(self.records or self.unreadable)


@dataclass(frozen=True)
class DaneResult:
    hosts: tuple[DaneHost, ...] = ()  # each MX host once, in preference order
    probes_enabled: bool = True  # False under --no-probes: no address is compared
    port: int = 25  # the SMTP port probed (the TLSA name always uses 25, RFC 7672 §2.2)
