"""Header hygiene (RFC 5322 §3.6, RFC 8058): the checks a receiver's filters make before any
signature is looked at. Pure: the raw header list and bytes in, `HygieneResult` out.

Headers are read from the raw (name, value) pairs dkimpy's parser returns, not from Python's
`email` object model, so a header with 8-bit junk or a duplicate From is seen exactly as sent.
The MIME structure is judged by Python's parser, whose `defects` list is precisely "what is
malformed here".
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from collections import Counter
from collections.abc import Iterable

from .model import DkimSignatureResult, HygieneResult

__all__ = ["SINGLE_INSTANCE_HEADERS", "check_hygiene", "from_addresses"]

# RFC 5322 §3.6: fields that may occur at most once (Date and From exactly once)
SINGLE_INSTANCE_HEADERS = (
    "date",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "message-id",
    "in-reply-to",
    "references",
    "subject",
)
_MSG_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
MAX_DEFECTS = 10


def _decode(value: bytes) -> str:
    return " ".join(value.decode("utf-8", "replace").split())


def _values(headers: list[tuple[bytes, bytes]], name: str) -> list[str]:
    return [_decode(v) for n, v in headers if n.decode("latin-1").lower() == name]


def from_addresses(values: Iterable[str]) -> list[str]:
    """Every address in the given From values (RFC 5322 §3.4 address lists).

    The standard parser recurses once per nested comment, so a value of a thousand "("
    raises RecursionError: such a From has no address we can read (reported as a From
    without a domain), rather than crashing the verification of the message."""
    out = []
    try:
        pairs = email.utils.getaddresses(list(values))
    except RecursionError:
        return []
    for _display, address in pairs:
        if address:
            out.append(address)
    return out


def _domain(address: str) -> str | None:
    """The domain of an address, lower case without a trailing dot; None when it has none."""
    if "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().rstrip(".").lower() or None


def _date_valid(value: str) -> bool:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return parsed is not None


def _mime_defects(raw: bytes) -> list[str]:
    try:
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        defects: list[str] = []
        for part in msg.walk():
            defects.extend(type(d).__name__ for d in part.defects)
    except Exception as exc:
        return [f"parser error: {type(exc).__name__}"]
    return list(dict.fromkeys(defects))[:MAX_DEFECTS]


def check_hygiene(
    raw: bytes,
    headers: list[tuple[bytes, bytes]],
    signatures: tuple[DkimSignatureResult, ...],
    max_mime_scan_lines: int,
) -> HygieneResult:
    """`max_mime_scan_lines` bounds the MIME walk: Python's parser costs microseconds per line,
    and a message of millions of short lines (under the size limit) would hold a worker for
    many seconds; past it the structure is reported as not checked, never as clean."""
    names = [n.decode("latin-1").lower().strip() for n, _ in headers]
    counts = Counter(names)
    froms = _values(headers, "from")
    addresses = from_addresses(froms)
    domains = [_domain(a) for a in addresses]
    from_domain = domains[0] if len(froms) == 1 and len(addresses) == 1 else None
    from_domains: tuple[str, ...] = ()
    if len(froms) == 1 and domains and all(domains):
        from_domains = tuple(dict.fromkeys(d for d in domains if d))
    dates = _values(headers, "date")
    ids = _values(headers, "message-id")
    message_id = ids[0] if ids else None
    unsub = _values(headers, "list-unsubscribe")
    unsub_post = _values(headers, "list-unsubscribe-post")
    one_click = bool(
        unsub
        and unsub_post
        and unsub_post[0].replace(" ", "").lower() == "list-unsubscribe=one-click"
        and re.search(r"<https://[^>]+>", unsub[0], re.IGNORECASE)
    )
    lines = raw.count(b"\n")
    too_long = lines > max_mime_scan_lines
    non_ascii = [n.decode("latin-1") for n, v in headers if not (n + v).isascii()]
    return HygieneResult(
        from_header_count=len(froms),
        from_addresses=tuple(addresses),
        from_domain=from_domain,
        date=dates[0] if dates else None,
        date_valid=bool(dates) and _date_valid(dates[0]),
        message_id=message_id,
        message_id_valid=message_id is not None and _MSG_ID.fullmatch(message_id) is not None,
        duplicate_headers=tuple(h for h in SINGLE_INSTANCE_HEADERS if counts[h] > 1),
        mime_defects=() if too_long else tuple(_mime_defects(raw)),
        mime_not_checked_lines=lines if too_long else None,
        from_domains=from_domains,
        non_ascii_headers=tuple(dict.fromkeys(non_ascii)),
        list_unsubscribe=unsub[0] if unsub else None,
        list_unsubscribe_post=unsub_post[0] if unsub_post else None,
        one_click=one_click,
        unsubscribe_signed=bool(unsub and unsub_post)
        and any(
            s.result.value == "pass"
            and {"list-unsubscribe", "list-unsubscribe-post"} <= set(s.signed_headers)
            for s in signatures
        ),
    )
