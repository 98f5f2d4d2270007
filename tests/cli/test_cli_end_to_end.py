"""The `mailauth-audit` command end to end: a real process, a real nsd on loopback.

Each test runs `python -m mailauth_audit` as a user would and reads its exit code, stdout,
stderr and files. DNS answers come from nsd serving tests/zones/example.zone, or from the
misbehaving servers in tests/dnsservers.py for the fault cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE, ZONE_FILE

from mailauth_audit.report.schema import committed_schema


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE})
    return f"{host}:{port}"


def json_report(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    jsonschema.validate(data, committed_schema())
    return data  # type: ignore[no-any-return]


def codes(domain: dict[str, Any], check: str | None = None) -> set[str]:
    return {f["code"] for f in domain["findings"] if check is None or f["check"] == check}


def test_text_summary_against_nsd(ns: str) -> None:
    res = cli("check", "--nameserver", ns, "good.example")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "good.example"
    for check in ("MX", "SPF", "DKIM", "DMARC"):
        assert any(line.split()[:2] == [check, "pass"] for line in lines), res.stdout
    assert "v=spf1 include:_spf.provider.example -all" in res.stdout
    assert "\x1b[" not in res.stdout  # no colour codes when not on a terminal


def test_json_for_two_domains_validates_and_has_the_contract_fields(
    ns: str, tmp_path: Path
) -> None:
    out = tmp_path / "reports" / "two.json"
    res = cli(
        "check",
        "--nameserver",
        ns,
        "--format",
        "json",
        "-o",
        str(out),
        "good.example",
        "weak.example",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    data = json_report(out)
    good, weak = data["domains"]
    assert (good["domain"], weak["domain"]) == ("good.example", "weak.example")
    assert good["dns_queries"] > 0 and data["dns_queries"] >= good["dns_queries"]
    spf = good["checks"]["spf"]["result"]
    assert (spf["dns_lookups"], spf["void_lookups"]) == (3, 0)
    assert [c["domain"] for c in spf["tree"]["children"]] == ["_spf.provider.example"]
    assert weak["checks"]["dmarc"]["result"]["effective_policy"] == "none"
    assert "dmarc.policy_none" in codes(weak)
    sels = weak["checks"]["dkim"]["result"]["selectors"]
    assert [(s["selector"], s["key_type"], s["key_bits"]) for s in sels] == [("s1", "rsa", 1024)]


def test_user_selector_is_probed(ns: str, tmp_path: Path) -> None:
    out = tmp_path / "sel.json"
    res = cli(
        "check",
        "--nameserver",
        ns,
        "--selector",
        "brand2026",
        "--format",
        "json",
        "-o",
        str(out),
        "good.example",
    )
    assert res.returncode == 0, res.stderr
    sels = {
        s["selector"]: s
        for s in json_report(out)["domains"][0]["checks"]["dkim"]["result"]["selectors"]
    }
    assert sels["brand2026"]["key_bits"] == 2048
    assert "selector1" in sels


def test_zone_file_audit_gives_the_same_verdicts_as_the_network(ns: str, tmp_path: Path) -> None:
    # Given the same zone served by nsd and read from the file
    net, offline = tmp_path / "net.json", tmp_path / "zone.json"
    a = cli("check", "--nameserver", ns, "--format", "json", "-o", str(net), *FIXTURE_DOMAINS)
    b = cli(
        "check",
        "--zone-file",
        str(ZONE_FILE),
        "--format",
        "json",
        "-o",
        str(offline),
        *FIXTURE_DOMAINS,
    )
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    # Then every check of every domain has the same status and the same findings
    for dn, do in zip(json_report(net)["domains"], json_report(offline)["domains"], strict=True):
        for check in ("mx", "spf", "dkim", "dmarc"):
            assert dn["checks"][check]["status"] == do["checks"][check]["status"], (
                dn["domain"],
                check,
            )
            assert codes(dn, check) == codes(do, check), (dn["domain"], check)


def test_broken_domains_get_precise_findings(ns: str, tmp_path: Path) -> None:
    out = tmp_path / "broken.json"
    cli(
        "check",
        "--nameserver",
        ns,
        "--format",
        "json",
        "-o",
        str(out),
        "broken.example",
        "toomany.example",
        "hostile.example",
        "bigtxt.example",
        "loopy.example",
    )
    broken, toomany, hostile, bigtxt, loopy = json_report(out)["domains"]
    assert {
        "spf.multiple_records",
        "dmarc.multiple_records",
        "mx.non_public_address",
        "mx.cname_target",
    } <= codes(broken)
    assert broken["checks"]["spf"]["status"] == "fail"
    assert {
        "spf.lookup_limit_exceeded",
        "spf.include_loop",
        "spf.void_lookup_limit_exceeded",
    } <= codes(toomany)
    assert toomany["checks"]["spf"]["result"]["dns_lookups"] > 10
    # hostile TXT content: a precise finding, the run completes, nothing is an error
    assert all(c["status"] != "error" for c in hostile["checks"].values())
    # `include:<script>…</script>.example` is valid RFC 7208 syntax (macro-literals are any
    # visible character), so the precise finding is that the target has no SPF record
    assert "spf.include_missing_record" in codes(hostile)
    assert {"dmarc.syntax_error", "dmarc.invalid_report_uri", "dkim.invalid_record"} <= codes(
        hostile
    )
    # a 4 KB TXT RRset needs TCP; the SPF record in it is still read
    assert bigtxt["checks"]["spf"]["result"]["record"] == "v=spf1 mx -all"
    assert "spf.answer_too_large" in codes(bigtxt)
    # a selector whose CNAME chain loops is a finding about that selector, not a crash
    assert loopy["checks"]["dkim"]["status"] != "error"
    assert "dkim.cname_loop" in codes(loopy)


def test_fail_on_sets_exit_code_1(ns: str) -> None:
    assert cli("check", "--nameserver", ns, "--fail-on", "high", "broken.example").returncode == 1
    assert cli("check", "--nameserver", ns, "--fail-on", "high", "good.example").returncode == 0
    assert cli("check", "--nameserver", ns, "broken.example").returncode == 0


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [("silent", "dns_timeout"), ("servfail", "dns_servfail"), ("refused", "dns_refused")],
)
def test_unreachable_or_failing_server_is_could_not_check_with_exit_3(
    fault_server: Callable[..., Any], tmp_path: Path, behaviour: str, reason: str
) -> None:
    host, port = fault_server(behaviour).address
    out = tmp_path / "fault.json"
    res = cli(
        "check",
        "--nameserver",
        f"{host}:{port}",
        "--timeout",
        "0.2",
        "--retries",
        "0",
        "--format",
        "json",
        "-o",
        str(out),
        "good.example",
    )
    assert res.returncode == 3, res.stderr
    domain = json_report(out)["domains"][0]
    for check in domain["checks"].values():
        assert check["status"] == "error"
        # the probe checks need the MX hosts: they name the MX check's reason as theirs
        if check["error"]["reason"] == "dependency_failed":
            assert f"({reason})" in check["error"]["message"]
        else:
            assert check["error"]["reason"] == reason
        assert check["error"]["message"].startswith("could not check:")
    assert domain["findings"] == []  # never a false "record missing"


def test_nsd_refuses_a_zone_it_does_not_serve(ns: str, tmp_path: Path) -> None:
    out = tmp_path / "refused.json"
    res = cli("check", "--nameserver", ns, "--format", "json", "-o", str(out), "other.org")
    assert res.returncode == 3
    checks = json_report(out)["domains"][0]["checks"]
    # the probe checks, which need the MX hosts, were not run for the same cause
    assert {c["error"]["reason"] for c in checks.values()} == {"dns_refused", "dependency_failed"}
    assert checks["starttls"]["error"]["message"].endswith("(dns_refused)")


def test_closed_port_is_reported_not_crashed(closed_port: int) -> None:
    res = cli(
        "check",
        "--nameserver",
        f"127.0.0.1:{closed_port}",
        "--timeout",
        "0.2",
        "--retries",
        "0",
        "good.example",
    )
    assert res.returncode == 3
    assert "could not check" in res.stdout
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "not a domain"], "invalid domain name"),
        (["check", "http://example.com"], "invalid domain name"),
        (["check", "--nameserver", "dns.example.com", "good.example"], "nameserver"),
        (["check", "--nameserver", "127.0.0.1:99999", "good.example"], "nameserver"),
        (["check", "--checks", "spf,bimi", "good.example"], "unknown check"),
        (["check", "--zone-file", "/nonexistent.zone", "good.example"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], needle: str) -> None:
    res = cli(*args)
    assert res.returncode == 2
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_garbage_zone_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zone"
    bad.write_text("this is not ( a zone file\n")
    res = cli("check", "--zone-file", str(bad), "good.example")
    assert res.returncode == 2
    assert "cannot parse zone" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = cli("check", "--zone-file", str(ZONE_FILE), "-o", str(blocker / "x.json"), "good.example")
    assert res.returncode == 2
    assert "cannot write" in res.stderr and "Traceback" not in res.stderr


def test_checks_option_runs_only_what_is_asked(tmp_path: Path) -> None:
    out = tmp_path / "spf.json"
    res = cli(
        "check",
        "--zone-file",
        str(ZONE_FILE),
        "--checks",
        "spf",
        "--format",
        "json",
        "-o",
        str(out),
        "good.example",
    )
    assert res.returncode == 0
    checks = json_report(out)["domains"][0]["checks"]
    assert checks["spf"]["status"] == "pass"
    assert {checks[c]["status"] for c in ("mx", "dkim", "dmarc")} == {"skipped"}


def test_schema_command_prints_the_committed_schema() -> None:
    res = cli("schema")
    assert res.returncode == 0
    assert json.loads(res.stdout) == committed_schema()


def test_help_shows_examples_and_exit_codes() -> None:
    res = cli("check", "--help")
    assert res.returncode == 0
    assert "mailauth-audit check --zone-file" in res.stdout
    assert "Exit codes" in res.stdout
    version = cli("--version")
    assert version.returncode == 0 and "mailauth-audit" in version.stdout
