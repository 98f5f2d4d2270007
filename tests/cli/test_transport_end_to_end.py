"""The six transport checks through the CLI, end to end against real servers on loopback:
the chain-of-trust lab (tests/dnssec_servers.py: signed zones in nsd behind a validating
unbound, aiosmtpd with STARTTLS whose certificate the TLSA of mx.secure.test pins) and
nginx serving the MTA-STS policy (tests/https_servers.py). One --ca-file trusts both test
CAs. Postfix (tests/mailservers.py) is not in this run: the lab's aiosmtpd is the MX, since
its certificate is the one the signed TLSA names.

full.secure.test: MX mx.secure.test (TLSA 3 1 1 of the presented key, DNSSEC secure),
MTA-STS enforce covering it, no TLS-RPT record."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from dnssec_servers import ChainLab, chain_lab
from https_servers import NginxPolicyServer, Site

from mailauth_audit.report.schema import committed_schema

__all__ = ["chain_lab"]

DOMAIN = "full.secure.test"
POLICY = b"version: STSv1\nmode: enforce\nmx: mx.secure.test\nmax_age: 604800\n"
TRANSPORT = ("starttls", "mx_identity", "mta_sts", "tls_rpt", "dnssec", "dane")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxPolicyServer]:
    folder = tmp_path_factory.mktemp("e2e-nginx")
    server = NginxPolicyServer.start(folder, {DOMAIN: Site(body=POLICY)})
    try:
        yield server
    finally:
        server.stop()


def run_cli(
    lab: ChainLab, nginx: NginxPolicyServer, folder: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    bundle = folder / "test-cas.pem"
    if not bundle.exists():
        bundle.write_text(Path(lab.ca_file).read_text() + Path(nginx.ca_file).read_text())
    host, port = lab.validator
    args = [
        "check",
        "--nameserver",
        f"{host}:{port}",
        "--timeout",
        "3",
        "--allow-private-targets",
        "--smtp-port",
        str(lab.smtp_port),
        "--https-port",
        str(nginx.port),
        "--ca-file",
        str(bundle),
        *extra,
        DOMAIN,
    ]
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_all_six_transport_checks_in_text_json_and_html(
    chain_lab: ChainLab, nginx: NginxPolicyServer, tmp_path: Path
) -> None:
    text = run_cli(chain_lab, nginx, tmp_path, "--color", "never")
    print(f"$ mailauth-audit check ... {DOMAIN}\n{text.stdout}")
    assert text.stderr == "" or "Traceback" not in text.stderr, text.stderr
    rows = {
        line.split()[0]: line.split()[1]
        for line in text.stdout.splitlines()
        if line.startswith("  ") and len(line.split()) > 1
    }
    assert {c.upper(): rows.get(c.upper()) for c in TRANSPORT} == {
        "STARTTLS": "pass",
        "MX_IDENTITY": "pass",
        "MTA_STS": "pass",
        "TLS_RPT": "warn",  # tls_rpt.missing (low)
        "DNSSEC": "pass",
        "DANE": "pass",
    }

    got = run_cli(chain_lab, nginx, tmp_path, "-f", "json")
    doc = json.loads(got.stdout)
    jsonschema.validate(doc, committed_schema())
    checks = doc["domains"][0]["checks"]
    statuses = {c: checks[c]["status"] for c in TRANSPORT}
    print("statuses:", statuses)
    assert all(s not in ("error", "skipped") for s in statuses.values()), checks
    codes = {c: [f["code"] for f in checks[c]["findings"]] for c in TRANSPORT}
    print("codes:", codes)
    # DANE authenticates the chain the lab MX presents; MTA-STS enforce is met there
    assert "dane.authenticated" in codes["dane"]
    assert statuses["dane"] == "pass" and statuses["dnssec"] == "pass"
    assert checks["mta_sts"]["result"]["policy"]["policy"]["mode"] == "enforce"
    assert not {"mta_sts.mx_certificate_invalid", "mta_sts.mx_tls_not_verified"} & set(
        codes["mta_sts"]
    )
    # both policies deployed and no TLS-RPT: noted, naming both
    assert codes["tls_rpt"] == ["tls_rpt.missing"]
    missing = checks["tls_rpt"]["findings"][0]
    assert "MTA-STS" in missing["detail"] and "DANE" in missing["detail"]
    hosts = checks["starttls"]["result"]["hosts"]
    assert [(h["host"], [a["address"] for a in h["addresses"]]) for h in hosts] == [
        ("mx.secure.test", ["127.0.0.1"])
    ]

    page = tmp_path / "report.html"
    html = run_cli(chain_lab, nginx, tmp_path, "-f", "html", "-o", str(page))
    assert html.returncode in (0, 1, 3), html.stderr
    body = page.read_text()
    assert 'data-label="DANE">match (' + chain_lab.leaf_tlsa + ")</td>" in body
    assert 'data-label="MTA-STS">covered (enforce)</td>' in body
    assert 'data-label="TLS">TLSv1.' in body
