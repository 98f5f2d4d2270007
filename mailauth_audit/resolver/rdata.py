"""RDATA of the types the codec has no fast decoder for, read with dnspython's rdata classes.

Loaded only when such a record is met (an SOA, a TLSA, an RRSIG...), so a bulk run that asks
for A, MX and TXT never imports dnspython's rdata machinery. dnspython reads the record in
place, inside the whole message: names in the RDATA may be compressed, and its name reader
accepts only pointers that point backwards. It is given the RDATA's bounds, so the work is
bounded by the RDATA length, and must consume exactly those octets.
"""

from __future__ import annotations

import struct

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

__all__ = ["RdataError", "decode_rdata"]

# what dnspython's readers raise on bytes they cannot read: FormError and the other
# DNSExceptions, plus the Python errors of its struct unpacking, slicing, enum conversions
# (an unknown algorithm number, an SVCB key) and text decoding
_UNREADABLE = (
    dns.exception.DNSException,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    UnicodeError,
    OverflowError,
)


class RdataError(ValueError):
    """The RDATA is not a valid record of its type."""


def decode_rdata(buf: bytes, rtype: int, off: int, stop: int) -> dns.rdata.Rdata:
    """The record at buf[off:stop] as a typed, immutable dnspython rdata object; an rdtype
    dnspython does not know comes back as its GenericRdata (RFC 3597). Raises RdataError."""
    try:
        return dns.rdata.from_wire(
            dns.rdataclass.IN, dns.rdatatype.RdataType.make(rtype), buf, off, stop - off
        )
    except _UNREADABLE as exc:
        name = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rtype))
        detail = str(exc) or type(exc).__name__
        raise RdataError(f"{name} record RDATA is malformed ({detail[:120]})") from None
