"""ARC chain validation (RFC 8617 §5.2) through dkimpy, with keys fetched by our resolver.

dkimpy's `ARC.verify` returns the chain validation status (`cv`) and per-set details; its
"chain terminated" answer (a set that already said cv=fail) is a fail too (RFC 8617 §5.2
step 2). Hostile headers can make dkimpy raise more than `DKIMException`, so every such
error is a `fail` with its reason, never an exception.

The work is bounded: a chain longer than `max_arc_sets` is not validated (result `policy`,
"not validated"), each key passes `bounds.unacceptable_key` before dkimpy may use it, and a
chain still being validated when the message's time budget is spent is abandoned at its
next key lookup and reported as not validated, never as a pass.
"""

from __future__ import annotations

from collections.abc import Callable

import dkim

from ..errors import ResolverError
from ..options import MessageLimits
from .bounds import Deadline, unacceptable_key
from .dkim_verify import LIBRARY_ERRORS, dkimpy_verifier
from .dnsbridge import SyncDns
from .headers import ParsedMessage
from .model import ArcResult, ArcSetResult, AuthResult

__all__ = ["arc_set_count", "has_arc_headers", "verify_arc"]

_ARC_NAMES = (b"arc-seal", b"arc-message-signature", b"arc-authentication-results")


class _BudgetSpent(Exception):
    """Raised from the key lookup to leave dkimpy's chain loop; not a DKIMException, so
    dkimpy does not turn it into a result."""


def has_arc_headers(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() in _ARC_NAMES for name, _ in headers)


def _dnsfunc(
    dns: SyncDns, limits: MessageLimits, deadline: Deadline, refused: list[str]
) -> Callable[..., bytes | None]:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if deadline.expired():
            raise _BudgetSpent
        text = name.decode("ascii", "replace").rstrip(".")
        try:
            records = dns.txt(text)
        except ResolverError as exc:
            raise dkim.DnsTimeoutError(str(exc)) from None
        if not records:
            return None
        reason = unacceptable_key(records[0], limits)
        if reason is not None:
            refused.append(f"{text}: {reason}")
            raise dkim.KeyFormatError(reason)  # dkimpy: this seal or signature is invalid
        return records[0]

    return lookup


def arc_set_count(headers: list[tuple[bytes, bytes]]) -> int:
    """How many ARC sets the message claims: its ARC-Seal fields, or the highest i= of any
    ARC field when that is higher (dkimpy walks every instance up to it)."""
    seals = 0
    highest = 0
    for name, value in headers:
        lowered = name.lower()
        if lowered not in _ARC_NAMES:
            continue
        seals += lowered == b"arc-seal"
        match = dkim.ARC.INSTANCE_RE.search(value)  # the instance dkimpy will read
        if match is not None:
            digits = match.group(1)
            highest = max(highest, int(digits) if len(digits) <= 6 else 10**6)
    return max(seals, highest)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def verify_arc(
    message: ParsedMessage,
    dns: SyncDns,
    limits: MessageLimits | None = None,
    deadline: Deadline | None = None,
) -> ArcResult:
    """Blocking: run it in a worker thread."""
    lim = limits or MessageLimits()
    budget = deadline or Deadline(lim.verify_seconds)
    headers = message.header_pairs()
    if not has_arc_headers(headers):
        return ArcResult(AuthResult.NONE, "message has no ARC headers", ())
    count = arc_set_count(headers)
    if count > lim.max_arc_sets:
        return ArcResult(
            AuthResult.POLICY,
            f"not validated: the chain has {count} ARC sets, over the limit of {lim.max_arc_sets}",
            (),
        )
    spent = (
        f"not validated: the message's verification time budget of {budget.seconds:g} s was spent"
    )
    if budget.expired():
        return ArcResult(AuthResult.POLICY, spent, ())
    refused: list[str] = []
    try:
        verifier = dkim.ARC(minkey=1024)
        dkimpy_verifier(verifier, message)
        cv, details, reason = verifier.verify(dnsfunc=_dnsfunc(dns, lim, budget, refused))
    except _BudgetSpent:
        return ArcResult(AuthResult.POLICY, spent, ())
    except LIBRARY_ERRORS as exc:
        return ArcResult(AuthResult.FAIL, f"cannot validate: {exc}", ())
    if refused and cv != dkim.CV_Pass:
        reason = f"{_text(reason) or ''} ({refused[0]})"
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
    status = {dkim.CV_Pass: AuthResult.PASS, dkim.CV_None: AuthResult.NONE}.get(cv, AuthResult.FAIL)
    return ArcResult(status, _text(reason) or "", sets)
