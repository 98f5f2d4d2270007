"""Schedules in the store: validated definitions, and the claim that fires a tick once.

A tick is fired by whichever scheduler inserts its (schedule, cron time) row first: the
table's UNIQUE constraint makes the insert itself the lock, so two `serve` processes (or
two scheduler loops in one) sharing a store fire each tick once, on SQLite and PostgreSQL
alike, without a lock server or a leader.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from croniter import croniter
from sqlalchemy import delete, func, select

from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..model import CheckId
from ..options import ServiceLimits
from ..store.connect import StoreError
from ..store.record import dialect_insert, utc_text
from ..store.schema import schedule_ticks, schedules
from ..store.store import Store

__all__ = [
    "CRON_ALIASES",
    "Schedule",
    "ScheduleConflict",
    "ScheduleInput",
    "claim_tick",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "last_due",
    "list_schedules",
    "note_tick",
    "parse_schedule",
    "ticks_of",
    "update_schedule",
]

CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MAX_NAME = 100
FIELDS = ("name", "cron", "group", "domains", "checks", "webhooks", "emails", "enabled")


class ScheduleConflict(StoreError):
    """The name is taken, or the store holds `max_schedules` already."""


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    cron: str  # five fields, UTC, or an @alias
    group: str  # the name of the group of domains
    domains: tuple[str, ...]
    checks: tuple[str, ...] | None  # None: the checks `serve` was started with
    webhooks: tuple[str, ...]
    emails: tuple[str, ...]
    enabled: bool
    created_at: str
    updated_at: str  # ticks before this time are never fired


@dataclass(frozen=True)
class ScheduleInput:
    """What a caller may set; None: not given (an update keeps the stored value)."""

    name: str | None = None
    cron: str | None = None
    group: str | None = None
    domains: tuple[str, ...] | None = None
    checks: tuple[str, ...] | None = None
    webhooks: tuple[str, ...] | None = None
    emails: tuple[str, ...] | None = None
    enabled: bool | None = None


def _valid_cron(text: str) -> str | None:
    """Why the expression is refused, or None. Five fields (minute precision) or an alias:
    a sixth (seconds) field would let one schedule submit a job every second."""
    expr = " ".join(text.split())
    if expr.startswith("@"):
        return None if expr in CRON_ALIASES else f"unknown alias (use {', '.join(CRON_ALIASES)})"
    if len(expr.split(" ")) != 5:
        return "a cron expression has five fields: minute hour day-of-month month day-of-week"
    return None if croniter.is_valid(expr) else "not a valid cron expression"


def _webhook_problem(url: str, allow_private: bool) -> str | None:
    if len(url) > 380:
        return "longer than 380 characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an http:// or https:// URL with a host"
    if parts.username or parts.password:
        return "credentials in the URL would be stored: sign with the webhook secret instead"
    host = parts.hostname
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "a loopback host (allowed only by `serve --allow-private-targets`)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return "a non-global address (allowed only by `serve --allow-private-targets`)"
    return None


def _strings(doc: dict[str, Any], key: str, problems: list[dict[str, Any]]) -> list[Any] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append({"field": key, "index": None, "value": None, "reason": "not a list"})
        return None
    return value


def _problem(
    field: str, reason: str, index: int | None = None, value: Any = None
) -> dict[str, Any]:
    shown = None if value is None else str(value)[:300]
    return {"field": field, "index": index, "value": shown, "reason": reason}


def parse_schedule(
    doc: Any, limits: ServiceLimits, *, partial: bool, allow_private: bool
) -> ScheduleInput | list[dict[str, Any]]:
    """A request body as a ScheduleInput, or every problem found (field, index, reason)."""
    if not isinstance(doc, dict):
        return [_problem("", "the body must be a JSON object")]
    problems: list[dict[str, Any]] = []
    for key in sorted(set(doc) - set(FIELDS)):
        problems.append(_problem(str(key)[:100], f"unknown field (known: {', '.join(FIELDS)})"))
    if not partial:
        for key in ("name", "cron", "domains"):
            if key not in doc:
                problems.append(_problem(key, "required"))
    out: dict[str, Any] = {}
    for key in ("name", "group"):
        if key in doc:
            value = doc[key]
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
                problems.append(_problem(key, f"1 to {MAX_NAME} characters", value=value))
            elif any(ord(c) < 32 for c in value):
                problems.append(_problem(key, "control characters", value=value))
            else:
                out[key] = value.strip()
    if "cron" in doc:
        value = doc["cron"]
        reason = _valid_cron(value) if isinstance(value, str) and len(value) <= 120 else "text"
        if reason is not None:
            problems.append(_problem("cron", reason, value=value))
        else:
            out["cron"] = " ".join(str(value).split())
    if "enabled" in doc:
        if not isinstance(doc["enabled"], bool):
            problems.append(_problem("enabled", "true or false", value=doc["enabled"]))
        else:
            out["enabled"] = doc["enabled"]
    raw = _strings(doc, "domains", problems)
    if raw is not None:
        if not raw or len(raw) > limits.max_domains_per_request:
            problems.append(
                _problem(
                    "domains",
                    f"{len(raw)} domains; a schedule names 1 to {limits.max_domains_per_request} "
                    "(ServiceLimits.max_domains_per_request)",
                )
            )
        else:
            names: list[str] = []
            for index, value in enumerate(raw):
                try:
                    if not isinstance(value, str):
                        raise InvalidDomainError("not a string")
                    name = normalize_domain(value)
                except InvalidDomainError as exc:
                    problems.append(_problem("domains", str(exc), index, value))
                    continue
                if name not in names:
                    names.append(name)
            out["domains"] = tuple(names)
    raw = _strings(doc, "checks", problems)
    if raw is not None:
        known = {c.value for c in CheckId}
        for index, value in enumerate(raw):
            if not isinstance(value, str) or value.strip().lower() not in known:
                problems.append(_problem("checks", "unknown check", index, value))
        out["checks"] = tuple(sorted({str(v).strip().lower() for v in raw})) or None
    targets = 0
    for key in ("webhooks", "emails"):
        raw = _strings(doc, key, problems)
        if raw is None:
            continue
        targets += len(raw)
        good: list[str] = []
        for index, value in enumerate(raw[: limits.max_alert_targets + 1]):
            reason = (
                "not a string"
                if not isinstance(value, str)
                else _webhook_problem(value, allow_private)
                if key == "webhooks"
                else _email_problem(value)
            )
            if reason is not None:
                problems.append(_problem(key, reason, index, value))
            else:
                good.append(value.strip() if key == "emails" else value)
        out[key] = tuple(good)
    if targets > limits.max_alert_targets:
        problems.append(
            _problem(
                "webhooks",
                f"{targets} alert targets; at most {limits.max_alert_targets} "
                "(ServiceLimits.max_alert_targets)",
            )
        )
    return problems if problems else ScheduleInput(**out)


def _email_problem(value: str) -> str | None:
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or len(value) > 254 or any(c in local for c in ' <>,;"\r\n'):
        return "an address like ops@example.com"
    try:
        normalize_domain(domain)
    except InvalidDomainError as exc:
        return str(exc)
    return None


def _schedule(row: Any) -> Schedule:
    checks = json.loads(row.checks) if row.checks else None
    targets = json.loads(row.targets)
    return Schedule(
        id=int(row.id),
        name=str(row.name),
        cron=str(row.cron),
        group=str(row.group_name),
        domains=tuple(json.loads(row.domains)),
        checks=tuple(checks) if checks else None,
        webhooks=tuple(t[8:] for t in targets if t.startswith("webhook:")),
        emails=tuple(t[6:] for t in targets if t.startswith("email:")),
        enabled=bool(row.enabled),
        created_at=str(row.created_at),
        updated_at=str(row.updated_at),
    )


def _targets(webhooks: tuple[str, ...], emails: tuple[str, ...]) -> str:
    return json.dumps([f"webhook:{w}" for w in webhooks] + [f"email:{e}" for e in emails])


def create_schedule(store: Store, given: ScheduleInput, limits: ServiceLimits) -> Schedule:
    assert given.name is not None and given.cron is not None and given.domains is not None
    now = utc_text()
    with store.transaction() as conn:
        count = conn.execute(select(func.count()).select_from(schedules)).scalar_one()
        if count >= limits.max_schedules:
            raise ScheduleConflict(
                f"the store holds {count} schedules (ServiceLimits.max_schedules): delete one"
            )
        if conn.execute(select(schedules.c.id).where(schedules.c.name == given.name)).first():
            raise ScheduleConflict(f"a schedule named {given.name!r} exists already")
        row_id = conn.execute(
            schedules.insert().values(
                name=given.name,
                cron=given.cron,
                group_name=given.group or given.name,
                domains=json.dumps(list(given.domains)),
                checks=json.dumps(list(given.checks)) if given.checks else None,
                targets=_targets(given.webhooks or (), given.emails or ()),
                enabled=True if given.enabled is None else given.enabled,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
        assert row_id is not None
        row = conn.execute(select(schedules).where(schedules.c.id == int(row_id[0]))).one()
    return _schedule(row)


def list_schedules(store: Store, *, enabled_only: bool = False) -> list[Schedule]:
    query = select(schedules).order_by(schedules.c.id)
    if enabled_only:
        query = query.where(schedules.c.enabled.is_(True))
    with store.transaction(write=False) as conn:
        return [_schedule(r) for r in conn.execute(query)]


def get_schedule(store: Store, schedule_id: int) -> Schedule | None:
    with store.transaction(write=False) as conn:
        row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
    return None if row is None else _schedule(row)


def update_schedule(store: Store, schedule_id: int, given: ScheduleInput) -> Schedule | None:
    """Change the given fields; the schedule then fires from its next tick after now."""
    with store.transaction() as conn:
        row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        if row is None:
            return None
        old = _schedule(row)
        if given.name is not None and given.name != old.name:
            taken = conn.execute(select(schedules.c.id).where(schedules.c.name == given.name))
            if taken.first() is not None:
                raise ScheduleConflict(f"a schedule named {given.name!r} exists already")
        webhooks = old.webhooks if given.webhooks is None else given.webhooks
        emails = old.emails if given.emails is None else given.emails
        values: dict[str, Any] = {"updated_at": utc_text(), "targets": _targets(webhooks, emails)}
        if given.name is not None:
            values["name"] = given.name
        if given.cron is not None:
            values["cron"] = given.cron
        if given.group is not None:
            values["group_name"] = given.group
        if given.domains is not None:
            values["domains"] = json.dumps(list(given.domains))
        if given.checks is not None:
            values["checks"] = json.dumps(list(given.checks))
        if given.enabled is not None:
            values["enabled"] = given.enabled
        conn.execute(schedules.update().where(schedules.c.id == schedule_id).values(**values))
        row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).one()
    return _schedule(row)


def delete_schedule(store: Store, schedule_id: int) -> bool:
    with store.transaction() as conn:
        conn.execute(delete(schedule_ticks).where(schedule_ticks.c.schedule_id == schedule_id))
        gone = conn.execute(delete(schedules).where(schedules.c.id == schedule_id)).rowcount
    return bool(gone)


def last_due(cron: str, now: datetime) -> datetime:
    """The latest cron time at or before `now` (UTC, whole seconds)."""
    base = now.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    due: datetime = croniter(cron, base).get_prev(datetime)
    return due if due.tzinfo is not None else due.replace(tzinfo=UTC)


def claim_tick(store: Store, schedule_id: int, tick_at: datetime) -> int | None:
    """The new tick row's id when this caller is the first to claim the tick, else None."""
    with store.transaction() as conn:
        inserted = conn.execute(
            dialect_insert(conn, schedule_ticks)
            .values(schedule_id=schedule_id, tick_at=utc_text(tick_at), claimed_at=utc_text())
            .on_conflict_do_nothing(index_elements=["schedule_id", "tick_at"])
            .returning(schedule_ticks.c.id)
        ).first()
    return None if inserted is None else int(inserted[0])


def note_tick(store: Store, tick_id: int, *, run_id: int | None, error: str | None) -> None:
    with store.transaction() as conn:
        conn.execute(
            schedule_ticks.update()
            .where(schedule_ticks.c.id == tick_id)
            .values(run_id=run_id, error=error)
        )


def ticks_of(store: Store, schedule_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The schedule's latest fired ticks, newest first."""
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            select(
                schedule_ticks.c.tick_at,
                schedule_ticks.c.claimed_at,
                schedule_ticks.c.run_id,
                schedule_ticks.c.error,
            )
            .where(schedule_ticks.c.schedule_id == schedule_id)
            .order_by(schedule_ticks.c.tick_at.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]
