"""The Authentication-Results header field (RFC 8601) for a verified message.

One resinfo per method and identity: `dkim=` per signature with header.d/header.s/header.a
and header.b (RFC 6008, to tell signatures of one domain apart), `spf=` for MAIL FROM and
HELO, `dmarc=` with header.from and policy.dmarc, `arc=`. Values come from the message (a
stranger wrote them), so each is checked against the RFC 8601 value grammar and quoted when
it is not a plain token, and comments have their parentheses and backslashes escaped: a
hostile d= cannot inject a result of its own.
"""

from __future__ import annotations

import re

from .model import ArcResult, DkimSignatureResult, DmarcEvaluation, SpfEvaluation

__all__ = ["DEFAULT_AUTHSERV_ID", "authentication_results"]

DEFAULT_AUTHSERV_ID = "mailauth-audit"
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`{|}~@]+")  # RFC 2045 token, plus '@' (dot-atom)


def _value(text: str) -> str:
    text = "".join(ch for ch in text if 0x20 <= ord(ch) < 0x7F)[:200]
    if text and _TOKEN.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str | None) -> str:
    if not text:
        return ""
    clean = "".join(ch for ch in text if 0x20 <= ord(ch) < 0x7F)[:160]
    clean = clean.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f" ({clean})"


def _props(pairs: list[tuple[str, str | None]]) -> str:
    return "".join(f" {key}={_value(val)}" for key, val in pairs if val)


def authentication_results(
    authserv_id: str,
    dkim: tuple[DkimSignatureResult, ...],
    spf: SpfEvaluation | None,
    dmarc: DmarcEvaluation | None,
    arc: ArcResult | None,
) -> str:
    """The whole field, folded with CRLF + TAB between resinfos, without a trailing CRLF."""
    parts: list[str] = []
    if not dkim:
        parts.append("dkim=none")
    for sig in dkim:
        reason = sig.reason
        if sig.result.value == "pass" and sig.key_type == "ed25519":
            reason = "ed25519 key"
        elif sig.result.value == "pass" and sig.key_bits:
            reason = f"{sig.key_bits}-bit key"
        parts.append(
            f"dkim={sig.result.value}{_comment(reason)}"
            + _props(
                [
                    ("header.d", sig.domain),
                    ("header.i", sig.identity),
                    ("header.s", sig.selector),
                    ("header.a", sig.algorithm),
                    ("header.b", sig.header_b),
                ]
            )
        )
    if spf is not None:
        if spf.mail_from is not None:
            parts.append(
                f"spf={spf.mail_from.result.value}"
                + _comment(
                    f"{spf.mail_from.domain}: {spf.envelope.client_ip} "
                    f"{spf.mail_from.explanation}".strip()
                )
                + _props([("smtp.mailfrom", spf.mail_from.sender)])
            )
        if spf.helo is not None:
            parts.append(f"spf={spf.helo.result.value}" + _props([("smtp.helo", spf.helo.domain)]))
        # not evaluated (no client IP): no spf resinfo at all, since "spf=none" would claim
        # the domain publishes no record (RFC 8601 §2.7.2, §2.2: absent means not checked)
    if dmarc is not None:
        policy = dmarc.policy.upper() if dmarc.policy else None
        parts.append(
            f"dmarc={dmarc.result.value}"
            + _comment(
                f"p={policy} dis={dmarc.disposition.value.upper()}" if policy else dmarc.reason
            )
            + _props([("header.from", dmarc.from_domain), ("policy.dmarc", dmarc.policy)])
        )
    if arc is not None and arc.result.value != "none":
        parts.append(f"arc={arc.result.value}{_comment(arc.reason)}")
    head = f"Authentication-Results: {_value(authserv_id)}"
    return head + ";\r\n\t" + ";\r\n\t".join(parts)
