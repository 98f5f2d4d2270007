"""SPF records (RFC 7208): text in, a typed `SpfRecord` or `RecordSyntaxError` out. No I/O.

The grammar followed is RFC 7208 §4.5, §5, §6 and §7.1 (macros). Where the RFC is strict,
so are we: receivers answer `permerror` to a record with any syntax error, which makes SPF
fail for every message, so "probably what they meant" is not good enough for an audit.

Decisions worth knowing:

* Terms are separated by one or more SP characters (`terms = *( 1*SP ( directive /
  modifier ) )`), and trailing SP is allowed, so runs of spaces are valid and not reported.
  Any other whitespace (tab, newline) is a syntax error at its position: the ABNF has no
  place for it, and receivers differ in how they treat it.
* `c`, `r` and `t` macro letters are valid only in explanation text (§7.2), so
  `%{c}` in a domain-spec is an error here.
* A macro-free domain-spec must end in a real top label (§7.1 `domain-end`): this is what
  catches `a:192.0.2.1` (an IP address where a name belongs) and `include:x.com;`.
* `ip4:`/`ip6:` addresses must be literal addresses of the right family, and CIDR lengths are
  written without leading zeros and within 0-32 / 0-128 (§5.6).
"""

from __future__ import annotations

import functools
import ipaddress
import re

from .errors import RecordSyntaxError
from .spf_macros import (
    _describe_char,
    _short,
    _validate_domain_spec,
    expand_domain_macros,
    validate_macro_string,
)
from .spf_model import (
    LOOKUP_MECHANISMS,
    SpfMechanism,
    SpfMechanismKind,
    SpfModifier,
    SpfQualifier,
    SpfRecord,
    SpfTerm,
)

SPF_VERSION = "v=spf1"


def is_spf_record(text: str) -> bool:
    """RFC 7208 §4.5: exactly "v=spf1" (any case), then a space or the end of the record."""
    return text[:6].lower() == SPF_VERSION and (len(text) == 6 or text[6] == " ")


_MODIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*=")
_MECH_NAME = re.compile(r"[^:/=]*")
_TOKEN = re.compile(r"[^ ]+")
# exactly the texts ipaddress.IPv4Address accepts: four ASCII decimal octets up to 255,
# without leading zeros
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_DOTTED_QUAD = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_CIDR = re.compile(r"0|[1-9][0-9]*")
_DUAL_CIDR_TAIL = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?\Z")
_MECH_NAMES = {k.value: k for k in SpfMechanismKind}


def _cidr(text: str, offset: int, limit: int, family: str) -> int:
    if not _CIDR.fullmatch(text):
        raise RecordSyntaxError(
            f"invalid {family} prefix length {_short(text)} (digits, no leading zeros)", offset
        )
    value = int(text)
    if value > limit:
        raise RecordSyntaxError(
            f"{family} prefix length {value} is out of range (0-{limit})", offset
        )
    return value


def _parse_mechanism(token: str, pos: int) -> SpfMechanism:
    qualifier = SpfQualifier.PASS
    body_at = 0
    if token[0] in "+-~?":
        qualifier = SpfQualifier(token[0])
        body_at = 1
    name_match = _MECH_NAME.match(token, body_at)
    assert name_match is not None  # the pattern matches the empty string
    raw_name = name_match.group(0)
    name = raw_name.lower()
    rest_at = name_match.end()
    rest = token[rest_at:]
    if not raw_name:
        raise RecordSyntaxError(f"missing mechanism name in {_short(token)}", pos)
    kind = _MECH_NAMES.get(name)
    if kind is None:  # a known name is plain letters: only an unknown one needs the walk
        for i, ch in enumerate(raw_name):
            if not "\x21" <= ch <= "\x7e":
                raise RecordSyntaxError(
                    f"character not allowed here: {_describe_char(ch)}", pos + body_at + i
                )
    if rest.startswith("=") and _MODIFIER.match(token, body_at):
        raise RecordSyntaxError(f"modifier {raw_name!r} cannot have a qualifier", pos)
    if kind is None:
        raise RecordSyntaxError(f"unknown mechanism {_short(raw_name)}", pos)
    rest_pos = pos + rest_at

    if kind is SpfMechanismKind.ALL:
        if rest:
            raise RecordSyntaxError(f"'all' takes no argument (found {_short(rest)})", rest_pos)
        return SpfMechanism(qualifier, kind, None, None, None, pos, token)

    if kind in (SpfMechanismKind.INCLUDE, SpfMechanismKind.EXISTS):
        if not rest.startswith(":"):
            raise RecordSyntaxError(
                f"'{name}' requires ':' and a domain, e.g. '{name}:example.com'", rest_pos
            )
        target = rest[1:]
        _validate_domain_spec(target, rest_pos + 1, name)
        return SpfMechanism(qualifier, kind, target, None, None, pos, token)

    if kind is SpfMechanismKind.PTR:
        if not rest:
            return SpfMechanism(qualifier, kind, None, None, None, pos, token)
        if not rest.startswith(":"):
            raise RecordSyntaxError(f"unexpected {_short(rest)} after 'ptr'", rest_pos)
        _validate_domain_spec(rest[1:], rest_pos + 1, name)
        return SpfMechanism(qualifier, kind, rest[1:], None, None, pos, token)

    if kind in (SpfMechanismKind.A, SpfMechanismKind.MX):
        spec, cidr4, cidr6 = _domain_and_prefixes(name, rest, rest_pos)
        return SpfMechanism(qualifier, kind, spec, cidr4, cidr6, pos, token)
    cidr4, cidr6, address = _address_and_prefix(kind, name, rest, rest_pos)
    return SpfMechanism(qualifier, kind, None, cidr4, cidr6, pos, token, address)


def _domain_and_prefixes(
    name: str, rest: str, rest_pos: int
) -> tuple[str | None, int | None, int | None]:
    """`a` and `mx`: the optional `:domain-spec` and dual CIDR (`/N`, `//N`, `/N//N`)."""
    spec: str | None = None
    cidr_text = rest
    cidr_pos = rest_pos
    if rest.startswith(":"):
        tail = _DUAL_CIDR_TAIL.search(rest, 1)
        assert tail is not None  # every part of the pattern is optional
        spec = rest[1 : tail.start()]
        cidr_text = tail.group(0)
        cidr_pos = rest_pos + tail.start()
        _validate_domain_spec(spec, rest_pos + 1, name)
    elif rest and not rest.startswith("/"):
        raise RecordSyntaxError(f"unexpected {_short(rest)} after '{name}'", rest_pos)
    cidr4 = cidr6 = None
    if cidr_text:
        dual = _DUAL_CIDR_TAIL.fullmatch(cidr_text)
        if dual is None or not cidr_text.startswith("/"):
            raise RecordSyntaxError(
                f"invalid prefix length {_short(cidr_text)} after '{name}' "
                "(expected /N, //N or /N//N)",
                cidr_pos,
            )
        if dual.group(1) is not None:
            cidr4 = _cidr(dual.group(1), cidr_pos + dual.start(1), 32, "IPv4")
        if dual.group(2) is not None:
            cidr6 = _cidr(dual.group(2), cidr_pos + dual.start(2), 128, "IPv6")
    return spec, cidr4, cidr6


def _address_and_prefix(
    kind: SpfMechanismKind, name: str, rest: str, rest_pos: int
) -> tuple[int | None, int | None, str]:
    """`ip4` and `ip6`: a literal address of the right family and an optional prefix length."""
    if not rest.startswith(":") or len(rest) == 1:
        raise RecordSyntaxError(
            f"'{name}' requires ':' and an address, e.g. "
            f"'{name}:{'192.0.2.0/24' if kind is SpfMechanismKind.IP4 else '2001:db8::/32'}'",
            rest_pos,
        )
    addr_pos = rest_pos + 1
    addr, slash, length = rest[1:].partition("/")
    v4 = kind is SpfMechanismKind.IP4
    family = "IPv4" if v4 else "IPv6"
    try:
        if "%" in addr:
            raise ValueError  # IPv6Address accepts scope ids; SPF does not
        if not (v4 and _IPV4_DOTTED_QUAD.fullmatch(addr)):  # the usual ip4 term: valid already
            parsed = ipaddress.IPv4Address(addr) if v4 else ipaddress.IPv6Address(addr)
            del parsed
    except ValueError:
        other = _other_family(addr, v4)
        hint = f" (this is an {other} address: use ip{'6' if v4 else '4'}:)" if other else ""
        raise RecordSyntaxError(
            f"invalid {family} address {_short(addr)}{hint}", addr_pos
        ) from None
    prefix: int | None = None
    if slash:
        prefix = _cidr(length, addr_pos + len(addr) + 1, 32 if v4 else 128, family)
    return (prefix if v4 else None), (None if v4 else prefix), addr


def _other_family(addr: str, v4: bool) -> str | None:
    try:
        if v4:
            ipaddress.IPv6Address(addr)
            return "IPv6"
        ipaddress.IPv4Address(addr)
        return "IPv4"
    except ValueError:
        return None


def _parse_modifier(token: str, pos: int) -> SpfModifier:
    name, _, value = token.partition("=")
    lname = name.lower()
    value_pos = pos + len(name) + 1
    if lname in ("redirect", "exp"):
        _validate_domain_spec(value, value_pos, lname)
    else:
        validate_macro_string(value, offset=value_pos)
    return SpfModifier(lname, value, pos, token)


def _tokens(text: str, start: int) -> list[tuple[int, str]]:
    """Each run of characters other than a space from `start` on, with its offset (§4.6.1:
    terms are separated by spaces only, so a tab or a newline is part of a term)."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(text, start)]


# Records longer than this are parsed every time instead of cached: the cache is shared by a
# whole bulk run, and 2,048 hostile 64 KB records of thousands of terms each would hold
# gigabytes. Real records are well under it (RFC 7208 §3.4 wants them in a 512-byte answer).
_CACHED_TEXT_LIMIT = 4096


def parse_spf(text: str) -> SpfRecord:
    """Parse one SPF record (the TXT strings already joined, RFC 7208 §3.3).

    Cached: a record is immutable and pure to parse, and a bulk run meets the same provider
    records thousands of times (the check and its findings each parse them again)."""
    if len(text) > _CACHED_TEXT_LIMIT:
        return _parse_spf(text)
    return _parse_spf_cached(text)


def _parse_spf(text: str) -> SpfRecord:
    if not is_spf_record(text):
        if text[:6].lower() == SPF_VERSION:
            raise RecordSyntaxError(
                f"'v=spf1' must be followed by a space, found {_describe_char(text[6])}", 6
            )
        raise RecordSyntaxError("an SPF record must start with 'v=spf1'", 0)
    terms: list[SpfTerm] = []
    seen: dict[str, int] = {}
    for pos, token in _tokens(text, 6):
        if _MODIFIER.match(token):
            modifier = _parse_modifier(token, pos)
            if modifier.name in ("redirect", "exp"):
                if modifier.name in seen:
                    raise RecordSyntaxError(
                        f"'{modifier.name}' modifier appears more than once (first at "
                        f"position {seen[modifier.name]})",
                        pos,
                    )
                seen[modifier.name] = pos
            terms.append(modifier)
        else:
            terms.append(_parse_mechanism(token, pos))
    return SpfRecord(text, tuple(terms))


# providers' records recur and stay; one-offs churn
_parse_spf_cached = functools.lru_cache(maxsize=2048)(_parse_spf)


__all__ = [
    "LOOKUP_MECHANISMS",
    "SPF_VERSION",
    "SpfMechanism",
    "SpfMechanismKind",
    "SpfModifier",
    "SpfQualifier",
    "SpfRecord",
    "SpfTerm",
    "expand_domain_macros",
    "is_spf_record",
    "parse_spf",
    "validate_macro_string",
]
