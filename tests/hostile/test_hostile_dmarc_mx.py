"""Hostile DMARC and MX data against real servers on loopback: the work stays bounded.

- A DMARC record names thousands of external report addresses, each authorisation name
  answered just under the client's timeout: at most `max_report_authorizations` are asked,
  concurrently, and the rest are reported as not checked.
- Answers slower than the domain's budget (`domain_timeout`): the checks still running end as
  `error: domain_deadline`, the finished ones keep their results.
- 2,000 MX records (served by nsd): at most `max_mx_hosts` hosts are resolved, the rest are
  reported, and the MX check is not a clean pass.
- A `javascript:` report address is not copied into any record the audit proposes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dns_slow_server import SlowDnsServer, txt_rdata

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason
from mailauth_audit.options import AuditOptions, Limits

VICTIM = "victim.test"
AUTH_SUFFIX = "._report._dmarc."


def _dmarc_with_uris(count: int) -> str:
    uris = ",".join(f"mailto:r@e{i}.test" for i in range(count))
    return f"v=DMARC1; p=reject; rua={uris}"


def _victim_zone(dmarc: str) -> dict[str, list[tuple[str, str]]]:
    return {
        VICTIM: [("MX", f"10 mx.{VICTIM}."), ("TXT", txt_rdata("v=spf1 -all"))],
        f"mx.{VICTIM}": [("A", "192.0.2.25")],
        f"_dmarc.{VICTIM}": [("TXT", txt_rdata(dmarc))],
        f"_domainkey.{VICTIM}": [],
    }


def _slow_authorizations(seconds: float):  # type: ignore[no-untyped-def]
    return lambda name: seconds if AUTH_SUFFIX in name else 0.0


def _is_authorization(name: str, rdtype: str) -> bool:
    return AUTH_SUFFIX in name


def _options(server: SlowDnsServer, **limits: object) -> AuditOptions:
    base = {"dns_timeout": 2.0, "dns_attempts": 1}
    base.update(limits)
    return AuditOptions(nameservers=(server.nameserver,), limits=Limits(**base))  # type: ignore[arg-type]


def _audit(options: AuditOptions, domain: str = VICTIM) -> tuple[DomainReport, float]:
    started = time.monotonic()
    report = asyncio.run(audit_domain(domain, options))
    return report, time.monotonic() - started


@pytest.fixture
def slow_server() -> Iterator[type[SlowDnsServer]]:
    started: list[SlowDnsServer] = []

    class _Tracked(SlowDnsServer):
        def start(self) -> SlowDnsServer:
            started.append(self)
            return super().start()

    try:
        yield _Tracked
    finally:
        for server in started:
            server.stop()


# --- item 6: report-address authorisation ---------------------------------------------------


def test_2700_external_report_addresses_ask_at_most_the_cap_concurrently(slow_server) -> None:  # type: ignore[no-untyped-def]
    # Given a 64 KB DMARC record with ~2,700 external rua addresses, and an attacker's
    # server that answers every authorisation question after 0.5 s (timeout 2 s)
    record = _dmarc_with_uris(2_700)
    assert 50_000 < len(record) < 65_000  # one TXT RDATA holds at most 64 KB
    server = slow_server(_victim_zone(record), delay=_slow_authorizations(0.5)).start()
    # When the domain is audited
    report, elapsed = _audit(_options(server))
    # Then only `max_report_authorizations` names are asked, at the same time, and the rest
    # are reported as not checked
    cap = Limits().max_report_authorizations
    assert server.count(_is_authorization) == cap
    assert server.max_in_flight >= 2, "the authorisation lookups ran one after another"
    assert elapsed < 10, f"audit took {elapsed:.1f} s"
    dmarc = report.checks[CheckId.DMARC]
    assert dmarc.status is not CheckStatus.PASS
    result = dmarc.result
    checked = [d for d in result.report_destinations if d.authorization_checked]
    assert len(checked) == cap
    assert result.report_authorizations_unchecked == 2_700 - cap
    unchecked = [f for f in dmarc.findings if f.code == "dmarc.report_authorization_not_checked"]
    assert len(unchecked) == 1 and str(2_700 - cap) in unchecked[0].detail
    # the unchecked ones are not claimed to be unauthorised
    unauthorized = [f for f in dmarc.findings if f.code == "dmarc.report_destination_unauthorized"]
    assert len(unauthorized) == cap


def test_slow_answers_past_the_domain_budget_end_as_domain_deadline(slow_server) -> None:  # type: ignore[no-untyped-def]
    # Given 20 external rua addresses whose authorisation answers take 3 s (under the 5 s
    # DNS timeout), and a domain budget of 1 s
    server = slow_server(_victim_zone(_dmarc_with_uris(20)), delay=_slow_authorizations(3.0))
    server.start()
    options = _options(server, dns_timeout=5.0, domain_timeout=1.0)
    # When the domain is audited
    report, elapsed = _audit(options)
    # Then DMARC, still waiting, ends as error: domain_deadline; MX and SPF keep their results
    assert elapsed < 2.9, f"the budget did not hold: {elapsed:.1f} s"
    dmarc = report.checks[CheckId.DMARC]
    assert dmarc.status is CheckStatus.ERROR
    assert dmarc.error is not None and dmarc.error.reason is ErrorReason.DOMAIN_DEADLINE
    for cid in (CheckId.MX, CheckId.SPF):
        assert report.checks[cid].status is not CheckStatus.ERROR
        assert report.checks[cid].result is not None


# --- item 7: MX fan-out ---------------------------------------------------------------------


def _mx_zone(count: int) -> str:
    head = f"""$ORIGIN {VICTIM}.
$TTL 300
@ IN SOA ns.{VICTIM}. hostmaster.{VICTIM}. 1 3600 600 86400 300
@ IN NS ns.{VICTIM}.
ns IN A 127.0.0.1
"""
    lines = [f"@ IN MX {10 + i % 50} mx{i}.{VICTIM}." for i in range(count)]
    lines += [f"mx{i} IN A 192.0.2.{1 + i % 200}" for i in range(count)]
    return head + "\n".join(lines) + "\n"


@pytest.mark.nsd
def test_2000_mx_hosts_resolve_at_most_the_cap(nsd_server) -> None:  # type: ignore[no-untyped-def]
    # Given a domain with 2,000 MX records, served by nsd (the answer goes over TCP)
    host, port = nsd_server({VICTIM: _mx_zone(2_000)})
    options = AuditOptions(
        checks=frozenset({CheckId.MX}),
        nameservers=(f"{host}:{port}",),
        limits=Limits(dns_timeout=2.0),
    )
    # When only the MX check runs
    report, elapsed = _audit(options)
    # Then at most 1 + 2 x max_mx_hosts questions are asked (MX, then A and AAAA per host)
    cap = Limits().max_mx_hosts
    assert report.dns_queries <= 1 + 2 * cap, report.dns_queries
    assert elapsed < 10
    mx = report.checks[CheckId.MX]
    assert mx.status is not CheckStatus.PASS
    assert len(mx.result.records) == 2_000
    assert len(mx.result.unchecked_hosts) == 2_000 - cap
    codes = {f.code for f in mx.findings}
    assert "mx.hosts_not_checked" in codes
    assert "mx.host_no_address" not in codes, "an unchecked host is not a host without address"


# --- item 16: no hostile value in a proposed record -----------------------------------------


def test_javascript_report_address_is_not_proposed_anywhere(slow_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Given a record whose rua list carries a javascript: URI next to a real mailbox
    record = "v=DMARC1; p=none; rua=javascript:alert(document.cookie),mailto:d@victim.test"
    server = slow_server(_victim_zone(record)).start()
    # When the CLI audits it as JSON
    out = tmp_path / "r.json"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [
        sys.executable,
        "-m",
        "mailauth_audit",
        "check",
        "--format",
        "json",
        "-o",
        str(out),
        "--nameserver",
        server.nameserver,
        "--checks",
        "dmarc",
        VICTIM,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(out.read_text())["domains"][0]["checks"]["dmarc"]["findings"]
    # Then no proposed record carries it, the real mailbox stays, and a finding names it
    assert findings
    for f in findings:
        for line in f["remediation"].splitlines():
            if "IN TXT" in line:
                assert "javascript" not in line.lower(), line
    proposals = [f for f in findings if "mailto:d@victim.test" in f["remediation"]]
    assert proposals, "the valid address must stay in the proposed records"
    named = [f for f in findings if f["code"] == "dmarc.report_uri_not_mailto"]
    assert named and "javascript:alert(document.cookie)" in named[0]["detail"]


# --- --domain-timeout on the command line ---------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [sys.executable, "-m", "mailauth_audit", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("command", ["check", "bulk"])
def test_domain_timeout_flag_bounds_check_and_bulk(slow_server, tmp_path: Path, command) -> None:  # type: ignore[no-untyped-def]
    # Given authorisation answers that take 4 s (DNS timeout 5 s) and --domain-timeout 1
    server = slow_server(_victim_zone(_dmarc_with_uris(3)), delay=_slow_authorizations(4.0))
    server.start()
    common = ["--nameserver", server.nameserver, "--timeout", "5", "--domain-timeout", "1"]
    started = time.monotonic()
    if command == "check":
        out = tmp_path / "r.json"
        proc = _cli("check", "--format", "json", "-o", str(out), *common, VICTIM)
        domain = json.loads(out.read_text())["domains"][0]
    else:
        (tmp_path / "list.txt").write_text(VICTIM + "\n")
        out_dir = tmp_path / "bulk"
        proc = _cli(
            "bulk", str(tmp_path / "list.txt"), "-o", str(out_dir), "--no-progress", *common
        )
        domain = json.loads((out_dir / "results.jsonl").read_text().splitlines()[0])
    elapsed = time.monotonic() - started
    # Then DMARC ends as domain_deadline well before the answers come, and exit code 3 says
    # a check could not be completed
    assert proc.returncode == 3, proc.stderr
    assert domain["checks"]["dmarc"]["status"] == "error"
    assert domain["checks"]["dmarc"]["error"]["reason"] == "domain_deadline"
    assert domain["checks"]["mx"]["status"] != "error"
    assert elapsed < 30  # process start-up included; the DMARC answers alone would take 4 s


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_domain_timeout_flag_is_validated(value: str) -> None:
    for command in (["check", "example.com"], ["bulk", "-"]):
        proc = _cli(command[0], "--domain-timeout", value, *command[1:])
        assert proc.returncode == 2 and "--domain-timeout" in proc.stderr
