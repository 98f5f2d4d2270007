"""Text and JSON for `history`, `diff` and `alerts`: presents the store's views, judges
nothing. JSON documents carry `kind` and `format` (store.views.HISTORY_FORMAT) and are the
views' dataclasses encoded by the report codec (schema: `history_schema.json`)."""

from __future__ import annotations

import json
from typing import Any

from ..store.diff import AuditDiff
from ..store.views import HISTORY_FORMAT, DomainHistory, RunDiff, StoredEvent
from .codec import encode_value

__all__ = [
    "diff_text",
    "events_text",
    "history_text",
    "json_document",
    "run_diff_text",
]


def json_document(kind: str, value: Any) -> str:
    doc = {"kind": kind, "format": HISTORY_FORMAT, kind: encode_value(value)}
    if isinstance(value, RunDiff):
        doc[kind]["worse"] = value.worse
        doc[kind]["better"] = value.better
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _day(at: str | None) -> str:
    return "-" if not at else at[:16].replace("T", " ")


def _grade(grade: str | None) -> str:
    return grade or "–"


def history_text(history: DomainHistory) -> str:
    if not history.entries:
        return f"{history.domain}: no stored audit\n"
    lines = [f"{history.domain}: {len(history.entries)} audits", ""]
    lines.append(f"  {'when (UTC)':<17} {'grade':<5} {'score':>5}  checks / what changed")
    for e in history.entries:
        checks = " ".join(f"{c}={s}" for c, s in e.check_statuses.items())
        if not e.decodable:
            checks = "(stored by a version whose report this one cannot read)"
        score = "" if e.score is None else str(e.score)
        lines.append(f"  {_day(e.audited_at):<17} {_grade(e.grade):<5} {score:>5}  {checks}")
        for ev in (x for x in history.events if x.audit_id == e.audit_id):
            lines.append(f"  {'':<17} {'':<5} {'':>5}  ! {_event_line(ev)}")
    return "\n".join(lines) + "\n"


def _event_line(e: StoredEvent) -> str:
    change = ""
    if e.before is not None or e.after is not None:
        change = f": {e.before or '(none)'} -> {e.after or '(none)'}"
    return f"[{e.severity}] {e.code} {e.subject}{change}"


def diff_text(d: AuditDiff) -> str:
    lines = [
        f"{d.domain}: audit {d.before_audit} ({_day(d.before_at)}) -> "
        f"audit {d.after_audit} ({_day(d.after_at)})"
    ]
    if d.grade_before != d.grade_after or d.score_before != d.score_after:
        lines.append(
            f"  grade {_grade(d.grade_before)} ({d.score_before}) -> "
            f"{_grade(d.grade_after)} ({d.score_after})"
        )
    for s in d.statuses:
        lines.append(f"  check {s.check}: {s.before or '(absent)'} -> {s.after or '(absent)'}")
    for r in d.records:
        lines.append(f"  {r.change} {r.type} {r.name}")
        lines.extend(f"    - {v}" for v in r.before)
        if r.before and (answer := _answer(r.ttl_before, r.server_before)):
            lines.append(f"      {answer}")
        lines.extend(f"    + {v}" for v in r.after)
        if r.after and (answer := _answer(r.ttl_after, r.server_after)):
            lines.append(f"      {answer}")
        if r.servers_differ:
            lines.append(
                f"      answered by different servers ({r.server_before}, then "
                f"{r.server_after}): they may disagree, rather than the record have changed"
            )
    for f in d.findings:
        mark = "+" if f.change == "appeared" else "-"
        lines.append(f"  {mark} finding {f.code} [{f.severity}] {f.change}")
    if d.not_compared:
        lines.append(f"  not compared (could not check in one audit): {', '.join(d.not_compared)}")
    if not d.changed:
        lines.append("  no change")
    return "\n".join(lines) + "\n"


def _answer(ttl: int | None, server: str | None) -> str:
    """ "(TTL 300, from resolver 127.0.0.1:53)": how a record was answered, when known."""
    parts = ([f"TTL {ttl}"] if ttl is not None else []) + ([f"from {server}"] if server else [])
    return f"({', '.join(parts)})" if parts else ""


def run_diff_text(d: RunDiff) -> str:
    lines = [
        f"run {d.run_before} ({d.domains_before} domains) -> run {d.run_after} "
        f"({d.domains_after} domains): {d.worse} worse, {d.better} better, "
        f"{len(d.changes) - d.worse - d.better} changed, {d.unchanged} unchanged",
    ]
    if d.only_before:
        lines.append(f"  only in run {d.run_before}: {', '.join(d.only_before[:20])}")
    if d.only_after:
        lines.append(f"  only in run {d.run_after}: {', '.join(d.only_after[:20])}")
    shown = len(d.changes) - d.details_omitted
    for c in d.changes[:shown]:
        lines.append(
            f"  {c.direction:<7} {c.domain}: {_grade(c.grade_before)} ({c.score_before}) -> "
            f"{_grade(c.grade_after)} ({c.score_after})"
        )
        if c.diff is not None:
            body = diff_text(c.diff).splitlines()[1:]
            # the grade is on the line above; "no change" cannot be (the reports differ)
            kept = (x.strip() for x in body)
            lines.extend(
                "    " + x for x in kept if x != "no change" and not x.startswith("grade ")
            )
    if d.details_omitted:
        rest = d.changes[shown:]
        worse = sum(1 for c in rest if c.direction == "worse")
        better = sum(1 for c in rest if c.direction == "better")
        lines.append(
            f"  … and {d.details_omitted} more changed domains ({worse} worse, {better} better, "
            f"{d.details_omitted - worse - better} changed) not shown: --details N or --full "
            "to show more, -f json or -f html for all"
        )
    return "\n".join(lines) + "\n"


def events_text(found: list[StoredEvent]) -> str:
    if not found:
        return "no events\n"
    lines = []
    for e in found:
        ack = f" (acknowledged {_day(e.acked_at)})" if e.acked_at else ""
        lines.append(f"#{e.id} {_day(e.created_at)} {e.domain} {_event_line(e)}{ack}")
    return "\n".join(lines) + "\n"
