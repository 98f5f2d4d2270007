"""Which DKIM selectors `check` probes: the date-style names the tool suggests, the detected
provider's names, the user's file or message, the cap. Pure tests first, then the CLI end to
end against nsd on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mailauth_audit.checks.base import CheckContext, EvaluationContext
from mailauth_audit.checks.dkim import DkimCheck
from mailauth_audit.checks.dkim.providers import PROVIDERS, detect_providers, spf_targets
from mailauth_audit.checks.dkim.selector_inputs import (
    SelectorInputError,
    parse_selectors_text,
    selectors_from_message,
)
from mailauth_audit.checks.dkim.selectors import SelectorSource, plan_selectors
from mailauth_audit.messages.keys import DkimKeyType, generate_key, key_record, suggested_selector
from mailauth_audit.options import (
    DEFAULT_DKIM_SELECTORS,
    AuditOptions,
    Limits,
    MessageLimits,
    audit_date,
    dkim_date_selectors,
)
from mailauth_audit.resolver.static import StaticResolver

# --- the date-style names, with the date injected ---------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 1, 1), ("s2026", "s2025", "ed2026", "ed2025")),
        (date(2026, 12, 31), ("s2026", "s2025", "ed2026", "ed2025")),
        (date(2031, 6, 15), ("s2031", "s2030", "ed2031", "ed2030")),
    ],
)
def test_date_selectors_follow_the_audit_date(today: date, expected: tuple[str, ...]) -> None:
    assert dkim_date_selectors(today) == expected


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2027, 12, 31), None])
@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_the_selector_keygen_suggests_is_probed_by_check(
    today: date | None, key_type: DkimKeyType
) -> None:
    # one source of truth: what keygen suggests is among what check probes (default options)
    suggested = suggested_selector(key_type, today)
    assert suggested in plan_selectors((), today=today).selectors
    assert suggested.endswith(str(audit_date(today).year))


# --- composing the list -------------------------------------------------------------------


def _provider(name: str) -> Any:
    [p] = [p for p in PROVIDERS if p.name == name]
    mx = f"mx.{p.mx_suffixes[0]}" if p.mx_suffixes else "mx.example"
    [found] = [d for d in detect_providers([mx], [f"v=spf1 include:{p.spf_includes[0]} -all"])]
    return found


def test_order_is_given_provider_date_default_each_name_once() -> None:
    plan = plan_selectors(("Brand7", "google."), [_provider("google")], today=date(2026, 5, 1))
    assert [(lst.source, lst.provider) for lst in plan.lists] == [
        (SelectorSource.GIVEN, None),
        (SelectorSource.DATE, None),
        (SelectorSource.DEFAULT, None),
    ]  # Google's only name was given already: its list is empty and left out
    assert plan.selectors[:2] == ("brand7", "google")
    assert plan.selectors[2:6] == ("s2026", "s2025", "ed2026", "ed2025")
    assert "google" not in plan.lists[2].selectors
    assert len(plan.selectors) == len(set(plan.selectors))
    assert plan.not_probed_count == 0


def test_provider_names_come_before_the_built_in_ones() -> None:
    plan = plan_selectors((), [_provider("fastmail")], today=date(2026, 5, 1))
    assert plan.lists[0].source is SelectorSource.PROVIDER
    assert plan.lists[0].provider == "fastmail"
    assert plan.selectors[:3] == ("fm1", "fm2", "fm3")


def test_no_default_selectors_keeps_only_the_given_names() -> None:
    plan = plan_selectors(("a", "b"), [_provider("fastmail")], builtin=False)
    assert plan.selectors == ("a", "b")
    assert [lst.source for lst in plan.lists] == [SelectorSource.GIVEN]


def test_cap_cuts_the_tail_and_counts_it() -> None:
    given = tuple(f"x{i}" for i in range(50))
    plan = plan_selectors(given, today=date(2026, 5, 1), cap=40)
    assert plan.selectors == given[:40]
    expected_rest = 10 + len(dkim_date_selectors(date(2026, 5, 1))) + len(DEFAULT_DKIM_SELECTORS)
    assert plan.not_probed_count == expected_rest
    assert plan.not_probed[:10] == given[40:]
    assert len(plan.not_probed) == 20  # names kept for the report; the count is exact


def test_limits_refuse_a_cap_below_one() -> None:
    with pytest.raises(ValueError, match="max_dkim_selectors"):
        Limits(max_dkim_selectors=0)


# --- recognising the provider -------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "spf", "expected"),
    [
        (["in1-smtp.messagingengine.com"], [], ["fastmail"]),
        (["aspmx.l.google.com."], ["v=spf1 include:sendgrid.net ~all"], ["google", "sendgrid"]),
        (["example-com.mail.protection.outlook.com"], [], ["microsoft365"]),
        ([], ["v=spf1 +include:_spf.protonmail.ch -all"], ["proton"]),
        ([], ["v=spf1 redirect=spf.messagingengine.com"], ["fastmail"]),
        ([], ["v=spf1 include:amazonses.com -all"], ["amazonses"]),
        ([], ["v=spf1 include:servers.mcsv.net -all"], ["mailchimp"]),
        ([], ["v=spf1 include:zohomail.eu include:zoho.eu -all"], ["zoho"]),
        # look-alikes are not the provider; a non-SPF TXT names nothing
        (["mx.notmessagingengine.com"], ["v=spf1 include:evilgoogle.com -all"], []),
        ([], ["google-site-verification=include:_spf.google.com"], []),
    ],
)
def test_detect_providers(mx: list[str], spf: list[str], expected: list[str]) -> None:
    assert [p.name for p in detect_providers(mx, spf)] == expected


def test_ses_is_recognised_but_has_nothing_to_probe_by_name() -> None:
    [ses] = detect_providers([], ["v=spf1 include:amazonses.com -all"])
    assert ses.selectors == () and "random" in ses.note
    plan = plan_selectors((), [ses], today=date(2026, 5, 1))
    assert all(lst.source is not SelectorSource.PROVIDER for lst in plan.lists)


def test_a_huge_spf_record_is_read_only_so_far() -> None:
    record = "v=spf1 " + "ip4:192.0.2.1 " * 100_000 + "include:_spf.google.com -all"
    assert spf_targets([record]) == []  # past the first 200 terms: not read


def test_every_provider_row_is_complete() -> None:
    names = [p.name for p in PROVIDERS]
    assert len(names) == len(set(names))
    for p in PROVIDERS:
        assert p.title and p.note and (p.mx_suffixes or p.spf_includes), p.name
        assert all(s == s.lower() for s in p.selectors), p.name


# --- the check, on zone text ------------------------------------------------------------------

ZONE = """
$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
fm IN MX 10 in1-smtp.messagingengine.com.
fm IN TXT "v=spf1 include:spf.messagingengine.com ?all"
fm2._domainkey.fm IN TXT "v=DKIM1; p="
ses IN TXT "v=spf1 include:amazonses.com -all"
_domainkey.ses IN TXT "placeholder"
"""


def _collect(domain: str, resolver: StaticResolver, **opts: Any) -> Any:
    options = AuditOptions(today=date(2026, 5, 1), **opts)
    facts = asyncio.run(DkimCheck().collect(CheckContext(domain, resolver, options)))
    findings = DkimCheck().evaluate(facts, EvaluationContext(domain, options))
    return facts, findings


def test_provider_selectors_are_probed_when_the_mx_names_the_provider() -> None:
    facts, _ = _collect("fm.example", StaticResolver(ZONE))
    assert [p.name for p in facts.providers] == ["fastmail"]
    assert facts.providers[0].matched == "MX in1-smtp.messagingengine.com"
    assert [s.selector for s in facts.selectors] == ["fm2"]


def test_no_selector_found_says_which_lists_were_probed_and_why_ses_has_none() -> None:
    _, findings = _collect("ses.example", StaticResolver(ZONE))
    [finding] = [f for f in findings if f.code == "dkim.no_selector_found"]
    assert "the date-style names this tool suggests (s2026, s2025, ed2026, ed2025)" in (
        finding.detail
    )
    assert "the built-in list (google, selector1" in finding.detail
    assert "Amazon SES was detected (SPF include:amazonses.com)" in finding.detail
    assert "s2026._domainkey.ses.example. 3600 IN TXT" in finding.remediation
    assert "--selectors-from" in finding.remediation


def test_the_cap_is_reported_as_a_finding() -> None:
    given = tuple(f"x{i}" for i in range(45))
    r = StaticResolver(ZONE)
    facts, findings = _collect("ses.example", r, selectors=given)
    assert len(facts.selectors_probed) == 40
    assert r.queries == 1 + 2 + 40  # _domainkey, MX and TXT, then the capped names
    [cut] = [f for f in findings if f.code == "dkim.selectors_not_probed"]
    assert str(facts.selectors_not_probed_count) in cut.detail and "x40" in cut.detail
    [none] = [f for f in findings if f.code == "dkim.no_selector_found"]
    assert "more selector names were not probed" in none.detail


def test_a_failed_mx_question_is_noted_not_raised() -> None:
    from mailauth_audit.errors import DnsTimeout

    r = StaticResolver(ZONE, faults={"ses.example": DnsTimeout})
    facts, findings = _collect("ses.example", r)
    assert facts.providers == () and facts.provider_lookup_error
    assert "dns_timeout" in facts.provider_lookup_error
    [none] = [f for f in findings if f.code == "dkim.no_selector_found"]
    assert "could not be read" in none.detail


# --- the user's own lists ---------------------------------------------------------------------


def test_selectors_file_text() -> None:
    text = "# our selectors\nBrand7\n\n  mta-2026 # rotated in March\nbrand7\nsub.sel\n"
    assert parse_selectors_text(text) == ("brand7", "mta-2026", "sub.sel")


@pytest.mark.parametrize("line", ["bad name", "-lead", "x" * 201, "a..b", "ü"])
def test_selectors_file_refuses_a_bad_line_with_its_number(line: str) -> None:
    with pytest.raises(SelectorInputError, match="line 2"):
        parse_selectors_text(f"ok\n{line}\n")


SIGNED = (
    b"From: a@example.com\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\r\n"
    b"\ts=Brand7; h=from; bh=AAAA; b=BBBB\r\n"
    b"DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=\r\n ed2026;\r\n"
    b" h=from; bh=AAAA; b=CCCC\r\n"
    b"DKIM-Signature: v=1; d=esp.example; s=bad name!; b=x\r\n"
    b"DKIM-Signature: garbage without tags\r\n"
    b"Subject: hi\r\n\r\nbody\r\n"
)


def test_selectors_from_a_message_are_the_s_tags_of_its_signatures() -> None:
    assert selectors_from_message(SIGNED) == ("brand7", "ed2026")


def test_a_message_without_signatures_is_refused() -> None:
    with pytest.raises(SelectorInputError, match="no DKIM-Signature"):
        selectors_from_message(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n")


def test_a_message_header_over_the_limit_is_refused() -> None:
    raw = b"X-Pad: " + b"a" * 5000 + b"\r\n" + SIGNED
    with pytest.raises(SelectorInputError, match="header"):
        selectors_from_message(raw, MessageLimits(max_header_bytes=4096))


def test_only_the_first_signatures_are_read() -> None:
    many = b"".join(b"DKIM-Signature: v=1; d=e.com; s=k%d; b=x\r\n" % i for i in range(50))
    found = selectors_from_message(many + b"\r\n", MessageLimits(max_dkim_signatures=10))
    assert found == tuple(f"k{i}" for i in range(10))


# --- end to end: `python -m mailauth_audit check` against nsd -------------------------------

HEAD = """$TTL 300
@ IN SOA ns.{origin}. host.{origin}. 1 3600 600 86400 300
@ IN NS ns.{origin}.
ns IN A 127.0.0.1
"""


def _zone(origin: str, body: str) -> str:
    return f"$ORIGIN {origin}.\n" + HEAD.format(origin=origin) + body


def _key_line(name: str, domain: str) -> str:
    return key_record(generate_key(DkimKeyType.RSA), domain, name).zone_line


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    this_year = suggested_selector(DkimKeyType.RSA)  # s<this year>: what keygen suggests
    sel = _zone(
        "sel.test",
        "fm IN MX 10 in1-smtp.messagingengine.com.\n"
        'fm IN TXT "v=spf1 include:spf.messagingengine.com -all"\n'
        + _key_line("fm2", "fm.sel.test")
        + "\n"
        + _key_line(this_year, "dated.sel.test")
        + "\n"
        + _key_line("brand7", "custom.sel.test")
        + "\n",
    )
    fastmail = _zone(
        "messagingengine.com", 'in1-smtp IN A 127.0.0.1\nspf IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
    )
    host, port = nsd_session_server({"sel.test": sel, "messagingengine.com": fastmail})
    return f"{host}:{port}"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def dkim_of(ns: str, domain: str, *args: str) -> dict[str, Any]:
    res = cli("check", "--nameserver", ns, "--format", "json", "--checks", "mx,spf,dkim", *args,
              domain)  # fmt: skip
    assert res.returncode in (0, 3), res.stderr
    return json.loads(res.stdout)["domains"][0]["checks"]["dkim"]  # type: ignore[no-any-return]


def _found(dkim: dict[str, Any]) -> list[str]:
    return [s["selector"] for s in dkim["result"]["selectors"] if s["status"] == "key"]


def test_fastmail_key_at_fm2_is_found_through_the_mx(ns: str) -> None:
    dkim = dkim_of(ns, "fm.sel.test")
    assert _found(dkim) == ["fm2"]
    assert dkim["result"]["providers"][0]["name"] == "fastmail"
    assert dkim["result"]["selector_lists"][0] == {
        "source": "provider",
        "selectors": ["fm1", "fm2", "fm3"],
        "provider": "fastmail",
    }


def test_key_at_this_years_selector_is_found_with_default_options(ns: str) -> None:
    dkim = dkim_of(ns, "dated.sel.test")
    assert _found(dkim) == [suggested_selector(DkimKeyType.RSA)]
    assert dkim["status"] == "pass"


def test_selectors_file_end_to_end(ns: str, tmp_path: Path) -> None:
    listing = tmp_path / "selectors.txt"
    listing.write_text("# ours\nmta1\nbrand7\n")
    assert "dkim.no_selector_found" in {
        f["code"] for f in dkim_of(ns, "custom.sel.test")["findings"]
    }
    dkim = dkim_of(ns, "custom.sel.test", "--selectors-file", str(listing))
    assert _found(dkim) == ["brand7"]
    assert dkim["result"]["selector_lists"][0]["selectors"] == ["mta1", "brand7"]


def test_selectors_from_message_end_to_end(ns: str, tmp_path: Path) -> None:
    message = tmp_path / "sent.eml"
    message.write_bytes(SIGNED.replace(b"Brand7", b"brand7"))
    dkim = dkim_of(ns, "custom.sel.test", "--selectors-from", str(message),
                   "--no-default-selectors")  # fmt: skip
    assert _found(dkim) == ["brand7"]
    assert dkim["result"]["selectors_probed"] == ["brand7", "ed2026"]


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--selectors-file", b"ok\nnot ok\n", "line 2"),
        ("--selectors-file", b"x\n" * 40_000, "larger than"),
        ("--selectors-from", b"From: a@b.c\r\n\r\nno signature\r\n", "no DKIM-Signature"),
    ],
)
def test_unusable_selector_inputs_are_usage_errors(
    tmp_path: Path, option: str, content: bytes, message: str
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    res = cli("check", "--nameserver", "127.0.0.1:9", option, str(path), "example.com")
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
