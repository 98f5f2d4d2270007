"""SPF for one delivery (RFC 7208): the MAIL FROM and HELO identities of a client IP.

pyspf evaluates; its DNS goes through our resolver. pyspf looks DNS up through one
module-level function, `spf.DNSLookup`. Replacing it for the duration of a run and putting
it back would race when `receive` verifies two messages at once, so instead a dispatcher is
installed once (idempotently) that reads the lookup function from a `ContextVar`: inside
`evaluate_spf` the context holds our bridge, everywhere else (another thread, another
library using pyspf in the same process) the variable is unset and the dispatcher calls
pyspf's original function. No resolver, cache or result leaks from one run into the next.

The envelope comes from the caller (`--client-ip`/`--helo`/`--mail-from`, or the real values
of a `receive` session), or else from the topmost Received header, which the receiving
server added and is the only one a verifier may trust without configuration.
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
from collections.abc import Callable
from typing import Any

import spf

from ..errors import ResolverError
from ..resolver.base import MxRecord, RRType, TxtRecord
from .dnsbridge import SyncDns
from .model import AuthResult, Envelope, EnvelopeSource, SpfEvaluation, SpfIdentityResult

__all__ = ["envelope_from_headers", "evaluate_spf"]

_LOOKUP: contextvars.ContextVar[Callable[..., list[Any]] | None] = contextvars.ContextVar(
    "mailauth_audit_spf_lookup", default=None
)
_ORIGINAL_LOOKUP = spf.DNSLookup
_QTYPES = {
    "A": RRType.A,
    "AAAA": RRType.AAAA,
    "MX": RRType.MX,
    "TXT": RRType.TXT,
    "PTR": RRType.PTR,
    "CNAME": RRType.CNAME,
}


def _dispatch(name: str, qtype: str, *args: Any, **kwargs: Any) -> list[Any]:
    lookup = _LOOKUP.get()
    if lookup is None:
        return _ORIGINAL_LOOKUP(name, qtype, *args, **kwargs)
    return lookup(name, qtype)


def _install_dispatcher() -> None:
    if spf.DNSLookup is not _dispatch:
        spf.DNSLookup = _dispatch


def _bridge_lookup(dns: SyncDns) -> Callable[..., list[Any]]:
    """pyspf's DNSLookup contract: [((name, qtype), value), ...]; [] for NXDOMAIN/NODATA;
    spf.TempError for a failure to get an answer."""

    def lookup(name: str, qtype: str) -> list[Any]:
        rdtype = _QTYPES.get(qtype)
        if rdtype is None:
            return []  # type 99 SPF: obsolete (RFC 7208 §3.1), never asked by default
        try:
            answer = dns.resolve(name, rdtype)
        except ResolverError as exc:
            raise spf.TempError(f"DNS {exc}") from None
        out: list[Any] = []
        for record in answer.records:
            if isinstance(record, TxtRecord):
                out.append(((name, qtype), record.strings))
            elif isinstance(record, MxRecord):
                out.append(((name, qtype), (record.preference, record.exchange)))
            else:
                out.append(((name, qtype), record))
        return out

    return lookup


def _result(value: str) -> AuthResult:
    try:
        return AuthResult(value)
    except ValueError:
        return AuthResult.PERMERROR


def _check(
    dns: SyncDns, identity: str, ip: str, sender: str, helo: str, domain: str
) -> SpfIdentityResult:
    _install_dispatcher()
    token = _LOOKUP.set(_bridge_lookup(dns))
    try:
        query = spf.query(i=ip, s=sender, h=helo or domain, timeout=20)
        result, _code, explanation = query.check()
    except spf.TempError as exc:
        result, explanation = "temperror", str(exc)
    except (spf.PermError, spf.AmbiguityWarning, ValueError, UnicodeError) as exc:
        result, explanation = "permerror", str(exc)
    finally:
        _LOOKUP.reset(token)
    return SpfIdentityResult(identity, domain, sender, _result(result), str(explanation))


def _domain_of(address: str) -> str | None:
    if "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].strip().rstrip(".").lower()
    return domain or None


def _valid_domain(name: str) -> bool:
    labels = name.split(".")
    return (
        0 < len(name) <= 253
        and len(labels) >= 2
        and all(re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?", lb) for lb in labels)
    )


def evaluate_spf(envelope: Envelope, dns: SyncDns) -> SpfEvaluation:
    """SPF for the MAIL FROM identity (postmaster@HELO for the null sender, RFC 7208 §2.4) and
    for the HELO identity (§2.3). Blocking: run it in a worker thread."""
    ip = envelope.client_ip
    if not ip:
        return SpfEvaluation(envelope, None, None, "no client IP known")
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        return SpfEvaluation(envelope, None, None, f"client IP {ip!r} is not an IP address")
    helo = (envelope.helo or "").strip().rstrip(".").lower()
    helo_ok = _valid_domain(helo)
    mail_from = (envelope.mail_from or "").strip().strip("<>")
    helo_result: SpfIdentityResult | None = None
    if helo_ok:
        helo_result = _check(dns, "helo", ip, f"postmaster@{helo}", helo, helo)
    mfrom_result: SpfIdentityResult | None = None
    mfrom_domain = _domain_of(mail_from) if mail_from else None
    if mfrom_domain and _valid_domain(mfrom_domain):
        mfrom_result = _check(dns, "mailfrom", ip, mail_from, helo, mfrom_domain)
    elif not mail_from and helo_result is not None:
        # null reverse-path: the MAIL FROM identity is postmaster@HELO (RFC 7208 §2.4)
        mfrom_result = SpfIdentityResult(
            "mailfrom", helo, f"postmaster@{helo}", helo_result.result, helo_result.explanation
        )
    reason = None
    if mfrom_result is None and helo_result is None:
        reason = "no MAIL FROM domain or HELO name to evaluate"
    return SpfEvaluation(envelope, mfrom_result, helo_result, reason)


_RECEIVED_FROM = re.compile(r"^\s*from\s+(\S+)", re.IGNORECASE)
_RECEIVED_IP = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")


def envelope_from_headers(headers: list[tuple[bytes, bytes]]) -> Envelope:
    """Client IP and HELO from the topmost Received header, MAIL FROM from Return-Path.

    Only the topmost Received header is used: it was added by the receiving server (the one
    whose mailbox holds the message); every header below it was written by parties the
    verifier has no reason to trust."""
    received = next((v for n, v in headers if n.lower() == b"received"), None)
    return_path = next((v for n, v in headers if n.lower() == b"return-path"), None)
    ip = helo = None
    if received is not None:
        text = " ".join(received.decode("utf-8", "replace").split())
        match = _RECEIVED_FROM.match(text)
        helo = match.group(1) if match else None
        for candidate in _RECEIVED_IP.findall(text.split(" by ", 1)[0]):
            try:
                ip = str(ipaddress.ip_address(candidate))
                break
            except ValueError:
                continue
    mail_from = None
    if return_path is not None:
        mail_from = return_path.decode("utf-8", "replace").strip().strip("<>").strip()
    if ip is None:
        return Envelope(None, helo, mail_from, EnvelopeSource.NONE)
    return Envelope(ip, helo, mail_from, EnvelopeSource.RECEIVED_HEADER)
