"""The starttls check against real servers on loopback: Postfix (Debian's, configured from a
temporary folder) as a real MX, and aiosmtpd with `ssl` contexts for the cases Postfix does
not show easily (no STARTTLS, TLS 1.0 only, expired, wrong name, self-signed). Every probe
goes to 127.0.0.1 or ::1, allowed by --allow-private-targets."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import warnings

import pytest
import trustme
from mailservers import postfix_available, postfix_mx
from probe_servers import LoopbackCA, counting_smtp_server
from starttls_helpers import MX, audit_one, audit_run

from mailauth_audit.checks.starttls import StarttlsResult
from mailauth_audit.model import CheckId, CheckStatus, DomainReport

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return LoopbackCA.create(tmp_path_factory.mktemp("starttls-ca"))


def starttls(report: DomainReport) -> StarttlsResult:
    result = report.checks[CheckId.STARTTLS].result
    assert isinstance(result, StarttlsResult)
    return result


def only_address(report: DomainReport):  # type: ignore[no-untyped-def]
    (host,) = starttls(report).hosts
    (address,) = host.addresses
    return address


def codes(report: DomainReport) -> set[str]:
    return {f.code for f in report.checks[CheckId.STARTTLS].findings}


def context(ca: trustme.CA, *names: str, days: int = 90) -> ssl.SSLContext:
    now = dt.datetime.now(dt.UTC)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf = ca.issue_cert(
        *names, not_before=now - dt.timedelta(days=400), not_after=now + dt.timedelta(days=days)
    )
    leaf.configure_cert(ctx)
    return ctx


def legacy_context(ctx: ssl.SSLContext, *, only: bool) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        if only:
            ctx.maximum_version = ssl.TLSVersion.TLSv1
    return ctx


@pytest.fixture(scope="module")
def postfix(ca: LoopbackCA):  # type: ignore[no-untyped-def]
    if not postfix_available():
        if IN_CI:
            pytest.fail("postfix is not installed (or not root): .ci/run installs it")
        pytest.skip("postfix not installed")
    with postfix_mx(ca.ca, host=MX) as mx:
        yield mx


def test_postfix_mx_with_starttls_passes(postfix, ca: LoopbackCA) -> None:  # type: ignore[no-untyped-def]
    report = audit_one(postfix.port, ca.ca_file)
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.PASS, outcome.findings
    a = only_address(report)
    probe = a.probe
    assert probe is not None and probe.banner.lines[0].startswith(MX)
    assert probe.tls is not None and probe.tls.version in ("TLSv1.2", "TLSv1.3")
    assert probe.tls.trusted and probe.tls.hostname_matches
    assert probe.tls.chain[0].not_after > dt.datetime.now(dt.UTC)
    # Debian's Postfix with OpenSSL 3 agrees on X25519, the first group our client offers
    assert (probe.tls.group, probe.tls.group_bits) == ("X25519", 253)
    # Postfix refuses TLS 1.0/1.1 here (smtpd_tls_protocols = >=TLSv1.2)
    assert a.legacy_tls_accepted is None and a.legacy_tls_unknown is None
    assert report.grade is not None


def test_postfix_through_the_cli(postfix, ca: LoopbackCA, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    from starttls_helpers import loopback_zone

    zone = tmp_path / "example.test.zone"
    zone.write_text("$ORIGIN example.test.\n@ 3600 IN SOA ns. h. 1 2 3 4 5\n" + loopback_zone())
    base = [sys.executable, "-m", "mailauth_audit", "check", "--zone-file", str(zone)]
    probe = ["--allow-private-targets", "--smtp-port", str(postfix.port), "--ca-file", ca.ca_file]
    out = subprocess.run(
        [*base, *probe, "-f", "json", "example.test"], capture_output=True, text=True, timeout=120
    )
    doc = json.loads(out.stdout)
    tls = doc["domains"][0]["checks"]["starttls"]
    assert tls["status"] == "pass", out.stderr
    assert tls["result"]["hosts"][0]["addresses"][0]["probe"]["tls"]["trusted"] is True
    # without --allow-private-targets the loopback MX is not probed: skipped, with the reason
    out = subprocess.run([*base, "-f", "json", "example.test"], capture_output=True, text=True)
    skipped = json.loads(out.stdout)["domains"][0]["checks"]["starttls"]
    assert skipped["status"] == "skipped" and "loopback" in skipped["skip_reason"]
    out = subprocess.run(
        [*base, *probe, "--no-probes", "example.test"], capture_output=True, text=True
    )
    assert "not probed: --no-probes" in out.stdout


def test_no_starttls() -> None:
    with counting_smtp_server(None) as (port, _):
        report = audit_one(port, None)
    assert codes(report) == {"starttls.not_offered"}
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.FAIL


def test_tls_1_0_only_server(ca: LoopbackCA) -> None:
    ctx = legacy_context(context(ca.ca, MX), only=True)
    with counting_smtp_server(ctx) as (port, _):
        report = audit_one(port, ca.ca_file)
    probe = only_address(report).probe
    assert probe is not None and probe.tls is not None and probe.tls.version == "TLSv1"
    assert probe.tls.group == "X25519"  # TLS 1.0 ECDHE: read from the ServerKeyExchange
    assert "starttls.old_tls_version" in codes(report)


def test_server_that_still_accepts_tls_1_1(ca: LoopbackCA) -> None:
    ctx = legacy_context(context(ca.ca, MX), only=False)
    with counting_smtp_server(ctx) as (port, counter):
        report = audit_one(port, ca.ca_file)
    a = only_address(report)
    assert a.probe is not None and a.probe.tls is not None
    assert a.probe.tls.version in ("TLSv1.2", "TLSv1.3")
    assert a.legacy_tls_accepted == "TLSv1.1"
    assert codes(report) == {"starttls.legacy_tls_accepted"}
    assert counter.opened == 2  # the probe, and one handshake offering at most TLS 1.1


def test_modern_server_refuses_tls_1_1(ca: LoopbackCA) -> None:
    with counting_smtp_server(context(ca.ca, MX)) as (port, _):
        report = audit_one(port, ca.ca_file)
    a = only_address(report)
    assert a.legacy_tls_accepted is None and a.legacy_tls_unknown is None
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.PASS


def test_expired_certificate(ca: LoopbackCA) -> None:
    with counting_smtp_server(context(ca.ca, MX, days=-3)) as (port, _):
        report = audit_one(port, ca.ca_file)
    assert "starttls.certificate_expired" in codes(report)
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.FAIL


def test_wrong_name_certificate(ca: LoopbackCA) -> None:
    with counting_smtp_server(context(ca.ca, "other.example.test")) as (port, _):
        report = audit_one(port, ca.ca_file)
    assert codes(report) == {"starttls.certificate_name_mismatch"}
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.WARN


def test_self_signed_certificate(ca: LoopbackCA) -> None:
    # a CA of its own that nobody trusts, issuing for the right name
    with counting_smtp_server(context(trustme.CA(), MX)) as (port, _):
        report = audit_one(port, ca.ca_file)
    assert codes(report) == {"starttls.certificate_untrusted"}


def test_ipv6_loopback_mx(ca: LoopbackCA) -> None:
    from starttls_helpers import loopback_zone

    with counting_smtp_server(context(ca.ca, MX), host="::1") as (port, _):
        report = audit_one(port, ca.ca_file, zone=loopback_zone(address="::1"))
    a = only_address(report)
    assert a.address == "::1" and a.probe is not None and a.probe.tls is not None


def test_an_mx_shared_by_many_domains_is_probed_once(ca: LoopbackCA) -> None:
    domains = [f"d{i}.example.test" for i in range(30)]
    with counting_smtp_server(context(ca.ca, MX)) as (port, counter):
        run, auditor = audit_run(domains, port, ca.ca_file)
    assert all(d.checks[CheckId.STARTTLS].status is CheckStatus.PASS for d in run.domains)
    stats = auditor.probes.smtp.stats  # type: ignore[attr-defined]
    assert stats.probes == 1 and stats.hits + stats.coalesced == 29
    assert counter.opened == 2  # one probe, one TLS 1.1 attempt, for 30 domains
    # one connection to the address at a time, counted on our side: the server's own count
    # of open sessions lags behind our closes on a loaded machine
    assert auditor.probes.smtp_limiter.peak_per_address == 1


def test_two_mx_names_on_one_address_never_hold_two_connections(ca: LoopbackCA) -> None:
    # Given two MX names on one address: each gets a probe and a TLS 1.1 attempt, and the
    # attempt for one name must not run beside the other name's probe
    zone = "".join(
        f"example.test. IN MX {i} {name}.\n{name}. IN A 127.0.0.1\n"
        for i, name in enumerate(("mx-a.example.test", "mx-b.example.test"))
    )
    ctx = context(ca.ca, "mx-a.example.test", "mx-b.example.test")
    with counting_smtp_server(ctx) as (port, counter):
        run, auditor = audit_run(["example.test"], port, ca.ca_file, zone=zone)
    assert run.domains[0].checks[CheckId.STARTTLS].status is CheckStatus.PASS
    assert counter.opened == 4
    # one per-address bound for both probers (the server may see a closed connection a
    # moment late, so its own count of connections open at once is not the measure)
    main, legacy = auditor.probes.smtp, auditor.probes.smtp_legacy
    assert main.inner._limiter is legacy.inner._limiter  # type: ignore[attr-defined]
