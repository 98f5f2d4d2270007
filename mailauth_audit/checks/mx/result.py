"""The facts the MX check collects: frozen, so saved facts can be re-judged later."""

from __future__ import annotations

from dataclasses import dataclass

from ...fastinit import fast_init

__all__ = ["MxHost", "MxResult"]


@fast_init
@dataclass(frozen=True)
class MxHost:
    """One MX record other than the null MX, with what its host name resolves to."""

    preference: int
    host: str  # lowercase, no trailing dot
    addresses: tuple[str, ...]  # A then AAAA; () for IP literals (not looked up)
    cname_target: str | None  # set when the host is an alias: the canonical name it leads to
    is_ip_literal: bool  # the exchange is an IP address written as a name
    host_exists: bool  # False when the host name is NXDOMAIN


@fast_init
@dataclass(frozen=True)
class MxResult:
    """Facts about where mail for the domain goes."""

    domain_exists: bool  # False when the MX query was answered NXDOMAIN
    records: tuple[str, ...]  # the MX RRset as published ("10 mx1.example.com."), for evidence
    hosts: tuple[MxHost, ...]  # every MX record except the null MX, in preference order
    null_mx: bool  # an `MX 0 .` record is published (RFC 7505)
    null_mx_preference: int | None  # set when null_mx: the preference it was published with
    implicit_mx: bool  # no MX RRset on an existing domain: senders fall back to A/AAAA
    implicit_addresses: tuple[str, ...]  # set when implicit_mx: the domain's own A/AAAA
    # distinct host names past Limits.max_mx_hosts, in preference order: not resolved, and
    # their MX records are left out of `hosts`
    unchecked_hosts: tuple[str, ...] = ()
    ttl: int | None = None  # set when `records` is not empty: the TTL of the MX answer
    # who answered the MX question ("127.0.0.1:53", "zone-file:PATH"); None in facts saved
    # before the answering server was kept
    server: str | None = None
