"""Which failed tree-walk lookups can change the DMARC verdict (checks/dmarc/walk.py): pure."""

from __future__ import annotations

import pytest

from mailauth_audit.checks.dmarc.walk import ABSENT, judge_failures, walk_answers, walk_outcome
from mailauth_audit.records.orgdomain import tree_walk_names


def verdict(domain: str, found: dict[str, str | None], failed: list[str]) -> tuple[bool, set[str]]:
    walk = walk_answers(tree_walk_names(domain), found)
    v = judge_failures(domain, walk, failed)
    return v.policy_may_change, set(v.organizational_domains)


@pytest.mark.parametrize(
    ("domain", "found", "failed", "policy_may_change", "orgs"),
    [
        # own record; the TLD fails: a PSO record (psd=y) there changes nothing
        ("example.com", {"example.com": None}, ["com"], False, {"example.com"}),
        # own record; the parent fails: the policy stays, the Organizational Domain may move
        (
            "shop.example.com",
            {"shop.example.com": None},
            ["example.com"],
            False,
            {"shop.example.com", "example.com"},
        ),
        # own record; only the TLD fails, nothing at example.com: psd=y at com would make
        # example.com the Organizational Domain
        (
            "shop.example.com",
            {"shop.example.com": None},
            ["com"],
            False,
            {"shop.example.com", "example.com"},
        ),
        # inherited from example.com; com fails: still example.com's record
        ("shop.example.com", {"example.com": None}, ["com"], False, {"example.com"}),
        # inherited from example.com; b.example.com fails: psd=n there would apply its record
        (
            "a.b.example.com",
            {"example.com": None},
            ["b.example.com"],
            True,
            {"example.com", "b.example.com", "a.b.example.com"},
        ),
        # nothing found; com fails: a PSD record would apply
        ("example.com", {}, ["com"], True, {"example.com"}),
    ],
)
def test_judge_failures(
    domain: str,
    found: dict[str, str | None],
    failed: list[str],
    policy_may_change: bool,
    orgs: set[str],
) -> None:
    assert verdict(domain, found, failed) == (policy_may_change, orgs)


def test_a_psd_record_ends_the_walk() -> None:
    walk = [("a.example.com", ABSENT), ("example.com", "n"), ("com", None)]
    assert walk_outcome("a.example.com", walk) == ("example.com", "example.com")
    walk = [("a.b.example", ABSENT), ("b.example", ABSENT), ("example", "y")]
    assert walk_outcome("a.b.example", walk) == ("b.example", "example")


def test_past_the_replay_bound_only_the_domains_own_record_stands() -> None:
    domain = "a.b.c.d.e.f.example.com"
    names = tree_walk_names(domain)
    failed = list(names[1:])  # six names with 4 answers each, com with 2: 8,192 replays
    own = judge_failures(domain, walk_answers(names, {domain: None}), failed)
    assert not own.policy_may_change and not own.replayed
    assert not own.organizational_domain_known
    none = judge_failures(domain, walk_answers(names, {}), failed)
    assert none.policy_may_change
