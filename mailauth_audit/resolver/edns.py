"""EDNS (RFC 6891) pieces of a message: the OPT record a query carries, and the Extended
DNS Errors (RFC 8914) an answer's OPT record may carry. Pure: no I/O."""

from __future__ import annotations

import struct

from ..options import Limits
from .base import ExtendedError

__all__ = ["EDNS_DO", "extended_errors", "opt_record"]

EDNS_DO = 0x8000  # the DO bit, in the OPT record's TTL (RFC 3225)
_TYPE_OPT = 41
_OPTION_EDE = 15  # Extended DNS Error (RFC 8914 §2)
_OPTION_HEAD = struct.Struct("!HH")  # code, length
_U16 = struct.Struct("!H")


def opt_record(payload: int, dnssec_ok: bool = False) -> bytes:
    # root owner, type OPT, class = UDP payload size, TTL = ext-rcode/version 0 and the DO
    # flag, no data
    return b"\x00" + struct.pack("!HHIH", _TYPE_OPT, payload, EDNS_DO if dnssec_ok else 0, 0)


def extended_errors(
    buf: bytes, bounds: tuple[int, int], limits: Limits
) -> tuple[tuple[ExtendedError, ...], int]:
    """The EDE options (RFC 8914 §2) among the OPT record's options; how many were dropped.

    Lenient where the rest of the parser is strict: the options are advice, and a message
    whose option list is cut short was always accepted for its records; reading stops at the
    first option that runs past the record."""
    off, end = bounds
    keep = limits.max_extended_errors
    width = limits.max_extended_error_text
    found: list[ExtendedError] = []
    dropped = 0
    while off + 4 <= end:
        code, length = _OPTION_HEAD.unpack_from(buf, off)
        data_end = off + 4 + length
        if data_end > end:
            break
        if code == _OPTION_EDE and length >= 2:
            if len(found) < keep:
                info = _U16.unpack_from(buf, off + 4)[0]
                found.append(ExtendedError(info, _ede_text(buf[off + 6 : data_end], width)))
            else:
                dropped += 1
        off = data_end
    return tuple(found), dropped


def _ede_text(raw: bytes, width: int) -> str:
    """EXTRA-TEXT: UTF-8 (RFC 8914 §2), some servers end it with a NUL; at most `width`
    characters are kept (a UTF-8 character is at most 4 octets, so no more is decoded)."""
    text = raw[: 4 * width + 4].decode("utf-8", "replace").rstrip("\x00")
    if len(text) > width:
        return text[: width - 1] + "…" if width else ""
    return text
