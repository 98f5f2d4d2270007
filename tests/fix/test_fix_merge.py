"""Merging every finding's changes for one record: nothing not at fault is lost, later fixes
never undo earlier ones, conflicts resolve the same way every time."""

from __future__ import annotations

import itertools

import pytest

from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.fix.merge import merge_changes
from mailauth_audit.records.dmarc import parse_dmarc
from mailauth_audit.records.spf import parse_spf

A, R, D = ChangeAction.ADD, ChangeAction.REPLACE, ChangeAction.REMOVE


def rc(action: ChangeAction, name: str, current: str | None, proposed: str | None, code: str,
       rtype: str = "TXT", placeholders: tuple[str, ...] = ()) -> RecordChange:  # fmt: skip
    return RecordChange(action, name, rtype, 300, current, proposed, placeholders, (code,))


DMARC = "v=DMARC1; p=none; pct=50; fo=1; rua=mailto:a@example.com,mailto:b@example.net"
DMARC_FIXES = [
    rc(R, "_dmarc.x", DMARC, DMARC.replace("p=none", "p=quarantine"), "dmarc.policy_none"),
    rc(R, "_dmarc.x", DMARC, DMARC + "; np=reject", "dmarc.np_absent"),
    rc(R, "_dmarc.x", DMARC, DMARC.replace(" pct=50;", ""), "dmarc.removed_tag"),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_dmarc_fixes_all_survive_in_any_order_and_keep_other_tags(order: tuple[int, ...]) -> None:
    (merged,) = merge_changes(DMARC_FIXES[i] for i in order)
    record = parse_dmarc(merged.proposed or "")
    assert merged.action is R and merged.current == DMARC
    assert record.policy is not None and record.policy.value == "quarantine"
    assert record.nonexistent_subdomain_policy is not None
    assert record.percentage is None
    assert record.failure_options == ("1",)  # fo=1 kept
    assert [u.uri for u in record.rua] == ["mailto:a@example.com", "mailto:b@example.net"]
    assert merged.fixes == ("dmarc.np_absent", "dmarc.policy_none", "dmarc.removed_tag")


def test_strictest_policy_wins() -> None:
    cur = "v=DMARC1; p=none"
    (merged,) = merge_changes(
        [
            rc(R, "_dmarc.x", cur, "v=DMARC1; p=reject", "a"),
            rc(R, "_dmarc.x", cur, "v=DMARC1; p=quarantine", "b"),
        ]
    )
    assert merged.proposed == "v=DMARC1; p=reject"


def test_spf_keeps_every_mechanism_not_at_fault() -> None:
    cur = "v=spf1 ip4:192.0.2.0/24 ptr mx include:gone.example ?all"
    (merged,) = merge_changes(
        [
            rc(R, "x", cur, cur.replace("?all", "-all"), "spf.neutral_all"),
            rc(R, "x", cur, cur.replace(" ptr", ""), "spf.ptr_deprecated"),
            rc(R, "x", cur, cur.replace(" include:gone.example", ""), "spf.include_missing"),
            rc(R, "x", cur, cur.replace("?all", "~all"), "spf.softer"),
        ]
    )
    assert merged.proposed == "v=spf1 ip4:192.0.2.0/24 mx -all"
    parse_spf(merged.proposed)


def test_removal_wins_and_other_records_are_separate() -> None:
    merged = merge_changes(
        [
            rc(D, "_dmarc.x", "v=DMARC1; p=none", None, "dmarc.multiple_records"),
            rc(R, "_dmarc.x", "v=DMARC1; p=none", "v=DMARC1; p=reject", "dmarc.policy_none"),
            rc(R, "_dmarc.x", "v=DMARC1; p=reject", "v=DMARC1; p=reject; np=reject", "np"),
        ]
    )
    assert [(c.action, c.current) for c in merged] == [
        (D, "v=DMARC1; p=none"),
        (R, "v=DMARC1; p=reject"),
    ]


def test_additions_at_one_name_become_one_record_with_the_placeholder_listed() -> None:
    (merged,) = merge_changes(
        [
            rc(A, "_dmarc.x", None, "v=DMARC1; p=none", "dmarc.missing"),
            rc(A, "_dmarc.x", None, "v=DMARC1; p=none; rua=mailto:<m>", "dmarc.no_rua",
               placeholders=("<m>",)),
        ]
    )  # fmt: skip
    assert merged.proposed == "v=DMARC1; p=none; rua=mailto:<m>"
    assert merged.placeholders == ("<m>",)
