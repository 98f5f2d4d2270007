"""MX host patterns of MTA-STS policies (RFC 8461 §3.2 grammar, §4.1 matching). Pure.

`*.` matches exactly one whole leftmost label; no other wildcard; comparison is ASCII
case-insensitive with a trailing dot ignored; never a suffix or substring match.
"""

from __future__ import annotations

import re

from .txtfields import show

__all__ = ["mx_pattern_matches", "mx_pattern_problem"]

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")


def mx_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not `["*."] Domain` (RFC 8461 §3.2, RFC 5321 §4.1.2), or None."""
    if not pattern.isascii():
        return "not ASCII (an internationalised name must be given as its xn-- A-label)"
    body = pattern[2:] if pattern.startswith("*.") else pattern
    if len(body) > 253:
        return "longer than 253 characters"
    for label in body.split("."):
        if "*" in label:
            return "'*' is allowed only as the whole leftmost label ('*.')"
        if not _LABEL.fullmatch(label):
            return f"invalid label {show(label or '(empty)')}"
    return None


def _labels(name: str) -> list[str] | None:
    """Lowercased labels of a name, trailing dot dropped; None if it cannot be a host name.
    ASCII only: Unicode case folding would let 'K' (U+212A KELVIN SIGN) equal 'k'."""
    if not name.isascii():
        return None
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    return None if any(not label for label in labels) else labels


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """Whether MX host `host` matches policy pattern `pattern` (RFC 8461 §4.1).

    `*.example.com` matches `mail.example.com`, never `example.com` nor `a.b.example.com`;
    any other use of `*` matches nothing; a host containing `*` matches nothing.
    """
    p, h = _labels(pattern), _labels(host)
    if p is None or h is None or any("*" in label for label in h):
        return False
    if p[0] == "*":
        rest = p[1:]
        if not rest or any("*" in label for label in rest):
            return False
        return len(h) == len(p) and h[1:] == rest
    if any("*" in label for label in p):
        return False
    return p == h
