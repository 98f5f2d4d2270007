"""The one escaping function every renderer shows untrusted text through.

TXT records, header fields and server replies are written by strangers. Shown as they are,
an ANSI escape recolours or clears a terminal, a bidi override (U+202E) reorders what a
reader sees, a NUL or a lone surrogate breaks XML and UTF-8 encoders. `escape` keeps every
printable character (`str.isprintable`: letters, marks, symbols, punctuation, the space) and
writes every other one as a visible, unambiguous escape:

- `\\xNN` below U+0100 (`\\x1b`, `\\x00`, `\\x85`)
- `\\uNNNN` up to U+FFFF (`\\u202e`, `\\ud800` for a lone surrogate)
- `\\UNNNNNNNN` above (`\\U000e0001`)

The one thing renderers differ in is which layout characters they keep: a terminal line
keeps none (a newline in a record must not start a line that looks like the tool's own), an
HTML page keeps newlines and tabs (the page lays them out), JUnit XML keeps the three
whitespace characters XML 1.0 allows. Every other character XML 1.0 forbids (C0 controls,
surrogates, U+FFFE, U+FFFF) is not printable, so escaped output is always valid XML text and
always encodes as UTF-8.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "HTML_KEEP",
    "JUNIT_KEEP",
    "MESSAGE_TEXT_KEEP",
    "TERMINAL_KEEP",
    "escape",
]

TERMINAL_KEEP: Final = ""  # one report line is one terminal line
MESSAGE_TEXT_KEEP: Final = "\t"  # header continuation lines are shown with their tab
HTML_KEEP: Final = "\n\t"  # a page lays out newlines and tabs itself
JUNIT_KEEP: Final = "\t\n\r"  # the whitespace XML 1.0 allows in text and attributes


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str, keep: str = TERMINAL_KEEP) -> str:
    """`text` with every character that is neither printable nor in `keep` escaped.

    Linear in the length of `text`; printable text (the usual case) is returned as it is.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)
