"""Text as an HTML page shows it: escapes for control characters, links, error messages.

Only text the tool ships is linked (RFC references, provider sources); text read from DNS is
never made into a link. Output is Markup built from escaped parts: autoescaping stays on.
"""

from __future__ import annotations

import re

import markupsafe

from .escape import HTML_KEEP, escape


def printable(text: str) -> str:
    """Show control, format and separator characters as escapes; keep newlines and tabs
    (see report/escape.py)."""
    return escape(text, HTML_KEEP)


_URL = re.compile(r"https?://[^\s<>\"']+")
_REF = re.compile(r"^RFC (?P<num>\d{3,5})(?: §(?P<sec>[\d.]+)| Appendix (?P<app>[A-Z][\d.]*))?$")
_COULD_NOT_CHECK = "could not check:"


def linkify(text: str) -> markupsafe.Markup:
    """Our own source text with its http(s) URLs as links; everything else escaped.

    Only for text the tool ships (provider sources); text read from DNS is never linked.
    """
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:)")
        out.append(str(markupsafe.escape(printable(text[pos : m.start()]))))
        href = markupsafe.escape(url)
        out.append(f'<a href="{href}" rel="noopener noreferrer">{href}</a>')
        pos = m.start() + len(url)
    out.append(str(markupsafe.escape(printable(text[pos:]))))
    return markupsafe.Markup("".join(out))


def reference_link(ref: str) -> markupsafe.Markup:
    """Link "RFC 7208 §4.6.4" to that section on rfc-editor.org; other text as is."""
    m = _REF.match(ref)
    if m is None:
        return markupsafe.Markup(markupsafe.escape(printable(ref)))
    url = f"https://www.rfc-editor.org/rfc/rfc{m['num']}"
    if m["sec"]:
        url += f"#section-{m['sec'].rstrip('.')}"
    elif m["app"]:
        url += f"#appendix-{m['app'].rstrip('.')}"
    return markupsafe.Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, ref)


def error_text(message: str) -> str:
    """An error message without the engine's "could not check:" (the page says it once)."""
    if message.lower().startswith(_COULD_NOT_CHECK):
        return message[len(_COULD_NOT_CHECK) :].lstrip()
    return message
