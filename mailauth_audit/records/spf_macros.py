"""SPF macro strings and domain-specs (RFC 7208 §7.1, §4.8): the grammar every
domain-bearing term and `exp=` share, and the expansion of the macros a record can use
without a message (`%{d}`, `%{o}`, `%{h}`). Pure; errors are `RecordSyntaxError` with the
position in the record."""

from __future__ import annotations

import re

from .errors import RecordSyntaxError

_MACRO_BODY = re.compile(r"([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)")
_PLAIN = re.compile(r"[\x21-\x24\x26-\x7e]*")  # visible ASCII but '%': no macro to check
_PLAIN_EXPLAIN = re.compile(r"[\x20-\x24\x26-\x7e]*")  # explain-string: spaces too
_MACRO_LETTERS = frozenset("slodiphcrtv")
_EXP_ONLY_LETTERS = frozenset("crt")
_TOPLABEL = re.compile(
    r"(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]+|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]", re.ASCII
)


def _short(text: str, limit: int = 40) -> str:
    """Quote a piece of a stranger's record for a message without pasting kilobytes of it."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _describe_char(ch: str) -> str:
    if ch == "\ufffd":
        return "a byte that is not valid UTF-8 (shown as U+FFFD)"
    if ch == "\t":
        return "a tab"
    if ch in "\r\n":
        return "a line break"
    if ch == " ":
        return "a space"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"control character U+{ord(ch):04X}"
    if ord(ch) > 0x7E:
        return f"non-ASCII character {ch!r} (U+{ord(ch):04X})"
    return repr(ch)


def validate_macro_string(text: str, *, explanation: bool = False, offset: int = 0) -> bool:
    """Check `text` against §7.1 `macro-string` (or `explain-string` when `explanation`).

    Returns True when the text ends with a macro-expand, which §7.1 `domain-end` needs to
    know. Raises RecordSyntaxError with positions relative to `offset`.
    """
    # most domain-specs hold no macro at all: one regex match instead of a walk per character
    if (_PLAIN_EXPLAIN if explanation else _PLAIN).fullmatch(text) is not None:
        return False
    i = 0
    ends_with_macro = False
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt in ("%", "_", "-") and nxt:
                i += 2
                ends_with_macro = True
                continue
            if nxt != "{":
                raise RecordSyntaxError(
                    "'%' must start a macro: '%{…}', '%%', '%_' or '%-' (write '%%' for a "
                    "literal percent sign)",
                    offset + i,
                )
            close = text.find("}", i + 2)
            if close < 0:
                raise RecordSyntaxError("unterminated macro: '%{' without '}'", offset + i)
            body = text[i + 2 : close]
            m = _MACRO_BODY.fullmatch(body)
            if not body:
                raise RecordSyntaxError("empty macro '%{}'", offset + i)
            letter = body[0].lower()
            if letter not in _MACRO_LETTERS:
                raise RecordSyntaxError(
                    f"unknown macro letter {body[0]!r} in {_short('%{' + body + '}')}",
                    offset + i + 2,
                )
            if m is None:
                raise RecordSyntaxError(
                    f"invalid macro {_short('%{' + body + '}')}: expected a letter, optional "
                    "digits, optional 'r' and delimiters from .-+,/_=",
                    offset + i,
                )
            if letter in _EXP_ONLY_LETTERS and not explanation:
                raise RecordSyntaxError(
                    f"macro {_short('%{' + body + '}')} is allowed only in explanation text "
                    "(RFC 7208 §7.2)",
                    offset + i,
                )
            digits = m.group(2)
            if digits and int(digits) == 0:
                raise RecordSyntaxError(
                    f"macro {_short('%{' + body + '}')}: the digit transformer must be nonzero",
                    offset + i + 3,
                )
            i = close + 1
            ends_with_macro = True
            continue
        if not ("\x21" <= ch <= "\x7e") and not (explanation and ch == " "):
            raise RecordSyntaxError(f"character not allowed here: {_describe_char(ch)}", offset + i)
        ends_with_macro = False
        i += 1
    return ends_with_macro


_MACRO = re.compile(r"%\{([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)\}|%%|%_|%-")


def expand_domain_macros(spec: str, domain: str) -> str | None:
    """Expand a valid domain-spec whose only macros are `%{d}` forms, `%%`, `%_` and `%-`.

    `%{d}` is the domain being evaluated, which an audit knows; every other letter depends on
    the message (sender, IP, HELO), so such specs return None. Follows §7.3: split on the
    delimiters (default "."), reverse with `r`, keep the rightmost N parts, join with ".",
    and cut labels off the left while the name exceeds 253 characters.
    """
    unknown = False

    def one(m: re.Match[str]) -> str:
        nonlocal unknown
        token = m.group(0)
        if token == "%%":
            return "%"
        if token == "%_":
            return " "
        if token == "%-":
            return "%20"
        if m.group(1).lower() != "d":
            unknown = True
            return ""
        delimiters = m.group(4) or "."
        parts = re.split("[" + re.escape(delimiters) + "]", domain)
        if m.group(3):
            parts.reverse()
        if m.group(2):
            parts = parts[-int(m.group(2)) :]
        return ".".join(parts)

    expanded = _MACRO.sub(one, spec)
    if unknown:
        return None
    expanded = expanded.rstrip(".")
    while len(expanded) > 253 and "." in expanded:
        expanded = expanded.split(".", 1)[1]
    return expanded


def _validate_domain_spec(spec: str, offset: int, what: str) -> None:
    """§7.1 domain-spec, plus DNS label sanity for macro-free names."""
    if not spec:
        raise RecordSyntaxError(f"{what}: empty domain-spec", offset)
    ends_with_macro = validate_macro_string(spec, offset=offset)
    if ends_with_macro:
        return
    body = spec[:-1] if spec.endswith(".") else spec
    dot = body.rfind(".")
    top = body[dot + 1 :]
    if dot < 0:
        raise RecordSyntaxError(
            f"{what}: {_short(spec)} is not a fully qualified domain name (no dot)", offset
        )
    if not _TOPLABEL.fullmatch(top):
        if all(c.isdigit() or c == "." for c in body):
            raise RecordSyntaxError(
                f"{what}: {_short(spec)} is an IP address, not a domain name "
                "(use ip4: or ip6: for addresses)",
                offset,
            )
        raise RecordSyntaxError(
            f"{what}: {_short(spec)} does not end in a valid top-level label ({_short(top)})",
            offset + dot + 1,
        )
    if "%" in spec:
        return  # expands at evaluation time; label lengths are unknowable here
    labels = body.split(".")
    if "" in labels or max(map(len, labels)) > 63:  # then find the first bad one, and where
        pos = 0
        for label in labels:
            if not label:
                raise RecordSyntaxError(f"{what}: empty label in {_short(spec)}", offset + pos)
            if len(label) > 63:
                raise RecordSyntaxError(
                    f"{what}: label longer than 63 characters in {_short(spec)}", offset + pos
                )
            pos += len(label) + 1
    if len(body) > 253:
        raise RecordSyntaxError(f"{what}: domain name longer than 253 characters", offset)
