"""checkdmarc as a differential oracle for MTA-STS, at the level both tools expose purely:
mx pattern matching (RFC 8461 §4.1) and policy parsing (§3.2). The end-to-end oracle
(test_checkdmarc_oracle.py) cannot cover MTA-STS: checkdmarc fetches the policy with
`requests` through the system resolver, which would leave loopback.

Triaged disagreements with checkdmarc 6.0.4 (`theirs` is checkdmarc's answer):

| input                                       | ours  | theirs  | decides          | right |
|---------------------------------------------|-------|---------|------------------|-------|
| `mail.example.com` vs host `MAIL.EXAMPLE.COM.` | match | no    | 8461 §4.1        | ours  |
| `mail.example.com` vs host `...example.com.`  | match | no      | 8461 §4.1        | ours  |
| pattern `mail.example.com.` (trailing dot)  | match | no      | 8461 §4.1, §3.2  | ours  |
| `*.example.com` vs `_x.example.com`         | match | no      | 8461 §4.1        | undefined (1) |
| `max_age: 99999999`                         | valid | invalid | 8461 §3.2 (2)    | ours  |
| `mx: a.example.` in a policy                | valid | invalid | 8461 §3.2, §4.1  | ours (noted) |

(1) `_` is no host-name character (RFC 952); no MX host has one. (2) The ABNF allows
1*10DIGIT, the prose caps max_age at 31557600: we keep the value and note it.

What the issue said checkdmarc gets wrong, and it no longer does (6.0.4 agrees with us, and
these tests hold it to that): it does not follow redirects (`allow_redirects=False`),
ignores unknown policy fields, and anchors `*.` to one whole label (`fullmatch`), so
`*.example.com` does not match `a.b.example.com` nor `bad-example.com`.
"""

from __future__ import annotations

import os

import pytest

from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.mta_sts import mx_pattern_matches, parse_mta_sts_policy

checkdmarc_mta_sts = (
    pytest.importorskip(
        "checkdmarc.mta_sts",
        reason="checkdmarc is not installed",
    )
    if os.environ.get("CI") != "true"
    else __import__("checkdmarc.mta_sts", fromlist=["x"])
)

MATCH_CASES = [
    ("*.example.com", "a.b.example.com"),
    ("*.example.com", "mail.example.com"),
    ("*.example.com", "example.com"),
    ("example.com", "bad-example.com"),
    ("example.com", "mail.example.com.evil.com"),
    ("*.example.com", "mail.example.com.evil.com"),
    ("mail.example.com", "MAIL.EXAMPLE.COM."),
    ("mail.example.com.", "mail.example.com"),
    ("mail.example.com", "mail.example.com."),
    ("*.example.com", "_x.example.com"),
    ("*.*.example.com", "a.b.example.com"),
    ("*.Example.COM", "a.example.com"),
    ("a*.example.com", "ab.example.com"),
]
MATCH_TRIAGED = {
    ("mail.example.com", "MAIL.EXAMPLE.COM."): "ours",
    ("mail.example.com.", "mail.example.com"): "ours",
    ("mail.example.com", "mail.example.com."): "ours",
    ("*.example.com", "_x.example.com"): "undefined",
}

_HEAD = "version: STSv1\nmode: enforce\n"
POLICY_CASES = {
    "unknown_field": _HEAD + "mx: a.example\nmax_age: 86400\nfoo: bar\n",
    "repeated_mode": _HEAD + "mode: none\nmx: a.example\nmax_age: 86400\n",
    "max_age_above_prose_cap": _HEAD + "mx: a.example\nmax_age: 99999999\n",
    "key_case": "version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 86400\n",
    "no_mx_in_enforce": _HEAD + "max_age: 86400\n",
    "mx_trailing_dot": _HEAD + "mx: a.example.\nmax_age: 86400\n",
    "blank_line": "version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 86400\n",
    "value_case": "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 86400\n",
    "two_wildcards": _HEAD + "mx: *.*.example\nmax_age: 86400\n",
}
POLICY_TRIAGED = {"max_age_above_prose_cap": "ours", "mx_trailing_dot": "ours"}


def _ours_valid(text: str) -> bool:
    try:
        parse_mta_sts_policy(text)
    except RecordSyntaxError:
        return False
    return True


def _theirs_valid(text: str) -> bool:
    try:
        checkdmarc_mta_sts.parse_mta_sts_policy(text)
    except checkdmarc_mta_sts.MTASTSPolicySyntaxError:
        return False
    return True


def test_mx_matching_disagreements_are_exactly_the_triaged_ones() -> None:
    differ = {
        (p, h)
        for p, h in MATCH_CASES
        if mx_pattern_matches(p, h) != checkdmarc_mta_sts.mx_in_mta_sts_patterns(h, [p])
    }
    assert differ == set(MATCH_TRIAGED)


def test_policy_parsing_disagreements_are_exactly_the_triaged_ones() -> None:
    differ = {k for k, text in POLICY_CASES.items() if _ours_valid(text) != _theirs_valid(text)}
    assert differ == set(POLICY_TRIAGED)


def test_what_the_issue_expected_checkdmarc_to_get_wrong_it_gets_right_now() -> None:
    m = checkdmarc_mta_sts
    assert not m.mx_in_mta_sts_patterns("a.b.example.com", ["*.example.com"])
    assert not m.mx_in_mta_sts_patterns("bad-example.com", ["example.com"])
    assert _theirs_valid(POLICY_CASES["unknown_field"])
    import inspect

    assert "allow_redirects=False" in inspect.getsource(m.download_mta_sts_policy)
