"""The records and policy text the MTA-STS findings propose, built from the domain's facts
(never copied from what a stranger published)."""

from __future__ import annotations

from datetime import date

from ...options import audit_date

EXAMPLE_MAX_AGE = 604800  # a week: long enough to resist a fetch being blocked


def txt_zone_line(txt_name: str, record_id: str | None = None, today: date | None = None) -> str:
    """`_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=..."`: a new id when none is given
    (any change of the policy needs a new id for senders to fetch it again). The new id is
    the audit's date, so that the same facts always give the same advice."""
    new_id = record_id or f"{audit_date(today):%Y%m%d}01"
    return f'{txt_name}. 3600 IN TXT "v=STSv1; id={new_id}"'


def example_policy(mx_hosts: tuple[str, ...], mode: str = "enforce") -> str:
    """A policy listing each MX host by name (a wildcard would also cover hosts nobody runs)."""
    lines = ["version: STSv1", f"mode: {mode}"]
    lines += [f"mx: {h}" for h in mx_hosts] or ["mx: mail.example.com"]
    lines.append(f"max_age: {EXAMPLE_MAX_AGE}")
    return "\n".join(lines)


def mx_lines(hosts: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"mx: {h}" for h in hosts)
