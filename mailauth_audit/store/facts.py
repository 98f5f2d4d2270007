"""An audit's check statuses and finding codes in one short text column of its row.

Why one column and not a row per check and per finding: those rows cost more at rest than
the compressed report they summarise (a row header, a key and an index entry each), and
what reads them wants all of one audit's at once. The report blob keeps everything (finding
parameters included); this is what lists and filters read without decoding it.

    mx:p,spf:e/dns_timeout,dmarc:f|dmarc.missing:h,spf.softfail_all:l

Statuses and severities are written as their first letter (a value this version does not
know is written whole: every known one is a single letter, so the two cannot be confused).
Check ids, statuses, reasons, codes and severities are identifiers ([a-z0-9_.-]): none holds
":", ",", "/" or "|".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model import CheckStatus, Severity
from ..report.line5 import finding_heads

__all__ = ["AuditFacts", "facts_text", "parse_facts"]

_WORD = re.compile(r"[a-z0-9_.-]{1,80}")
_SHORT = {v.value: v.value[0] for v in (*CheckStatus, *Severity)}
_STATUS_OF = {v.value[0]: v.value for v in CheckStatus}
_SEVERITY_OF = {v.value[0]: v.value for v in Severity}
assert len(_STATUS_OF) == len(CheckStatus) and len(_SEVERITY_OF) == len(Severity)


@dataclass(frozen=True)
class AuditFacts:
    statuses: dict[str, str]  # check -> status
    reasons: dict[str, str]  # check -> error or skip reason, when the document gave one
    findings: tuple[tuple[str, str], ...]  # (code, severity), in the report's order


def _word(value: object) -> str | None:
    return value if isinstance(value, str) and _WORD.fullmatch(value) else None


def facts_text(checks: Mapping[str, Any] | None) -> str:
    """The column's text for a document's "checks" object; what is not an identifier is
    left out (the blob still has it)."""
    statuses: list[str] = []
    findings: list[str] = []
    for check_id, outcome in (checks or {}).items():
        if not isinstance(outcome, dict) or _word(check_id) is None:
            continue
        status = _word(outcome.get("status"))
        if status is None:
            continue
        error = outcome.get("error")
        reason = _word(error.get("reason")) if isinstance(error, dict) else None
        if reason is None:
            reason = _word(outcome.get("skip_reason"))
        short = _SHORT.get(status, status)
        statuses.append(f"{check_id}:{short}" + (f"/{reason}" if reason else ""))
        for f in finding_heads(outcome.get("findings")):
            code, severity = _word(f.get("code")), _word(f.get("severity"))
            if code is not None and severity is not None:
                findings.append(f"{code}:{_SHORT.get(severity, severity)}")
    return ",".join(statuses) + "|" + ",".join(findings)


def parse_facts(text: str | None) -> AuditFacts | None:
    """The column read back; None for a row written without one."""
    if text is None:
        return None
    head, _, tail = text.partition("|")
    statuses: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for item in filter(None, head.split(",")):
        check, _, rest = item.partition(":")
        status, _, reason = rest.partition("/")
        statuses[check] = _STATUS_OF.get(status, status)
        if reason:
            reasons[check] = reason
    found = tuple(
        (code, _SEVERITY_OF.get(severity, severity))
        for code, _, severity in (item.partition(":") for item in filter(None, tail.split(",")))
    )
    return AuditFacts(statuses, reasons, found)
