"""The round trip on loopback, end to end: `dkim keygen`'s key published by a real nsd,
`mailauth-audit send` (compose, DKIM-sign, SMTP with STARTTLS) to the `receive` inbox, whose
report says DKIM, SPF (127.0.0.1 authorised by the zone) and DMARC pass. `verify` on the
saved message with the same SMTP values agrees with the inbox."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from receive_helpers import InboxThread, report_files

from mailauth_audit.messages.keys import DkimKeyType, generate_key, key_record, write_private_key
from mailauth_audit.messages.receive import ReceiveOptions
from mailauth_audit.options import AuditOptions
from mailauth_audit.report.message_schema import committed_message_schema
from mailauth_audit.resolver.factory import make_resolver

DOMAIN = "roundtrip.test"
SELECTOR = "s2026"
HELO = f"mail.{DOMAIN}"


def zone_text(key_line: str) -> str:
    """The whole `test.` zone: the DMARC tree walk also asks `_dmarc.test`, which a server
    authoritative for `roundtrip.test` alone would refuse."""
    return "\n".join(
        [
            "$ORIGIN test.",
            "$TTL 300",
            "@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300",
            "@ IN NS ns.test.",
            "ns IN A 127.0.0.1",
            f"mail.{DOMAIN}. IN A 127.0.0.1",
            f'{DOMAIN}. IN TXT "v=spf1 ip4:127.0.0.1 -all"',
            f'mail.{DOMAIN}. IN TXT "v=spf1 a -all"',
            f'_dmarc.{DOMAIN}. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"',
            key_line,
            "",
        ]
    )


@pytest.fixture
def loop_setup(tmp_path: Path, nsd_server, smtp_ca) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    key = generate_key(DkimKeyType.RSA, 2048)
    key_file = tmp_path / "keys" / f"{SELECTOR}.key"
    write_private_key(key_file, key)
    record = key_record(key, DOMAIN, SELECTOR)
    host, port = nsd_server({"test": zone_text(record.zone_line)})
    cert = smtp_ca.ca.issue_cert("127.0.0.1")
    cert_file, cert_key = tmp_path / "cert.pem", tmp_path / "cert.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(cert_key))
    nameserver = f"{host}:{port}"
    inbox = InboxThread(
        make_resolver(AuditOptions(nameservers=(nameserver,))),
        ReceiveOptions(
            reports_dir=tmp_path / "inbox",
            tls_cert=cert_file,
            tls_key=cert_key,
            hostname="inbox.test",
        ),
    ).start()
    try:
        yield {
            "inbox": inbox,
            "key_file": key_file,
            "nameserver": nameserver,
            "ca_file": smtp_ca.ca_file,
            "tmp": tmp_path,
        }
    finally:
        inbox.stop()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.nsd
def test_send_to_receive_round_trip(loop_setup: dict) -> None:
    inbox: InboxThread = loop_setup["inbox"]
    saved = loop_setup["tmp"] / "sent.eml"
    sent = cli(
        "send",
        "--from",
        f"audit@{DOMAIN}",
        "--to",
        "check@inbox.test",
        "--smtp-host",
        "127.0.0.1",
        "--port",
        str(inbox.port),
        "--starttls",
        "--ca-file",
        loop_setup["ca_file"],
        "--ehlo-name",
        HELO,
        "--dkim-key",
        str(loop_setup["key_file"]),
        "--dkim-selector",
        SELECTOR,
        "--list-unsubscribe",
        f"https://{DOMAIN}/unsubscribe?u=1",
        "--save-message",
        str(saved),
        "--timeout",
        "20",
    )
    assert sent.returncode == 0, sent.stderr

    files = report_files(inbox.options.reports_dir)
    assert [p.suffix for p in files] == [".html", ".json"]
    data = json.loads(files[1].read_text())
    jsonschema.validate(data, committed_message_schema())
    report = data["message"]
    assert report["envelope"]["client_ip"] == "127.0.0.1"
    assert report["envelope"]["helo"] == HELO
    assert report["envelope"]["mail_from"] == f"audit@{DOMAIN}"
    assert report["envelope"]["tls"] is True
    assert [(s["result"], s["domain"], s["selector"], s["key_bits"]) for s in report["dkim"]] == [
        ("pass", DOMAIN, SELECTOR, 2048)
    ]
    assert report["spf"]["mail_from"]["result"] == "pass"
    assert report["spf"]["helo"]["result"] == "pass"
    dmarc = report["dmarc"]
    assert (dmarc["result"], dmarc["policy"], dmarc["disposition"]) == ("pass", "reject", "none")
    assert dmarc["spf_aligned"] and dmarc["dkim_aligned"]
    assert report["hygiene"]["one_click"] and report["hygiene"]["unsubscribe_signed"]
    assert report["status"] == "pass", report["findings"]
    assert report["authentication_results"].startswith("Authentication-Results: inbox.test;")

    # verify on the saved message, given the same SMTP values, agrees with the inbox
    checked = cli(
        "verify",
        str(saved),
        "--client-ip",
        "127.0.0.1",
        "--helo",
        HELO,
        "--mail-from",
        f"audit@{DOMAIN}",
        "--nameserver",
        loop_setup["nameserver"],
        "--format",
        "json",
    )
    assert checked.returncode == 0, checked.stderr
    again = json.loads(checked.stdout)["message"]
    for part in ("dkim", "spf", "dmarc"):
        assert _results(again[part]) == _results(report[part])


def _results(value: object) -> object:
    """Just the verdicts of a report part (not times or the envelope's TLS facts)."""
    if isinstance(value, dict):
        return {
            k: _results(v)
            for k, v in value.items()
            if k in ("result", "mail_from", "helo", "disposition", "spf_aligned", "dkim_aligned")
        }
    if isinstance(value, list):
        return [_results(v) for v in value]
    return value


@pytest.mark.nsd
def test_round_trip_tampered_in_transit_fails_dmarc(loop_setup: dict) -> None:
    # Given a message signed for the domain but changed after signing, from an IP SPF allows
    import smtplib
    import ssl

    from mailauth_audit.messages.keys import read_private_key
    from mailauth_audit.messages.sign import sign_message

    inbox: InboxThread = loop_setup["inbox"]
    key = read_private_key(loop_setup["key_file"])
    body = (
        f"From: audit@{DOMAIN}\r\nTo: check@inbox.test\r\nSubject: t\r\n"
        f"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1.x@{DOMAIN}>\r\n\r\nhi\r\n"
    )
    signed, _ = sign_message(body, key, domain=DOMAIN, selector=SELECTOR)
    tampered = signed.replace(b"\r\nhi\r\n", b"\r\nhello\r\n")
    ctx = ssl.create_default_context(cafile=loop_setup["ca_file"])
    with smtplib.SMTP("127.0.0.1", inbox.port, local_hostname=HELO, timeout=20) as client:
        client.starttls(context=ctx)
        # a bounce address outside the domain: SPF cannot rescue DMARC
        client.sendmail("bounce@elsewhere.test", ["check@inbox.test"], tampered)
    report = inbox.reports[0].report
    assert report.dkim[0].result.value == "fail"
    assert report.dkim[0].body_hash.value == "fail"
    assert report.dmarc is not None
    assert (report.dmarc.result.value, report.dmarc.disposition.value) == ("fail", "reject")
    assert {"dkim_sig.body_hash_mismatch", "dmarc_auth.fail"} <= {f.code for f in report.findings}
