"""Turn what a user typed into the one spelling of a domain name we query and report."""

from __future__ import annotations

import contextlib
import re

import idna

from .errors import InvalidDomainError

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def normalize_domain(text: str) -> str:
    """Lowercase A-label form without trailing dot; raise InvalidDomainError with one line."""
    raw = text.strip()
    if not raw:
        raise InvalidDomainError("empty domain name")
    if any(ch.isspace() for ch in raw) or any(ord(ch) < 32 for ch in raw):
        raise InvalidDomainError(
            f"invalid domain name {raw!r}: contains whitespace or control characters"
        )
    name = raw[:-1] if raw.endswith(".") else raw
    if not name or ".." in name or name.startswith("."):
        raise InvalidDomainError(f"invalid domain name {raw!r}: empty label")
    if any(ch in name for ch in "/@:;,\"'<>\\*?"):
        raise InvalidDomainError(
            f"invalid domain name {raw!r}: not a host name (unexpected character)"
        )
    try:
        ascii_name = name.encode("ascii").decode().lower()
    except UnicodeEncodeError:
        try:
            ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
        except idna.IDNAError as exc:
            raise InvalidDomainError(f"invalid domain name {raw!r}: {exc}") from None
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise InvalidDomainError(f"invalid domain name {raw!r}: needs at least two labels")
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidDomainError(f"invalid domain name {raw!r}: bad label {label!r}")
    if labels[-1].isdigit():
        raise InvalidDomainError(f"invalid domain name {raw!r}: looks like an IP address")
    if len(ascii_name) > 253:
        raise InvalidDomainError(f"invalid domain name {raw!r}: longer than 253 characters")
    return ascii_name


def unicode_name(name: str) -> str | None:
    """The U-label spelling of an A-label name, for showing beside it; None when the same.

    Reports query and key everything by the A-label; a person who typed `bücher.example`
    should still recognise `xn--bcher-kva.example`. A label that does not decode (a bogus
    `xn--`) is kept as written: the display never fails on DNS text.
    """
    if "xn--" not in name.lower():
        return None
    labels = []
    for label in name.rstrip(".").split("."):
        if label.lower().startswith("xn--"):
            with contextlib.suppress(idna.IDNAError, UnicodeError, ValueError):
                label = idna.decode(label)
        labels.append(label)
    shown = ".".join(labels)
    return shown if shown != name.rstrip(".") else None
