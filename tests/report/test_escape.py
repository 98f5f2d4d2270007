"""The one escaping function: table-driven cases, properties over any text, and every
renderer going through it."""

from __future__ import annotations

import time
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailauth_audit.report import escape as escape_module
from mailauth_audit.report.escape import (
    HTML_KEEP,
    JUNIT_KEEP,
    MESSAGE_TEXT_KEEP,
    TERMINAL_KEEP,
    escape,
)

KEEPS = (TERMINAL_KEEP, MESSAGE_TEXT_KEEP, HTML_KEEP, JUNIT_KEEP)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize(
    ("text", "keep", "shown"),
    [
        ("v=spf1 -all", TERMINAL_KEEP, "v=spf1 -all"),
        ("héllo wörld ✓ 日本", TERMINAL_KEEP, "héllo wörld ✓ 日本"),
        ("", TERMINAL_KEEP, ""),
        ("a\x00b", TERMINAL_KEEP, "a\\x00b"),  # NUL
        ("\x1b[31mred\x1b[0m", TERMINAL_KEEP, "\\x1b[31mred\\x1b[0m"),  # ANSI colour
        ("\x1b]0;title\x07", TERMINAL_KEEP, "\\x1b]0;title\\x07"),  # OSC: set window title
        ("\x7f\x85\xa0", TERMINAL_KEEP, "\\x7f\\x85\\xa0"),  # DEL, NEL (C1), no-break space
        ("evil\u202etxt.exe", TERMINAL_KEEP, "evil\\u202etxt.exe"),  # right-to-left override
        ("a\u2066b\u2069", TERMINAL_KEEP, "a\\u2066b\\u2069"),  # bidi isolates
        ("zero\u200bwidth", TERMINAL_KEEP, "zero\\u200bwidth"),
        ("line\u2028sep", TERMINAL_KEEP, "line\\u2028sep"),
        ("lone \ud800 surrogate", TERMINAL_KEEP, "lone \\ud800 surrogate"),
        ("\udcff", TERMINAL_KEEP, "\\udcff"),
        ("\ufffe\uffff", TERMINAL_KEEP, "\\ufffe\\uffff"),
        ("tag \U000e0041", TERMINAL_KEEP, "tag \\U000e0041"),
        ("private \U000f0000", TERMINAL_KEEP, "private \\U000f0000"),
        ("a\tb\nc\rd", TERMINAL_KEEP, "a\\x09b\\x0ac\\x0dd"),
        ("a\tb\nc\rd", MESSAGE_TEXT_KEEP, "a\tb\\x0ac\\x0dd"),
        ("a\tb\nc\rd", HTML_KEEP, "a\tb\nc\\x0dd"),
        ("a\tb\nc\rd", JUNIT_KEEP, "a\tb\nc\rd"),
        ("x\x0by\x0cz", JUNIT_KEEP, "x\\x0by\\x0cz"),  # not XML 1.0 characters
        ("quotes \" ' < > & \\ stay", TERMINAL_KEEP, "quotes \" ' < > & \\ stay"),
    ],
)
def test_escape(text: str, keep: str, shown: str) -> None:
    assert escape(text, keep) == shown


def _xml_char(ch: str) -> bool:
    c = ord(ch)
    return ch in "\t\n\r" or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or c >= 0x10000


@given(st.text(), st.sampled_from(KEEPS))
def test_any_text_comes_out_inert(text: str, keep: str) -> None:
    out = escape(text, keep)
    assert all(ch.isprintable() or ch in keep for ch in out)
    assert "\x1b" not in out and "\x00" not in out
    assert not any(ch in BIDI for ch in out)
    assert not any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in out if ch not in keep
    )
    out.encode("utf-8")  # no lone surrogate survives
    assert all(_xml_char(ch) for ch in out)
    assert len(out) <= 10 * len(text)


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")))
)
def test_printable_text_is_unchanged(text: str) -> None:
    text = "".join(ch for ch in text if ch.isprintable())
    for keep in KEEPS:
        assert escape(text, keep) == text


@given(st.text(), st.text())
def test_escaping_is_per_character(a: str, b: str) -> None:
    """What a prefix shows does not depend on what follows (no state carried across)."""
    assert escape(a + b) == escape(a) + escape(b)


@given(st.text())
def test_junit_escaping_is_valid_xml(text: str) -> None:
    el = ET.Element("failure", message=escape(text, JUNIT_KEEP))
    el.text = escape(text, JUNIT_KEEP)
    ET.fromstring(ET.tostring(el, encoding="unicode"))


@pytest.mark.parametrize("unit", ["a", "\x1b", "\u202e", "\U000e0041", "é"])
def test_over_long_input_is_linear(unit: str) -> None:
    """Half a million characters (more than any record or header the tool reads) escape in linear
    time, and the output is at most 10 characters per input character."""
    text = unit * 500_000
    start = time.perf_counter()
    out = escape(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, elapsed  # generous: two loaded cores
    assert len(out) <= 10 * len(text)
    assert out.startswith(escape(unit * 20))


def test_every_renderer_escapes_through_the_one_function() -> None:
    """No renderer of report/ keeps an escaping loop of its own."""
    report = Path(escape_module.__file__).parent
    own = []
    for path in sorted(report.glob("*.py")):
        if path.name == "escape.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "isprintable" in source or "x{ord(" in source or "u{ord(" in source:
            own.append(path.name)
    assert own == []
