"""`mailauth-audit verify` from the command line: formats, output file, exit codes, usage."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from verify_helpers import CLIENT_IP, DOMAIN, key_zone_line, message, rsa_key, sign, zone

from mailauth_audit.cli.main import main
from mailauth_audit.report.message_schema import committed_message_schema

ZONE = zone(
    key_zone_line(rsa_key()),
    f'@ 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"',
    '_dmarc 300 IN TXT "v=DMARC1; p=reject"',
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    zone_file = tmp_path / "zone.txt"
    zone_file.write_text(ZONE)
    good = tmp_path / "good.eml"
    good.write_bytes(sign(message(), rsa_key()))
    bad = tmp_path / "bad.eml"
    bad.write_bytes(sign(message(), rsa_key()).replace(b"This is a test.", b"Changed."))
    return zone_file, good, bad


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["verify", *args], catch_exceptions=False)


def test_json_output_validates_and_exit_zero(files: tuple[Path, Path, Path]) -> None:
    zone_file, good, _ = files
    res = invoke(
        str(good),
        "--zone-file",
        str(zone_file),
        "--client-ip",
        CLIENT_IP,
        "--mail-from",
        f"b@{DOMAIN}",
        "--helo",
        f"mail.{DOMAIN}",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    jsonschema.validate(data, committed_message_schema())
    msg = data["message"]
    assert msg["envelope"]["source"] == "given"
    assert (
        msg["dkim"][0]["result"],
        msg["spf"]["mail_from"]["result"],
        msg["dmarc"]["result"],
    ) == ("pass", "pass", "pass")


def test_failing_message_exits_one_with_text_report(files: tuple[Path, Path, Path]) -> None:
    zone_file, _, bad = files
    res = invoke(str(bad), "--zone-file", str(zone_file))
    assert res.exit_code == 1
    assert "dkim[0] fail" in res.output and "body hash mismatch" in res.output
    assert "dkim_sig.body_hash_mismatch" in res.output
    assert "Authentication-Results: mailauth-audit;" in res.output


def test_html_to_file(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    zone_file, good, _ = files
    out = tmp_path / "out" / "report.html"
    res = invoke(str(good), "--zone-file", str(zone_file), "--format", "html", "-o", str(out))
    assert res.exit_code == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "DKIM signatures" in html


def test_size_limit_option(files: tuple[Path, Path, Path]) -> None:
    zone_file, good, _ = files
    res = invoke(str(good), "--zone-file", str(zone_file), "--max-size", "100", "--format", "json")
    assert res.exit_code == 1
    codes = [f["code"] for f in json.loads(res.output)["message"]["findings"]]
    assert codes == ["message.too_large"]


@pytest.mark.parametrize(
    "args",
    [
        ("missing.eml",),
        ("{good}", "--nameserver", "not-an-ip"),
        ("{good}", "--format", "xml"),
    ],
)
def test_usage_errors(files: tuple[Path, Path, Path], args: tuple[str, ...]) -> None:
    _, good, _ = files
    res = CliRunner().invoke(main, ["verify", *(a.format(good=good) for a in args)])
    assert res.exit_code == 2


@pytest.mark.nsd
def test_verify_against_nsd(files: tuple[Path, Path, Path], nsd_server) -> None:  # type: ignore[no-untyped-def]
    _, good, _ = files
    host, port = nsd_server({DOMAIN: ZONE})
    res = invoke(
        str(good),
        "--nameserver",
        f"{host}:{port}",
        "--client-ip",
        CLIENT_IP,
        "--mail-from",
        f"b@{DOMAIN}",
        "--format",
        "json",
    )
    msg = json.loads(res.output)["message"]
    assert msg["dkim"][0]["result"] == "pass"
    assert msg["spf"]["mail_from"]["result"] == "pass"
    assert msg["dns_queries"] > 0
