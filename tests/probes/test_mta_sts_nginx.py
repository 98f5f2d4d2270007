"""MTA-STS end to end: `check` through the CLI, DNS from a zone file, the policies served by
a real nginx over HTTPS on 127.0.0.1 with test-CA certificates (tests/https_servers.py).

Every policy host resolves to 127.0.0.1: the probes connect nowhere else, and only because
the runs pass --allow-private-targets (one run shows what happens without it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from https_servers import NginxPolicyServer, Site

from mailauth_audit.cli.main import main

GOOD = (
    b"version: STSv1\nmode: enforce\nmx: mx1.good.sts.test\nmx: *.pool.good.sts.test\n"
    b"max_age: 604800\n"
)
MX = {
    "good": ("mx1.good.sts.test", "a.pool.good.sts.test"),
    "uncovered": ("mx1.uncovered.sts.test", "backup.elsewhere.test"),
    "wildcard": ("a.b.wildcard.sts.test",),
}


def policy(domain: str, mode: str = "enforce", extra: str = "", mx: str | None = None) -> bytes:
    pattern = mx or f"mx1.{domain}.sts.test"
    return f"version: STSv1\nmode: {mode}\nmx: {pattern}\n{extra}max_age: 604800\n".encode()


SITES: dict[str, Site] = {
    "good": Site(GOOD),
    "testing": Site(policy("testing", "testing")),
    "uncovered": Site(policy("uncovered")),
    "redirect": Site(location="return 301 https://mta-sts.good.sts.test/.well-known/mta-sts.txt;"),
    "loop": Site(location="return 302 https://mta-sts.loop.sts.test/.well-known/mta-sts.txt;"),
    "notfound": Site(),  # no file: 404
    "error": Site(location="return 500;"),
    "ctype": Site(policy("ctype"), content_type="text/html"),
    "big": Site(policy("big", extra="x: " + "y" * 100_000 + "\n")),
    "huge": Site(b"version: STSv1\n" + b"z" * (10 * 1024 * 1024)),
    "malformed": Site(
        b"version: STSv1\nmode enforce\nmx: mx1.malformed.sts.test\nmax_age: 86400\n"
    ),
    "unknown": Site(policy("unknown", extra="contact: postmaster@unknown.sts.test\nfoo: bar\n")),
    "wildcard": Site(policy("wildcard", mx="*.wildcard.sts.test")),
    "wrongname": Site(policy("wrongname"), cert_names=("mta-sts.someone-else.test",)),
}
# (domain) -> (policy state, the MTA-STS finding codes above info, status)
EXPECTED: dict[str, tuple[str, set[str], str]] = {
    "good": ("fetched", set(), "pass"),
    "testing": ("fetched", set(), "pass"),
    "uncovered": ("fetched", {"mta_sts.mx_not_covered"}, "fail"),
    "redirect": ("rejected", {"mta_sts.policy_redirect"}, "fail"),
    "loop": ("rejected", {"mta_sts.policy_redirect"}, "fail"),
    "notfound": ("rejected", {"mta_sts.policy_http_status"}, "fail"),
    "error": ("rejected", {"mta_sts.policy_http_status"}, "fail"),
    "ctype": ("rejected", {"mta_sts.policy_content_type"}, "fail"),
    "big": ("rejected", {"mta_sts.policy_too_large"}, "fail"),
    "huge": ("rejected", {"mta_sts.policy_too_large"}, "fail"),
    "malformed": ("fetched", {"mta_sts.policy_syntax_error"}, "fail"),
    "unknown": ("fetched", set(), "pass"),
    "wildcard": ("fetched", {"mta_sts.mx_not_covered"}, "fail"),
    "wrongname": ("rejected", {"mta_sts.policy_certificate_invalid"}, "fail"),
    "unresolvable": ("unreachable", {"mta_sts.policy_unreachable"}, "fail"),
}


def zone_text() -> str:
    rows = [
        "$ORIGIN sts.test.",
        "$TTL 300",
        "@ IN SOA ns.sts.test. host.sts.test. 1 3600 600 86400 300",
    ]
    for name in EXPECTED:
        hosts = MX.get(name, (f"mx1.{name}.sts.test",))
        rows += [f"{name} IN MX {10 * (i + 1)} {h}." for i, h in enumerate(hosts)]
        rows += [f'_mta-sts.{name} IN TXT "v=STSv1; id=2026113001"']
        if name != "unresolvable":
            rows.append(f"mta-sts.{name} IN A 127.0.0.1")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxPolicyServer]:
    folder = tmp_path_factory.mktemp("nginx")
    server = NginxPolicyServer.start(folder, {f"{d}.sts.test": s for d, s in SITES.items()})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def zone_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zone") / "sts.zone"
    path.write_text(zone_text())
    return path


def run_check(
    zone_file: Path, server: NginxPolicyServer, *extra: str, domains: list[str]
) -> dict[str, Any]:
    args = ["check", "--zone-file", str(zone_file), "--checks", "mta_sts,tls_rpt", "-f", "json"]
    args += ["--https-port", str(server.port), "--ca-file", server.ca_file, *extra]
    res = CliRunner().invoke(main, [*args, *domains])
    assert res.exit_code in (0, 1), res.output
    doc: dict[str, Any] = json.loads(res.output)
    return {d["domain"]: d for d in doc["domains"]}


@pytest.fixture(scope="module")
def reports(zone_file: Path, nginx: NginxPolicyServer) -> dict[str, Any]:
    started = time.monotonic()
    out = run_check(
        zone_file, nginx, "--allow-private-targets", domains=[f"{d}.sts.test" for d in EXPECTED]
    )
    out["_seconds"] = time.monotonic() - started
    return out


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_policy_served_by_nginx(reports: dict[str, Any], name: str) -> None:
    state, codes, status = EXPECTED[name]
    check = reports[f"{name}.sts.test"]["checks"]["mta_sts"]
    assert check["result"]["policy"]["state"] == state, check["result"]["policy"]
    above_info = {f["code"] for f in check["findings"] if f["severity"] != "info"}
    assert above_info == codes
    assert check["status"] == status


def test_good_policy_is_parsed_and_covers_every_mx(reports: dict[str, Any]) -> None:
    fetch = reports["good.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
    assert fetch["status"] == 200 and fetch["certificate_trusted"] is True
    assert fetch["policy"]["mode"] == "enforce"
    assert fetch["policy"]["mx"] == ["mx1.good.sts.test", "*.pool.good.sts.test"]
    assert fetch["address"] == "127.0.0.1"


def test_redirects_are_reported_never_followed(
    reports: dict[str, Any], nginx: NginxPolicyServer
) -> None:
    for name in ("redirect", "loop"):
        fetch = reports[f"{name}.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
        assert fetch["status"] in (301, 302) and fetch["location"].startswith("https://mta-sts.")
        assert [a["outcome"] for a in fetch["attempts"]] == ["http"]  # one request, no hop


def test_ten_megabyte_body_is_cut_at_64_kib_quickly(reports: dict[str, Any]) -> None:
    fetch = reports["huge.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
    assert fetch["truncated"] is True and fetch["body_bytes"] == 64 * 1024
    assert reports["_seconds"] < 60  # fifteen domains, one of them a 10 MB body


def test_unknown_fields_are_ignored(reports: dict[str, Any]) -> None:
    check = reports["unknown.sts.test"]["checks"]["mta_sts"]
    assert "mta_sts.policy_unknown_fields" in {f["code"] for f in check["findings"]}
    assert check["result"]["policy"]["policy"]["extensions"] == [
        ["contact", "postmaster@unknown.sts.test"],
        ["foo", "bar"],
    ]


def test_tls_rpt_missing_is_noted_when_mta_sts_is_deployed(reports: dict[str, Any]) -> None:
    codes = [f["code"] for f in reports["good.sts.test"]["checks"]["tls_rpt"]["findings"]]
    assert codes == ["tls_rpt.missing"]


def test_without_allow_private_targets_the_loopback_host_is_not_probed(
    zone_file: Path, nginx: NginxPolicyServer
) -> None:
    report = run_check(zone_file, nginx, domains=["good.sts.test"])["good.sts.test"]
    fetch = report["checks"]["mta_sts"]["result"]["policy"]
    assert fetch["state"] == "not_probed" and "loopback" in fetch["reason"]
    assert fetch["attempts"] == [
        {"address": "127.0.0.1", "outcome": "not_probed", "detail": fetch["reason"]}
    ]
    assert report["score"]["grade"] is not None  # reported, not an error: the grade stands


def test_no_probes_checks_dns_only(zone_file: Path, nginx: NginxPolicyServer) -> None:
    report = run_check(zone_file, nginx, "--no-probes", domains=["good.sts.test"])["good.sts.test"]
    check = report["checks"]["mta_sts"]
    assert check["result"]["record"]["id"] == "2026113001"
    assert check["result"]["policy"]["state"] == "skipped"
    assert check["result"]["probes_enabled"] is False


def test_bulk_reports_the_policies_too(
    zone_file: Path, nginx: NginxPolicyServer, tmp_path: Path
) -> None:
    import csv
    import os
    import subprocess
    import sys

    names = ["good.sts.test", "redirect.sts.test", "testing.sts.test"]
    src = tmp_path / "list.txt"
    src.write_text("\n".join(names) + "\n")
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "mailauth_audit", "bulk", str(src), "-o", str(out),
        "--zone-file", str(zone_file), "--checks", "mta_sts,tls_rpt", "--no-progress",
        "--allow-private-targets", "--https-port", str(nginx.port), "--ca-file", nginx.ca_file,
    ]  # fmt: skip
    res = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "NO_COLOR": "1"})  # fmt: skip
    assert res.returncode == 0, res.stderr
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["domain"]: r for r in csv.DictReader(fh)}
    assert {d: rows[d]["mta_sts_mode"] for d in names} == {
        "good.sts.test": "enforce",
        "redirect.sts.test": "policy_rejected",
        "testing.sts.test": "testing",
    }
    assert rows["redirect.sts.test"]["mta_sts_status"] == "fail"
    assert rows["good.sts.test"]["tls_rpt_rua"] == "no_record"
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    states = {d["domain"]: d["checks"]["mta_sts"]["result"]["policy"]["state"] for d in lines}
    assert states == {"good.sts.test": "fetched", "redirect.sts.test": "rejected",
                      "testing.sts.test": "fetched"}  # fmt: skip


def test_the_policy_fetch_records_its_tls_handshake(
    reports: dict[str, Any], zone_file: Path, nginx: NginxPolicyServer
) -> None:
    # every answer that came over TLS records the handshake, as starttls records its sessions
    for name in ("good", "notfound"):
        fetch = reports[f"{name}.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
        assert fetch["tls_version"] in ("TLSv1.3", "TLSv1.2"), fetch
        assert fetch["tls_cipher"] and fetch["tls_group"] and fetch["tls_group_bits"], fetch
    # no answer, no handshake: null, never guessed
    fetch = reports["unresolvable.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
    assert (fetch["tls_version"], fetch["tls_group"]) == (None, None)
    # the text and HTML reports show it beside the policy
    good = reports["good.sts.test"]["checks"]["mta_sts"]["result"]["policy"]
    line = f"{good['tls_version']}, {good['tls_cipher']}, group {good['tls_group']}"
    base = ["check", "--zone-file", str(zone_file), "--checks", "mta_sts"]
    base += ["--https-port", str(nginx.port), "--ca-file", nginx.ca_file]
    base += ["--allow-private-targets"]
    for fmt in ("text", "html"):
        res = CliRunner().invoke(main, [*base, "-f", fmt, "good.sts.test"])
        assert res.exit_code in (0, 1), res.output
        assert line in res.output, (fmt, res.output[-2000:])
