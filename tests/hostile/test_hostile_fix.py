"""A record written to be expensive: merging and applying changes to it stays linear-ish."""

from __future__ import annotations

import time

from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.fix.merge import merge_changes
from mailauth_audit.fix.zone import apply_changes

TERMS = 8000
HUGE = "v=spf1 " + " ".join(f"ip4:10.0.{i // 256}.{i % 256}" for i in range(TERMS)) + " ?all"


def _change(proposed: str, code: str, current: str | None = HUGE) -> RecordChange:
    action = ChangeAction.REPLACE if current else ChangeAction.ADD
    return RecordChange(action, "x.example", "TXT", 300, current, proposed, (), (code,))


def test_merging_edits_of_an_8000_term_record_is_fast() -> None:
    # Given three fixes of one 8,000-term SPF record (an all, a removal, an insertion),
    # When they are merged, Then in seconds (a term-by-term dedupe was quadratic)
    changes = [
        _change(HUGE.replace("?all", "-all"), "a"),
        _change(HUGE.replace(" ip4:10.0.3.7 ", " "), "b"),
        _change(HUGE.replace("v=spf1 ", "v=spf1 mx "), "c"),
        _change(HUGE, "d", current=None),
        _change(HUGE.replace("?all", "~all"), "e", current=None),
    ]
    started = time.monotonic()
    merged = merge_changes(changes)
    assert time.monotonic() - started < 10
    replaced = next(c for c in merged if c.current)
    assert replaced.proposed is not None
    assert replaced.proposed.startswith("v=spf1 mx ip4:10.0.0.0 ")
    assert replaced.proposed.endswith(" -all") and " ip4:10.0.3.7 " not in replaced.proposed


def test_applying_changes_to_a_zone_of_20000_records_is_fast() -> None:
    # generous: one pass over the lines (well under a second on an idle machine)
    lines = ["$ORIGIN example.", "$TTL 300", "@ IN SOA ns1 h 1 3600 600 86400 300"]
    lines += [f'h{i} IN TXT "v=spf1 ip4:192.0.2.{i % 256} -all"' for i in range(20_000)]
    zone = "\n".join(lines) + "\n"
    changes = [
        RecordChange(
            ChangeAction.REPLACE,
            f"h{i}.example",
            "TXT",
            300,
            f"v=spf1 ip4:192.0.2.{i % 256} -all",
            "v=spf1 -all",
            (),
            ("x",),
        )
        for i in range(0, 20_000, 1000)
    ]
    started = time.monotonic()
    edit = apply_changes(zone, changes, zones=["example"])
    assert time.monotonic() - started < 30
    assert len(edit.applied) == 20 and not edit.not_found
