"""ARC chain validation (RFC 8617 §5.2) through dkimpy, with keys fetched by our resolver.

dkimpy's `ARC.verify` returns the chain validation status (`cv`) and per-set details; its
"chain terminated" answer (a set that already said cv=fail) is a fail too (RFC 8617 §5.2
step 2). Hostile headers can make dkimpy raise more than `DKIMException`, so every such
error is a `fail` with its reason, never an exception.
"""

from __future__ import annotations

import dkim

from ..errors import ResolverError
from .dkim_verify import LIBRARY_ERRORS
from .dnsbridge import SyncDns
from .model import ArcResult, ArcSetResult, AuthResult

__all__ = ["has_arc_headers", "verify_arc"]

_ARC_NAMES = (b"arc-seal", b"arc-message-signature", b"arc-authentication-results")


def has_arc_headers(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() in _ARC_NAMES for name, _ in headers)


def _dnsfunc(dns: SyncDns):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        text = name.decode("ascii", "replace").rstrip(".")
        try:
            records = dns.txt(text)
        except ResolverError as exc:
            raise dkim.DnsTimeoutError(str(exc)) from None
        return records[0] if records else None

    return lookup


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def verify_arc(raw: bytes, headers: list[tuple[bytes, bytes]], dns: SyncDns) -> ArcResult:
    """Blocking: run it in a worker thread."""
    if not has_arc_headers(headers):
        return ArcResult(AuthResult.NONE, "message has no ARC headers", ())
    try:
        cv, details, reason = dkim.ARC(raw, minkey=1024).verify(dnsfunc=_dnsfunc(dns))
    except LIBRARY_ERRORS as exc:
        return ArcResult(AuthResult.FAIL, f"cannot validate: {exc}", ())
    sets = tuple(
        ArcSetResult(
            instance=int(d.get("instance", 0)),
            domain=_text(d.get("as-domain")),
            selector=_text(d.get("as-selector")),
            chain_validation=_text(d.get("cv")),
            seal_valid=bool(d.get("as-valid")),
            message_signature_valid=bool(d.get("ams-valid")),
        )
        for d in details
        if isinstance(d, dict)
    )
    status = {dkim.CV_Pass: AuthResult.PASS, dkim.CV_None: AuthResult.NONE}.get(
        cv, AuthResult.FAIL
    )
    return ArcResult(status, _text(reason) or "", sets)
