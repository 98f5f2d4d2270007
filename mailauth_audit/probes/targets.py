"""Which addresses a probe may connect to.

A domain's DNS is written by a stranger and may point its MX or policy host anywhere: at the
auditor's own loopback, the cloud metadata service or an office network. A probe therefore
connects only to globally routable unicast addresses unless the operator lifted the rule
(`--allow-private-targets`, for test setups and audits of internal mail systems). Pure: the
rule is one function of an address, tested without any I/O.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum


class AddressClass(StrEnum):
    GLOBAL = "global"
    LOOPBACK = "loopback"  # 127.0.0.0/8, ::1
    PRIVATE = "private"  # 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 (shared)
    LINK_LOCAL = "link_local"  # 169.254/16 (incl. 169.254.169.254 metadata), fe80::/10
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"  # 0.0.0.0, ::
    DOCUMENTATION = "documentation"  # 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
    RESERVED = "reserved"  # everything else that is not globally routable
    INVALID = "invalid"  # not an IP address at all


_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def classify_address(text: str) -> AddressClass:
    """The class of one address literal (brackets and a zone index are tolerated)."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return AddressClass.INVALID
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return classify_address(str(addr.ipv4_mapped))  # ::ffff:127.0.0.1 is loopback
    if addr.is_unspecified:
        return AddressClass.UNSPECIFIED
    if addr.is_loopback:
        return AddressClass.LOOPBACK
    if addr.is_link_local:
        return AddressClass.LINK_LOCAL
    if addr.is_multicast:
        return AddressClass.MULTICAST
    if any(addr in net for net in _DOCUMENTATION):
        return AddressClass.DOCUMENTATION
    if addr in _SHARED or addr.is_private:
        return AddressClass.PRIVATE
    if not addr.is_global or addr.is_reserved:
        return AddressClass.RESERVED
    return AddressClass.GLOBAL


def refusal_reason(address: str, *, allow_private: bool) -> str | None:
    """None when a probe may connect to `address`; else why not, in one line for people."""
    kind = classify_address(address)
    if kind is AddressClass.GLOBAL:
        return None
    if kind is AddressClass.INVALID:
        return f"{address!r} is not an IP address"
    if allow_private and kind in _ALLOWED_WHEN_PRIVATE_OK:
        return None
    hint = "" if kind not in _ALLOWED_WHEN_PRIVATE_OK else " (--allow-private-targets lifts this)"
    label = kind.value.replace("_", "-")
    article = "an" if label[0] in "aeiou" else "a"
    return f"not probed: {address} is {article} {label} address{hint}"


# what --allow-private-targets opens: internal networks and this machine; never the
# unspecified or multicast addresses, which are not a server to talk to
_ALLOWED_WHEN_PRIVATE_OK = frozenset(
    {
        AddressClass.LOOPBACK,
        AddressClass.PRIVATE,
        AddressClass.LINK_LOCAL,
        AddressClass.DOCUMENTATION,
        AddressClass.RESERVED,
    }
)
