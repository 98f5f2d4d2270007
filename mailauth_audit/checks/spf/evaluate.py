"""Judging SPF facts (RFC 7208): pure, from an `SpfResult` to findings.

Work here is bounded by the tree it reads (at most `Limits.max_spf_terms` nodes): each pass is
linear in the nodes, findings about tree nodes are deduplicated and capped per code
(`Limits.max_findings_per_code`), lists in a finding's text name at most 20 items, and every
text quoted in a finding is clipped (`Limits.max_spf_text_chars`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...changes import ChangeAction, RecordChange
from ...findings import spf as F
from ...findings.clip import clip_finding
from ...model import Finding, Severity
from ...options import Limits
from ...records.spf import SpfMechanism, SpfMechanismKind, SpfRecord
from .remediation import (
    TXT_STRING_LIMIT,
    change,
    context,
    merge,
    merged_changes,
    parsed,
    proposal,
    replace_term,
    typo_fix,
    with_all,
    zone_txt_line,
)
from .tree_findings import tree_findings

if TYPE_CHECKING:
    from .result import SpfResult

UDP_ANSWER_LIMIT = 512  # §3.4
_MX_ONLY = "v=spf1 mx -all"  # the first proposal of spf.missing

_GLUED_TERM = re.compile(
    r"[+\-~?]?(?:all|include|a|mx|ptr|ip4|ip6|exists)(?:[:/]|$)|(?:redirect|exp)=", re.IGNORECASE
)


def _glued_joins(text: str, strings: tuple[str, ...]) -> list[int]:
    """Offsets where two TXT strings were joined with no space into something that reads as
    two terms (§3.3 joins them without adding one): `"…a.example" "include:…"`."""
    out: list[int] = []
    at = 0
    for piece in strings[:-1]:
        at += len(piece)
        if not (0 < at < len(text)) or text[at - 1] == " " or text[at] == " ":
            continue
        end = text.find(" ", at)
        if _GLUED_TERM.match(text[at : end if end >= 0 else len(text)]):
            out.append(at)
    return out


def evaluate_spf(facts: SpfResult, limits: Limits) -> list[Finding]:
    """The findings on these facts, every quoted text clipped to `limits.max_spf_text_chars`."""
    text_limit = limits.max_spf_text_chars
    found = _evaluate(facts, limits)
    if facts.record_ttl:  # a change to the domain's records keeps the TTL they were answered with
        found = [_with_ttl(f, facts.domain, facts.record_ttl) for f in found]
    # a detail or a remediation may quote a record (or its corrected zone line) and a term
    # list, so it gets a few times the room of one evidence string
    return [clip_finding(f, text_limit, 4 * text_limit) for f in found]


def _with_ttl(finding: Finding, domain: str, ttl: int) -> Finding:
    changed = [c for c in finding.changes if c.name == domain and c.current is not None]
    if all(c.ttl == ttl for c in changed):
        return finding
    changes = tuple(
        c.with_ttl(ttl) if c.name == domain and c.current is not None else c
        for c in finding.changes
    )
    return finding.with_changes(changes)


def _evaluate(facts: SpfResult, limits: Limits) -> list[Finding]:
    domain = facts.domain
    out: list[Finding] = []
    if facts.ignored_records:
        out.append(
            F.VERSION_MALFORMED(
                domain=domain,
                count=len(facts.ignored_records),
                records="; ".join(f"`{r}`" for r in facts.ignored_records),
                evidence=facts.ignored_records,
                severity=Severity.HIGH if not facts.records_found else None,
            )
        )
    if facts.longest_txt_string > TXT_STRING_LIMIT:
        out.append(
            F.STRING_TOO_LONG(
                domain=domain,
                length=facts.longest_txt_string,
                fix=proposal(domain, facts.record or ""),
                evidence=facts.records_found,
                changes=change(domain, facts.record or "", facts.record),
            )
        )
    if facts.txt_answer_bytes > UDP_ANSWER_LIMIT:
        out.append(
            F.ANSWER_TOO_LARGE(
                domain=domain,
                count=facts.txt_records,
                size=facts.txt_answer_bytes,
                evidence=facts.records_found,
            )
        )
    if not facts.records_found:
        note = (
            " (A record that looks like SPF is ignored; see spf.version_malformed.)"
            if facts.ignored_records
            else ""
        )
        out.append(
            F.MISSING(
                domain=domain,
                ignored=note,
                mx_line=zone_txt_line(domain, "v=spf1 mx -all"),
                none_line=zone_txt_line(domain, "v=spf1 -all"),
                changes=[RecordChange(ChangeAction.ADD, domain, "TXT", 3600, None, _MX_ONLY)],
            )
        )
        return out
    if len(facts.records_found) > 1:
        merged = merge(facts.records_found)
        hint = f" For example: `{zone_txt_line(domain, merged)}`" if merged else ""
        out.append(
            F.MULTIPLE_RECORDS(
                domain=domain,
                count=len(facts.records_found),
                merged=hint,
                evidence=facts.records_found,
                changes=merged_changes(domain, facts.records_found, merged) if merged else (),
            )
        )
        return out
    text = facts.record or ""
    glued = _glued_joins(text, facts.record_strings)
    if glued:
        fixed = text
        for at in reversed(glued):
            fixed = fixed[:at] + " " + fixed[at:]
        out.append(
            F.STRINGS_JOINED_WITHOUT_SPACE(
                domain=domain,
                count=len(facts.record_strings),
                joins=", ".join(f"`{context(text, at)}` (position {at})" for at in glued),
                fix=proposal(domain, fixed),
                evidence=(*facts.record_strings, text),
                changes=change(domain, text, fixed),
            )
        )
    if facts.syntax_error is not None:
        pos = facts.syntax_error_position or 0
        typo_fixed = typo_fix(text, pos, facts.syntax_error)
        suggestion = (
            f" Corrected record: `{zone_txt_line(domain, typo_fixed)}`" if typo_fixed else ""
        )
        out.append(
            F.SYNTAX_ERROR(
                domain=domain,
                position=pos,
                message=facts.syntax_error,
                context=context(text, pos),
                suggestion=suggestion,
                evidence=(text,),
                changes=change(domain, text, typo_fixed),
            )
        )
        return out
    record = parsed(text)
    if record is None or facts.tree is None:  # saved facts from an older parser; judge nothing
        return out
    out.extend(_record_findings(domain, record, glued=bool(glued)))
    out.extend(tree_findings(facts, record, limits))
    return out


_MECHANISM_NAMES = frozenset(k.value for k in SpfMechanismKind)  # a modifier named so is a typo


def _record_findings(domain: str, record: SpfRecord, *, glued: bool) -> list[Finding]:
    """Findings about the domain's own record text. With strings glued together the text is
    not what the author wrote, so no `all` may only mean it was glued to the term before."""
    out: list[Finding] = []
    all_mech = record.all
    if all_mech is not None:
        # terms are in text order, so those after the `all` start after it (found by
        # position: finding the `all` with `index` would compare it field by field)
        at = all_mech.position
        dead = [t for t in record.terms if t.position > at and isinstance(t, SpfMechanism)]
        if dead:
            moved = replace_term(record.text, all_mech.position, all_mech.text, "")
            moved = moved.rstrip(" ") + " " + all_mech.text
            out.append(
                F.TERMS_AFTER_ALL(
                    domain=domain,
                    terms=", ".join(f"`{t.text}`" for t in dead),
                    all_term=all_mech.text,
                    fix=proposal(domain, moved),
                    evidence=(record.text,),
                    changes=change(domain, record.text, moved),
                )
            )
        if record.redirect is not None:
            out.append(
                F.REDIRECT_IGNORED(
                    domain=domain,
                    all_term=all_mech.text,
                    redirect_term=record.redirect.text,
                    target=record.redirect.value,
                    evidence=(record.text,),
                )
            )
    elif record.redirect is None and not glued:
        out.append(
            F.NO_ALL(
                domain=domain,
                line=zone_txt_line(domain, with_all(record, "-")),
                evidence=(record.text,),
                changes=change(domain, record.text, with_all(record, "-")),
            )
        )
    misused = [
        m
        for m in record.modifiers
        if m.name in _MECHANISM_NAMES and m.name not in ("redirect", "exp")
    ]
    if misused:
        fixed = record.text
        for m in sorted(misused, key=lambda m: -m.position):
            fixed = replace_term(fixed, m.position, m.text, m.text.replace("=", ":", 1))
        out.append(
            F.MECHANISM_AS_MODIFIER(
                domain=domain,
                terms=", ".join(f"`{m.text}`" for m in misused),
                fix=proposal(domain, fixed),
                evidence=(record.text,),
                changes=change(domain, record.text, fixed),
            )
        )
    return out
