"""DKIM check: selector probing on zone text, and the pure judgement of the facts."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, replace
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mailauth_audit.checks.base import CheckContext, EvaluationContext
from mailauth_audit.checks.crosscheck import sends_no_mail, spf_denies_all
from mailauth_audit.checks.dkim import (
    DkimCheck,
    DkimResult,
    DkimSelectorResult,
    DkimSelectorStatus,
    judge_txt,
)
from mailauth_audit.checks.dkim.selectors import plan_selectors
from mailauth_audit.checks.mx import MxHost, MxResult
from mailauth_audit.errors import DnsTimeout
from mailauth_audit.model import CheckId, CheckOutcome, CheckStatus, Severity
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.static import StaticResolver


def _b64_spki(key: object) -> str:
    der = key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _txt(value: str) -> str:
    """A TXT rdata in zone syntax: strings of at most 255 characters."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


P2048 = _b64_spki(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
P1024 = _b64_spki(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
P512 = _b64_spki(rsa.RSAPublicNumbers(65537, (1 << 511) | 0xABCDEF).public_key())
ED = base64.b64encode(
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()

ZONE = f"""
$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
provider IN A 192.0.2.1
k-acme._domainkey.provider IN TXT {_txt("v=DKIM1; k=rsa; p=" + P2048)}

; nodkim.example: nothing under _domainkey at all
nodkim IN TXT "v=spf1 -all"

; delegated.example: one selector CNAMEd to a provider, one looping, one dangling
delegated IN A 192.0.2.2
selector1._domainkey.delegated IN CNAME k-acme._domainkey.provider.example.
google._domainkey.delegated IN CNAME g2._domainkey.delegated.example.
g2._domainkey.delegated IN CNAME google._domainkey.delegated.example.
selector2._domainkey.delegated IN CNAME gone._domainkey.provider.example.

; custom.example: only a selector no built-in list would guess
brand7._domainkey.custom IN TXT {_txt("v=DKIM1; p=" + P2048)}

; messy.example: two records at one selector, and a wildcard answering every selector
*._domainkey.messy IN TXT "v=spf1 -all"
s1._domainkey.messy IN TXT {_txt("v=DKIM1; p=" + P1024)}
s1._domainkey.messy IN TXT "some-verification=abc"

; parked.example: says in every way that it sends no mail
_domainkey.parked IN TXT "placeholder"
"""


TODAY = date(2031, 3, 1)  # the audit's date: the date-style selectors are s2031, s2030...
# what is probed with default options on a domain whose MX and SPF name no known provider
PLAN = plan_selectors((), today=TODAY).selectors


def run_collect(domain: str, resolver: StaticResolver, **opts: object) -> DkimResult:
    opts.setdefault("today", TODAY)
    ctx = CheckContext(domain=domain, resolver=resolver, options=AuditOptions(**opts))  # type: ignore[arg-type]
    return asyncio.run(DkimCheck().collect(ctx))


def codes(findings: list) -> set[str]:  # type: ignore[type-arg]
    return {f.code for f in findings}


def evaluate(facts: DkimResult, outcomes: dict | None = None) -> list:  # type: ignore[type-arg]
    options = AuditOptions(today=TODAY)
    ctx = EvaluationContext(domain="example.com", options=options, outcomes=outcomes or {})
    return DkimCheck().evaluate(facts, ctx)


# --- collect, on zone text -------------------------------------------------------------------


def test_domainkey_nxdomain_stops_probing_after_one_query() -> None:
    # Given a domain with nothing under _domainkey
    r = StaticResolver(ZONE)
    # When the check collects
    facts = run_collect("nodkim.example", r)
    # Then only _domainkey was asked (RFC 8020), and every selector counts as looked for
    assert r.queries == 1
    assert facts.domainkey_nxdomain
    assert facts.selectors == ()
    assert facts.selectors_probed == PLAN
    assert codes(evaluate(facts)) == {"dkim.no_selector_found"}


def test_existing_domainkey_node_probes_every_selector() -> None:
    r = StaticResolver(ZONE)
    facts = run_collect("parked.example", r)
    assert not facts.domainkey_nxdomain
    # _domainkey, then MX and TXT of the domain (to recognise a provider; in a full audit the
    # MX and SPF checks ask the same questions and the shared cache answers), then each name
    assert r.queries == 1 + 2 + len(PLAN)
    assert facts.selectors_probed == PLAN and facts.providers == ()


def test_cname_delegated_selector_loop_and_dangling_alias() -> None:
    r = StaticResolver(ZONE)
    facts = run_collect("delegated.example", r)
    by_name = {s.selector: s for s in facts.selectors}
    assert set(by_name) == {"selector1", "google", "selector2"}

    delegated = by_name["selector1"]
    assert delegated.status is DkimSelectorStatus.KEY
    assert delegated.cname_target == "k-acme._domainkey.provider.example"
    assert (delegated.key_type, delegated.key_bits) == ("rsa", 2048)

    loop = by_name["google"]
    assert loop.status is DkimSelectorStatus.CNAME_LOOP
    assert loop.error and "g2._domainkey.delegated.example" in loop.error

    dangling = by_name["selector2"]
    assert dangling.status is DkimSelectorStatus.DANGLING_CNAME
    assert dangling.cname_target == "gone._domainkey.provider.example"

    found = codes(evaluate(facts))
    assert {"dkim.cname_loop", "dkim.dangling_cname"} <= found
    assert "dkim.no_selector_found" not in found  # selector1 holds a good key


def test_user_selector_is_probed_first_and_found() -> None:
    r = StaticResolver(ZONE)
    facts = run_collect("custom.example", r, selectors=("Brand7",))
    assert facts.selectors_probed[0] == "brand7"
    assert [s.selector for s in facts.selectors] == ["brand7"]
    assert facts.selectors[0].key_bits == 2048
    assert evaluate(facts) == []
    # without the user's selector the key is not discovered: absence is not proven
    assert codes(evaluate(run_collect("custom.example", StaticResolver(ZONE)))) == {
        "dkim.no_selector_found"
    }


def test_only_user_selectors_when_defaults_are_off() -> None:
    r = StaticResolver(ZONE)
    facts = run_collect("custom.example", r, selectors=("brand7",), use_default_selectors=False)
    assert facts.selectors_probed == ("brand7",)
    assert r.queries == 2


def test_wildcard_text_and_multiple_records() -> None:
    facts = run_collect("messy.example", StaticResolver(ZONE))
    by_name = {s.selector: s for s in facts.selectors}
    s1 = by_name["s1"]
    assert s1.status is DkimSelectorStatus.KEY and s1.key_bits == 1024
    assert s1.other_records == ("some-verification=abc",)
    others = [s for s in facts.selectors if s.selector != "s1"]
    assert others and all(s.status is DkimSelectorStatus.NOT_A_KEY for s in others)
    findings = evaluate(facts)
    assert codes(findings) == {"dkim.multiple_records", "dkim.key_1024", "dkim.not_a_key_record"}
    # the wildcard is reported once, not once per selector
    assert sum(f.code == "dkim.not_a_key_record" for f in findings) == 1


def test_resolver_errors_other_than_cname_loops_propagate() -> None:
    r = StaticResolver(ZONE, faults={"k1._domainkey.delegated.example": DnsTimeout})
    with pytest.raises(DnsTimeout):
        run_collect("delegated.example", r)


def test_no_mail_domain_is_not_told_to_add_dkim() -> None:
    facts = run_collect("parked.example", StaticResolver(ZONE))
    assert facts.selectors == ()
    assert codes(evaluate(facts, NO_MAIL)) == {"dkim.not_needed_no_mail"}
    assert codes(evaluate(facts)) == {"dkim.no_selector_found"}


# --- the no-mail cross-check -------------------------------------------------------------


@dataclass(frozen=True)
class SpfFacts:  # stands in for SpfResult: only the field the cross-check reads
    record: str | None


@dataclass(frozen=True)
class DmarcFacts:  # stands in for DmarcResult
    effective_policy: str | None


NULL_MX = MxResult(True, ("0 .",), (), True, 0, False, ())
NO_MX = MxResult(True, (), (), False, None, True, ())
REAL_MX = MxResult(
    True,
    ("10 mx.example.com.",),
    (MxHost(10, "mx.example.com", ("192.0.2.1",), None, False, True),),
    False,
    None,
    False,
    (),
)


def _outcomes(mx: object, spf: object, dmarc: object) -> dict[CheckId, CheckOutcome]:
    out = {}
    for cid, result in ((CheckId.MX, mx), (CheckId.SPF, spf), (CheckId.DMARC, dmarc)):
        if result is not None:
            out[cid] = CheckOutcome(check=cid, status=CheckStatus.PASS, result=result)
    return out


NO_MAIL = _outcomes(NULL_MX, SpfFacts("v=spf1 -all"), DmarcFacts("reject"))


@pytest.mark.parametrize(
    ("mx", "spf", "dmarc", "expected"),
    [
        (NULL_MX, SpfFacts("v=spf1 -all"), DmarcFacts("reject"), True),
        (NO_MX, SpfFacts("V=SPF1   -ALL"), DmarcFacts("reject"), True),
        (REAL_MX, SpfFacts("v=spf1 -all"), DmarcFacts("reject"), False),
        (NULL_MX, SpfFacts("v=spf1 ~all"), DmarcFacts("reject"), False),
        (NULL_MX, SpfFacts("v=spf1 mx -all"), DmarcFacts("reject"), False),
        (NULL_MX, SpfFacts(None), DmarcFacts("reject"), False),
        (NULL_MX, SpfFacts("v=spf1 -all"), DmarcFacts("quarantine"), False),
        (NULL_MX, SpfFacts("v=spf1 -all"), DmarcFacts(None), False),
        # a check that did not run (or errored) gives no fact: never "sends no mail"
        (None, SpfFacts("v=spf1 -all"), DmarcFacts("reject"), False),
        (NULL_MX, None, DmarcFacts("reject"), False),
        (NULL_MX, SpfFacts("v=spf1 -all"), None, False),
    ],
)
def test_sends_no_mail(mx: object, spf: object, dmarc: object, expected: bool) -> None:
    assert sends_no_mail(_outcomes(mx, spf, dmarc)) is expected


def test_errored_check_is_not_a_fact() -> None:
    outcomes = dict(NO_MAIL)
    outcomes[CheckId.DMARC] = CheckOutcome(check=CheckId.DMARC, status=CheckStatus.ERROR)
    assert not sends_no_mail(outcomes)


@pytest.mark.parametrize(
    ("record", "expected"),
    [("v=spf1 -all", True), (" v=spf1\t-all ", True), ("v=spf1 -all -all", False), ("", False)],
)
def test_spf_denies_all(record: str, expected: bool) -> None:
    assert spf_denies_all(record) is expected


# --- evaluate, table-driven on facts ----------------------------------------------------------


def selector(text: str, name: str = "s1", cname: str | None = None) -> DkimSelectorResult:
    return judge_txt(name, f"{name}._domainkey.example.com", [text], cname)


def facts_of(*sels: DkimSelectorResult) -> DkimResult:
    return DkimResult(selectors=sels, selectors_probed=("s1", "s2"), domainkey_nxdomain=False)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([f"v=DKIM1; k=rsa; p={P2048}"], set()),
        ([f"v=DKIM1; p={P512}"], {"dkim.key_too_short"}),
        ([f"v=DKIM1; p={P1024}"], {"dkim.key_1024"}),
        ([f"v=DKIM1; t=y; p={P2048}"], {"dkim.testing_mode"}),
        ([f"v=DKIM1; t=s; p={P2048}"], set()),
        ([f"v=DKIM1; h=sha1; p={P2048}"], {"dkim.sha1_only"}),
        ([f"v=DKIM1; h=sha1:sha256; p={P2048}"], set()),
        ([f"v=DKIM1; h=md5; p={P2048}"], {"dkim.no_supported_hash"}),
        ([f"v=DKIM1; s=other; p={P2048}"], {"dkim.service_type_excludes_email"}),
        ([f"v=DKIM1; s=email; p={P2048}"], set()),
        ([f"v=DKIM1; k=dsa; p={P2048}"], {"dkim.unknown_key_type"}),
        (["v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC"], {"dkim.invalid_record"}),
        (["v=DKIM1; p=not*base64"], {"dkim.invalid_record"}),
        (["v=DKIM1; k=rsa"], {"dkim.invalid_record"}),
        (["v=DKIM1; p="], {"dkim.revoked_key"}),
        ([f"v=DKIM1; k=ed25519; p={ED}"], {"dkim.ed25519_without_rsa"}),
        ([f"v=DKIM1; k=ed25519; p={ED}", f"v=DKIM1; p={P2048}"], set()),
        ([f"v=DKIM1; p={P2048}", "v=DKIM1; p="], {"dkim.revoked_key"}),
        (["v=spf1 -all"], {"dkim.not_a_key_record", "dkim.no_selector_found"}),
    ],
)
def test_evaluate(records: list[str], expected: set[str]) -> None:
    sels = [selector(text, name=f"s{i}") for i, text in enumerate(records)]
    assert codes(evaluate(facts_of(*sels))) == expected


@pytest.mark.parametrize(
    ("code", "records", "severity"),
    [
        ("dkim.key_too_short", [f"p={P512}"], Severity.HIGH),
        ("dkim.sha1_only", [f"h=sha1; p={P2048}"], Severity.HIGH),
        ("dkim.invalid_record", ["v=DKIM1; p=!"], Severity.HIGH),
        ("dkim.testing_mode", [f"t=y; p={P2048}"], Severity.LOW),
        # a revoked key is a rotation state, unless nothing usable remains
        ("dkim.revoked_key", ["p=", f"p={P2048}"], Severity.INFO),
        ("dkim.revoked_key", ["p="], Severity.MEDIUM),
    ],
)
def test_severities(code: str, records: list[str], severity: Severity) -> None:
    sels = [selector(text, name=f"s{i}") for i, text in enumerate(records)]
    [finding] = [f for f in evaluate(facts_of(*sels)) if f.code == code]
    assert finding.severity is severity


def test_revoked_only_key_on_a_no_mail_domain_is_info() -> None:
    findings = evaluate(facts_of(selector("v=DKIM1; p=")), NO_MAIL)
    assert [(f.code, f.severity) for f in findings] == [("dkim.revoked_key", Severity.INFO)]


def test_invalid_record_carries_position_and_evidence() -> None:
    sel = selector("v=DKIM1; p=ab!c")
    assert sel.status is DkimSelectorStatus.INVALID and sel.error_position == 13
    [finding] = evaluate(facts_of(sel))
    assert finding.code == "dkim.invalid_record"
    assert finding.evidence == ("v=DKIM1; p=ab!c",)
    assert "13" in finding.detail


def test_testing_mode_remediation_is_the_record_without_the_flag() -> None:
    sel = selector(f"v=DKIM1; t=y:s; p={P2048}")
    [finding] = evaluate(facts_of(sel))
    assert finding.code == "dkim.testing_mode"
    zone_line = finding.remediation.split("`")[1]
    assert zone_line.startswith("s1._domainkey.example.com. 3600 IN TXT ")
    assert "t=s;" in zone_line and "t=y" not in zone_line
    # the rebuilt record fits TXT character-strings and still holds the whole key
    strings = zone_line.split(" IN TXT ")[1][1:-1].split('" "')
    assert all(len(s) <= 255 for s in strings)
    assert P2048 in "".join(strings)


def test_hostile_text_is_inert_in_findings() -> None:
    hostile = 'v=DKIM1; n={domain}"><script>; p=!'
    [finding] = evaluate(facts_of(selector(hostile)))
    assert finding.evidence == (hostile,)
    assert "example.com" in finding.detail


def test_no_selector_found_explains_the_nxdomain_shortcut() -> None:
    facts = DkimResult(selectors=(), selectors_probed=("a", "b"), domainkey_nxdomain=True)
    [finding] = evaluate(facts)
    assert finding.code == "dkim.no_selector_found" and finding.severity is Severity.MEDIUM
    assert "_domainkey.example.com" in finding.detail and "a, b" in finding.detail
    assert "s2031._domainkey.example.com. 3600 IN TXT" in finding.remediation


def test_results_are_frozen() -> None:
    sel = selector(f"p={P2048}")
    with pytest.raises(AttributeError):
        sel.key_bits = 1  # type: ignore[misc]
    assert replace(sel, key_bits=1).key_bits == 1
