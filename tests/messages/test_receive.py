"""The `receive` inbox: real SMTP sessions on loopback (smtplib client, aiosmtpd server),
verification with the session's real values, one JSON + HTML report per message, limits,
STARTTLS, malformed input, hostile names, and a clean stop (also of the CLI by SIGTERM)."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from receive_helpers import InboxThread, report_files
from verify_helpers import DOMAIN, free_port, key_zone_line, message, rsa_key, sign, zone

from mailauth_audit.messages.receive import ReceiveOptions
from mailauth_audit.report.message_schema import committed_message_schema
from mailauth_audit.resolver.static import StaticResolver

ZONE = zone(
    key_zone_line(rsa_key()),
    '@ 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    '_dmarc 300 IN TXT "v=DMARC1; p=reject"',
)
BOUNCE = f"bounce@{DOMAIN}"
HELO = f"mail.{DOMAIN}"


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[InboxThread]:
    server = InboxThread(
        StaticResolver(ZONE), ReceiveOptions(reports_dir=tmp_path / "inbox", max_size=200_000)
    ).start()
    try:
        yield server
    finally:
        server.stop()


def send(port: int, raw: bytes, *, starttls: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=20) as client:
        client.ehlo()
        if starttls is not None:
            client.starttls(context=starttls)
            client.ehlo()
        client.mail(BOUNCE)
        client.rcpt("check@receiver.example")
        return client.data(raw)


def load(path: Path) -> dict:
    data = json.loads(path.read_text())
    jsonschema.validate(data, committed_message_schema())
    return data["message"]


def test_signed_message_is_verified_with_session_values(inbox: InboxThread) -> None:
    code, reply = send(inbox.port, sign(message(), rsa_key()))
    assert code == 250 and b"verified: " in reply
    files = report_files(inbox.options.reports_dir)
    assert [p.suffix for p in files] == [".html", ".json"]
    report = load(next(p for p in files if p.suffix == ".json"))
    assert report["envelope"] == {
        "client_ip": "127.0.0.1",
        "helo": HELO,
        "mail_from": BOUNCE,
        "source": "smtp_session",
        "tls": False,
        "tls_version": None,
        "tls_cipher": None,
    }
    assert [s["result"] for s in report["dkim"]] == ["pass"]
    assert report["spf"]["mail_from"]["result"] == "pass"
    assert report["dmarc"]["result"] == "pass"
    assert report["authentication_results"].startswith(
        "Authentication-Results: mailauth-audit.invalid;"
    )
    html = next(p for p in files if p.suffix == ".html").read_text()
    assert "Message verification" in html and "dkim=pass" in html


def test_starttls_is_offered_and_recorded(tmp_path: Path, smtp_ca) -> None:  # type: ignore[no-untyped-def]
    cert = smtp_ca.ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    options = ReceiveOptions(reports_dir=tmp_path / "inbox", tls_cert=cert_file, tls_key=key_file)
    server = InboxThread(StaticResolver(ZONE), options).start()
    try:
        client_ctx = ssl.create_default_context(cafile=smtp_ca.ca_file)
        code, _ = send(server.port, sign(message(), rsa_key()), starttls=client_ctx)
        assert code == 250
    finally:
        server.stop()
    report = server.reports[0].report
    assert report.envelope.tls is True
    assert report.envelope.tls_version in ("TLSv1.2", "TLSv1.3")
    assert report.envelope.tls_cipher


def test_malformed_messages_get_reports_and_the_inbox_keeps_running(inbox: InboxThread) -> None:
    junk = [
        b"no headers at all, just text\r\n",
        b"From: a@x.example\r\nFrom: b@y.example\r\nX-8bit: \xff\xfe\r\n\r\nbody\r\n",
        b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nbroken",
    ]
    for raw in junk:
        code, _ = send(inbox.port, raw)
        assert code == 250
    code, _ = send(inbox.port, sign(message(), rsa_key()))
    assert code == 250
    assert len(inbox.reports) == 4
    assert len(report_files(inbox.options.reports_dir)) == 8
    assert inbox.reports[-1].report.dkim[0].result.value == "pass"


def test_size_limit_is_enforced(inbox: InboxThread) -> None:
    big = message(body=("y" * 998 + "\r\n") * 300)  # ~300 KB > the 200 KB limit
    code, reply = send(inbox.port, big)
    assert (code, reply) == (552, b"Error: Too much mail data")
    code, _ = send(inbox.port, message())  # still running
    assert code == 250
    assert len(inbox.reports) == 1


def test_report_names_cannot_be_steered_by_the_message(inbox: InboxThread) -> None:
    raw = message(message_id="<../../../etc/passwd/..\\x@evil>")
    assert send(inbox.port, raw)[0] == 250
    files = report_files(inbox.options.reports_dir)
    assert len(files) == 2
    for path in files:
        assert path.parent == inbox.options.reports_dir
        assert re.fullmatch(r"\d{8}T\d{6}-00001-[A-Za-z0-9_-]+\.(json|html)", path.name)


def test_never_relays_only_records(inbox: InboxThread) -> None:
    # Any recipient is accepted to be read; the reply says the message was verified, not queued
    code, reply = send(inbox.port, message())
    assert code == 250 and b"verified" in reply
    assert inbox.reports[0].report.envelope.mail_from == BOUNCE


def test_cli_receive_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    zone_file = tmp_path / "zone.txt"
    zone_file.write_text(ZONE)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailauth_audit",
            "receive",
            "--listen",
            f"127.0.0.1:{port}",
            "--reports-dir",
            str(tmp_path / "inbox"),
            "--zone-file",
            str(zone_file),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert f"listening on 127.0.0.1:{port}" in first
        assert send(port, sign(message(), rsa_key()))[0] == 250
        assert "pass: " in proc.stderr.readline()  # the CLI names each report it writes
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "stopped" in err
    assert len(report_files(tmp_path / "inbox")) == 2
