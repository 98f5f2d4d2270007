"""Lookups above the domain that get no answer, against real servers on loopback.

- `_dmarc.test` (the RFC 9989 tree walk going up) answered SERVFAIL: the domain's own record
  still decides, the DMARC check completes with an info note, and the failing name is asked
  once per run, not once per domain below it.
- A report-authorisation name answered SERVFAIL: that destination is "not checked", never
  "unauthorised", and the check completes.
- nsd, authoritative only for the audited zone, given as --nameserver: it answers REFUSED for
  every other name, and the report says so once, plainly, in text and JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import dns.rcode
import pytest
from dns_slow_server import SlowDnsServer, txt_rdata

from mailauth_audit.asyncapi import audit_domain, audit_domains
from mailauth_audit.model import CheckId, CheckStatus, ErrorReason
from mailauth_audit.options import AuditOptions, Limits

RECORD = "v=DMARC1; p=reject; rua=mailto:d@{domain}"


def _zone(domain: str, dmarc: str | None = None) -> dict[str, list[tuple[str, str]]]:
    return {
        domain: [("MX", f"10 mx.{domain}."), ("TXT", txt_rdata("v=spf1 -all"))],
        f"mx.{domain}": [("A", "192.0.2.25")],
        f"_dmarc.{domain}": [("TXT", txt_rdata(dmarc or RECORD.format(domain=domain)))],
        f"_domainkey.{domain}": [],
    }


def _options(server: SlowDnsServer) -> AuditOptions:
    limits = Limits(dns_timeout=2.0, dns_attempts=1)
    return AuditOptions(nameservers=(server.nameserver,), limits=limits)


@pytest.fixture
def server() -> Iterator[list[SlowDnsServer]]:
    started: list[SlowDnsServer] = []
    try:
        yield started
    finally:
        for s in started:
            s.stop()


def test_servfail_above_the_domain_is_a_note_and_asked_once_per_run(
    server: list[SlowDnsServer],
) -> None:
    # Given two domains under .test with their own records, and _dmarc.test answered SERVFAIL
    records = {**_zone("victim.test"), **_zone("other.test")}
    dns_server = SlowDnsServer(records, rcodes={"_dmarc.test": dns.rcode.SERVFAIL}).start()
    server.append(dns_server)
    # When both are audited in one run
    run = asyncio.run(audit_domains(["victim.test", "other.test"], _options(dns_server)))
    # Then each DMARC check completes from the domain's own record, with an info note
    for report in run.domains:
        dmarc = report.checks[CheckId.DMARC]
        assert dmarc.status is CheckStatus.PASS, (report.domain, dmarc.error)
        assert dmarc.result.effective_policy == "reject"
        notes = [f for f in dmarc.findings if f.code == "dmarc.tree_walk_lookup_failed"]
        assert len(notes) == 1 and "_dmarc.test" in notes[0].detail
        assert "SERVFAIL" in notes[0].detail
        assert report.resolver_notes == ()  # SERVFAIL is not the server refusing recursion
    # and the failing parent was asked once for the run, not once per domain
    assert dns_server.count(lambda name, rdtype: name == "_dmarc.test") == 1


def test_failed_authorisation_lookup_leaves_the_destination_not_checked(
    server: list[SlowDnsServer],
) -> None:
    # Given an external report address whose authorisation name is answered SERVFAIL
    dmarc = "v=DMARC1; p=reject; rua=mailto:r@reports.test,mailto:d@victim.test"
    auth = "victim.test._report._dmarc.reports.test"
    dns_server = SlowDnsServer(_zone("victim.test", dmarc), rcodes={auth: dns.rcode.SERVFAIL})
    server.append(dns_server.start())
    report = asyncio.run(audit_domain("victim.test", _options(dns_server)))
    # Then the check completes; the destination is neither authorised nor unauthorised
    dmarc_outcome = report.checks[CheckId.DMARC]
    assert dmarc_outcome.status is CheckStatus.PASS, dmarc_outcome.error
    external = dmarc_outcome.result.report_destinations[0]
    assert (external.authorized, external.authorization_checked) == (None, False)
    assert external.authorization_error is not None
    codes = {f.code for f in dmarc_outcome.findings}
    assert "dmarc.report_authorization_lookup_failed" in codes
    assert "dmarc.report_destination_unauthorized" not in codes


AUTHORITATIVE_ZONE = """$ORIGIN victim.test.
$TTL 300
@ IN SOA ns.victim.test. hostmaster.victim.test. 1 3600 600 86400 300
@ IN NS ns.victim.test.
ns IN A 127.0.0.1
@ IN MX 10 mx.provider.example.
@ IN TXT "v=spf1 include:_spf.provider.example -all"
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@victim.test"
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.nsd
def test_authoritative_only_nameserver_is_named_once(nsd_server) -> None:  # type: ignore[no-untyped-def]
    # Given nsd, authoritative for victim.test only, given as --nameserver: it answers
    # REFUSED for _dmarc.test, the SPF include and the MX host, which live elsewhere
    host, port = nsd_server({"victim.test": AUTHORITATIVE_ZONE})
    ns = f"{host}:{port}"
    options = AuditOptions(nameservers=(ns,), limits=Limits(dns_timeout=2.0, dns_attempts=1))
    report = asyncio.run(audit_domain("victim.test", options))
    # Then DMARC completes from _dmarc.victim.test, with _dmarc.test's REFUSED as a note
    dmarc = report.checks[CheckId.DMARC]
    assert dmarc.status is CheckStatus.PASS, dmarc.error
    assert any(f.reason == ErrorReason.DNS_REFUSED.value for f in dmarc.result.failed_lookups)
    # and the checks that needed other zones are errors with one explanation for all
    # (the probe checks, which need the MX hosts, were not run for the same cause)
    errors = [
        o
        for o in report.checks.values()
        if o.status is CheckStatus.ERROR
        and not (o.error and o.error.reason is ErrorReason.DEPENDENCY_FAILED)
    ]
    assert errors and all(o.error.reason is ErrorReason.DNS_REFUSED for o in errors)
    (note,) = report.resolver_notes
    assert note.code == "resolver.refuses_recursion" and note.servers == (ns,)
    assert f"{ns} refuses recursive queries: give a recursive resolver" in note.message
    assert set(note.refused_checks) == {o.check for o in errors}

    # The same, said once, in the CLI's text and JSON
    text = _cli("check", "--nameserver", ns, "victim.test")
    assert text.stdout.count("refuses recursive queries") == 1, text.stdout + text.stderr
    out = _cli("check", "--nameserver", ns, "--format", "json", "victim.test")
    doc = json.loads(out.stdout)
    (json_note,) = doc["domains"][0]["resolver_notes"]
    assert json_note["code"] == "resolver.refuses_recursion"
    assert json_note["servers"] == [ns]
