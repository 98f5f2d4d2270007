"""The byte-level shortcuts of `json_cost` and the zone-file escape against their plain
definitions, over text strangers publish: controls, quotes, non-ASCII, lone surrogates,
bytes that are not UTF-8."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mailauth_audit.findings.clip import json_cost
from mailauth_audit.records.zonefile import _escape

TRICKY = [
    "",
    "v=spf1 -all",
    'a"b\\c',
    "\x00\x1f\x7f\x80\x9f",
    "tab\there\nnewline\r",
    "é ü 日本 \u2028\u2029 \ufeff",
    "\U0001f600 emoji",
    "\ud800 lone surrogate \udfff",
    "\udc80\udcff surrogate-escaped bytes",
    "\x7f" * 300,
    '"' * 70 + "\\" * 70,
    "x" * 1100 + "\x01",
]


def plain_json_cost(text: str) -> int:
    """The definition: UTF-8 bytes, plus 5 for each control character, DEL, quote or
    backslash (json.dumps writes most of them as 2-6 bytes; the budget counts 6 for all)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    return size + 5 * sum(1 for ch in text if ch < " " or ch in '\x7f"\\')


def plain_escape(chunk: bytes) -> str:
    """The definition: every character as it is, but quote and backslash escaped, and
    control bytes, DEL and non-UTF-8 bytes as \\DDD."""
    out = []
    for ch in chunk.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\{code - 0xDC00:03d}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:03d}")
        else:
            out.append(ch)
    return "".join(out)


def test_json_cost_matches_its_definition_on_tricky_text() -> None:
    for text in TRICKY:
        assert json_cost(text) == plain_json_cost(text), repr(text)


def test_json_cost_bounds_what_json_writes() -> None:
    for text in TRICKY:
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            continue  # json.dumps of a lone surrogate is not UTF-8 at all
        written = json.dumps(text, ensure_ascii=False).encode("utf-8")
        assert len(written) - 2 <= json_cost(text)


@given(st.text(max_size=300))
def test_json_cost_matches_its_definition(text: str) -> None:
    assert json_cost(text) == plain_json_cost(text)


def test_escape_matches_its_definition_on_tricky_bytes() -> None:
    chunks = [t.encode("utf-8", "surrogatepass") for t in TRICKY]
    chunks += [b"\xff\xfe not utf-8", b"\xc3", b"ok \xe2\x80", bytes(range(256))]
    for chunk in chunks:
        assert _escape(chunk) == plain_escape(chunk), chunk


@given(st.binary(max_size=300))
def test_escape_matches_its_definition(chunk: bytes) -> None:
    assert _escape(chunk) == plain_escape(chunk)
