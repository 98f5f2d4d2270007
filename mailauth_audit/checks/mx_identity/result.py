"""The mx_identity check's facts: the PTR names of each MX address and whether one of them
resolves back to it (the contract the HTML report's MX table reads)."""

from __future__ import annotations

from dataclasses import dataclass

from ...model import CheckError


@dataclass(frozen=True)
class MxAddressIdentity:
    """One (MX host, address). At most one of `error` and `not_checked` is set."""

    host: str
    address: str
    reverse_name: str  # the in-addr.arpa / ip6.arpa name asked
    ptr_names: tuple[str, ...] = ()  # lower case, no trailing dot
    forward_confirmed: str | None = None  # a PTR name whose A/AAAA includes the address
    error: CheckError | None = None  # the PTR or forward lookup could not be answered
    not_checked: str | None = None  # the address rule refused it (loopback, private, ...)


@dataclass(frozen=True)
class MxIdentityResult:
    addresses: tuple[MxAddressIdentity, ...] = ()
