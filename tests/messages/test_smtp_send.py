"""`send` end to end against real SMTP servers on loopback (aiosmtpd, TLS from a test CA).

Every case runs the CLI in-process and checks the exit code, what the server saw, the JSON
transcript, and that no secret (password, its AUTH encodings, the private key) shows up in
stdout, stderr, the transcript or the log records.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dkim
import pytest
from click.testing import CliRunner, Result

from mailauth_audit.cli.main import main
from mailauth_audit.messages.smtp_send import (
    RetryPolicy,
    SmtpSecurity,
    SmtpSettings,
    default_security,
    explain_reply,
    submit,
)
from mailauth_audit.options import SmtpSendLimits
from mailauth_audit.resolver.base import RRType
from mailauth_audit.resolver.static import StaticResolver

# the test server warns about AUTH without STARTTLS: deliberate in the plaintext cases, and
# aiosmtpd does not count implicit TLS as TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "Tr0ub4dor&3-correct-horse"
SENDER = "audit@example.com"
RCPT = "check@receiver.example"


@pytest.fixture
def signing_key(key_dir: Path, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """(key path, zone line) from the real keygen command."""
    key_type = getattr(request, "param", "rsa")
    result = CliRunner().invoke(
        main,
        ["dkim", "keygen", "--domain", "example.com", "--selector", "s2026",
         "--type", key_type, "--out", str(key_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return key_dir / "s2026.key", result.stdout.strip()


def run_send(
    server: Any,
    tmp_path: Path,
    *extra: str,
    key: Path | None = None,
    user: bool = False,
    ca: bool = True,
    timeout: str = "5",
    retries: str = "0",
) -> tuple[Result, dict[str, Any] | None]:
    transcript = tmp_path / "transcript.json"
    transcript.unlink(missing_ok=True)
    args = [
        "send", "--from", SENDER, "--to", RCPT,
        "--smtp-host", server.host, "--port", str(server.port),
        "--ehlo-name", "client.example.com", "--timeout", timeout,
        "--retries", retries, "--retry-delay", "0.01",
        "--transcript", str(transcript),
        "--list-unsubscribe", "https://example.com/unsub?u=1",
    ]  # fmt: skip
    if key is not None:
        args += ["--dkim-key", str(key), "--dkim-selector", "s2026"]
    if user:
        args += ["--user", "audit", "--password-env", "SMTP_PASSWORD"]
    if ca and getattr(server, "ca_file", None):
        args += ["--ca-file", server.ca_file]
    result = CliRunner().invoke(main, [*args, *extra], env={"SMTP_PASSWORD": PASSWORD})
    doc = json.loads(transcript.read_text()) if transcript.exists() else None
    return result, doc


@pytest.fixture
def check_secrets(
    caplog: pytest.LogCaptureFixture, assert_no_secrets: Callable[..., None]
) -> Callable[..., None]:
    caplog.set_level(logging.DEBUG)

    def check(result: Result, doc: dict[str, Any] | None, key: Path | None = None) -> None:
        # aiosmtpd's own logger ("mail.log") is the *server* under test; everything else is ours
        logs = [r.getMessage() for r in caplog.records if not r.name.startswith("mail")]
        texts = [result.stdout, result.stderr, json.dumps(doc or {}), *logs]
        assert_no_secrets(texts, password=PASSWORD, key_pem=key.read_bytes() if key else None)

    return check


def _resolver_dnsfunc(zone_line: str) -> Callable[..., bytes | None]:
    """dkimpy's DNS hook answered from keygen's printed line, through our zone parser."""
    resolver = StaticResolver(
        "$ORIGIN example.com.\n$TTL 300\n"
        "@ IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300\n" + zone_line + "\n"
    )

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        import asyncio

        answer = asyncio.run(resolver.resolve(name.decode().rstrip("."), RRType.TXT))
        texts = [t.text for t in answer.txt()]
        return texts[0].encode() if texts else None

    return dnsfunc


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed (CI must install it: see .ci/run)")
        pytest.skip(f"{tool} is not installed")


def opendkim_verify(tmp_path: Path, message: bytes, zone_line: str) -> str:
    """Verify with OpenDKIM's own test mode; the key comes from a TestPublicKeys file."""
    _require("opendkim")
    name, _, rest = zone_line.partition(". ")
    record = "".join(re.findall(r'"([^"]*)"', rest))
    keys = tmp_path / "opendkim-keys"
    keys.write_text(f"{name} {record}\n")
    conf = tmp_path / "opendkim.conf"
    conf.write_text(f"Mode v\nSyslog no\nTestPublicKeys {keys}\n")
    msg = tmp_path / "received.eml"
    msg.write_bytes(message)
    proc = subprocess.run(
        ["opendkim", "-x", str(conf), "-vv", "-t", str(msg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.stdout + proc.stderr


# --- success paths -------------------------------------------------------------------------


@pytest.mark.parametrize("signing_key", ["rsa", "ed25519"], indirect=True)
def test_starttls_auth_delivers_a_signed_message_that_verifies(
    smtp_server: Callable[..., Any],
    tmp_path: Path,
    signing_key: tuple[Path, str],
    check_secrets: Callable[..., None],
) -> None:
    key, zone_line = signing_key
    server = smtp_server(starttls=True, auth={"audit": PASSWORD})
    result, doc = run_send(server, tmp_path, "--starttls", key=key, user=True)

    assert result.exit_code == 0, result.stderr
    assert "sent to check@receiver.example" in result.stdout
    # the server got one message, over TLS, from the authenticated user
    [got] = server.handler.messages
    assert got.tls and got.auth_login == "audit"
    assert (got.mail_from, got.rcpt_tos, got.helo) == (SENDER, [RCPT], "client.example.com")
    # dkimpy verifies it with the key record keygen printed, read through our zone parser
    assert dkim.verify(got.data, dnsfunc=_resolver_dnsfunc(zone_line))
    # and so does OpenDKIM, an independent implementation
    report = opendkim_verify(tmp_path, got.data, zone_line)
    assert "verification (s=s2026" in report and "succeeded" in report, report
    # the transcript: capabilities, TLS, codes, AUTH redacted
    assert doc is not None
    smtp = doc["smtp"]
    assert smtp["status"] == "sent" and smtp["final_reply"]["code"] == 250
    [attempt] = smtp["attempts"]
    assert "STARTTLS" not in attempt["ehlo_capabilities"]  # the post-TLS EHLO
    assert any(c.startswith("AUTH") for c in attempt["ehlo_capabilities"])
    assert attempt["tls"]["version"].startswith("TLSv1.")
    assert attempt["tls"]["cipher"] and attempt["tls"]["certificate_verified"] is True
    commands = [e["text"] for e in attempt["entries"] if e["kind"] == "command"]
    assert commands[:2] == ["EHLO client.example.com", "STARTTLS"]
    assert "AUTH PLAIN [redacted]" in commands
    assert "MAIL FROM:<audit@example.com>" in commands
    codes = [e["code"] for e in attempt["entries"] if e["kind"] == "reply"]
    assert codes == [220, 250, 220, 250, 235, 250, 250, 354, 250, 221]
    assert doc["dkim"]["algorithm"] in ("rsa-sha256", "ed25519-sha256")
    check_secrets(result, doc, key)


def test_auth_login_exchange_is_redacted(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(starttls=True, auth={"audit": PASSWORD}, auth_exclude=("PLAIN",))
    result, doc = run_send(server, tmp_path, user=True)
    assert result.exit_code == 0, result.stderr
    entries = doc["smtp"]["attempts"][0]["entries"]  # type: ignore[index]
    auth = [e for e in entries if e["text"].startswith("AUTH") or e["text"] == "[redacted]"]
    assert auth[0]["text"] == "AUTH LOGIN [redacted]"
    assert all(e["text"] == "[redacted]" for e in auth[1:]) and len(auth) >= 3
    check_secrets(result, doc)


def test_implicit_tls_on_a_465_style_port(
    smtp_server: Callable[..., Any],
    tmp_path: Path,
    signing_key: tuple[Path, str],
    check_secrets: Callable[..., None],
) -> None:
    key, zone_line = signing_key
    server = smtp_server(implicit_tls=True, auth={"audit": PASSWORD})
    result, doc = run_send(server, tmp_path, "--tls", key=key, user=True)
    assert result.exit_code == 0, result.stderr
    [got] = server.handler.messages
    assert got.tls and dkim.verify(got.data, dnsfunc=_resolver_dnsfunc(zone_line))
    entries = doc["smtp"]["attempts"][0]["entries"]  # type: ignore[index]
    # TLS is up before the greeting is read; no STARTTLS is ever sent
    kinds = [e["kind"] for e in entries[:3]]
    assert kinds == ["connect", "tls", "reply"]
    assert not any(e["text"] == "STARTTLS" for e in entries)
    check_secrets(result, doc, key)


@pytest.mark.parametrize(
    ("port", "expected"),
    [(465, SmtpSecurity.TLS), (587, SmtpSecurity.STARTTLS), (25, SmtpSecurity.STARTTLS)],
)
def test_default_security_by_port(port: int, expected: SmtpSecurity) -> None:
    assert default_security(port) is expected


# --- AUTH and TLS policy -------------------------------------------------------------------


def test_auth_without_tls_is_refused_before_connecting(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(auth={"audit": PASSWORD}, auth_require_tls=False)
    result, doc = run_send(server, tmp_path, "--plain", user=True)
    assert result.exit_code == 2
    assert "without TLS" in result.stderr
    assert server.handler.calls == [] and server.handler.messages == []
    check_secrets(result, doc)


def test_auth_without_tls_when_explicitly_allowed(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(auth={"audit": PASSWORD}, auth_require_tls=False)
    result, doc = run_send(server, tmp_path, "--plain", "--allow-plaintext-auth", user=True)
    assert result.exit_code == 0, result.stderr
    [got] = server.handler.messages
    assert not got.tls and got.auth_login == "audit"
    assert doc["smtp"]["attempts"][0]["tls"] is None  # type: ignore[index]
    check_secrets(result, doc)


def test_starttls_required_but_not_offered(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server()  # no TLS at all
    result, doc = run_send(server, tmp_path, "--starttls", user=True)
    assert result.exit_code == 3
    assert "does not offer STARTTLS" in result.stderr
    assert server.handler.calls == []  # never got as far as MAIL FROM
    assert len(doc["smtp"]["attempts"]) == 1  # type: ignore[index]  # not retried
    check_secrets(result, doc)


def test_wrong_certificate_name_fails_unless_insecure(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(starttls=True, cert_names=("wrong.example",), auth={"audit": PASSWORD})
    result, doc = run_send(server, tmp_path, user=True)
    assert result.exit_code == 3
    assert "certificate" in result.stderr and "--insecure" in result.stderr
    assert server.handler.messages == []
    assert doc["smtp"]["attempts"][0]["outcome"] == "tls"  # type: ignore[index]
    check_secrets(result, doc)

    result, doc = run_send(server, tmp_path, "--insecure", user=True)
    assert result.exit_code == 0, result.stderr
    assert len(server.handler.messages) == 1
    assert doc["smtp"]["attempts"][0]["tls"]["certificate_verified"] is False  # type: ignore[index]
    check_secrets(result, doc)


def test_unknown_ca_fails_without_ca_file(smtp_server: Callable[..., Any], tmp_path: Path) -> None:
    server = smtp_server(implicit_tls=True)
    result, _ = run_send(server, tmp_path, "--tls", ca=False)
    assert result.exit_code == 3
    assert "certificate" in result.stderr
    assert server.handler.messages == []


def test_password_is_never_taken_from_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["send", "--from", SENDER, "--to", RCPT, "--smtp-host", "127.0.0.1",
         "--user", "audit", "--password", PASSWORD],
    )  # fmt: skip
    assert result.exit_code == 2


def test_missing_password_variable_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["send", "--from", SENDER, "--to", RCPT, "--smtp-host", "127.0.0.1",
         "--user", "audit", "--password-env", "NO_SUCH_VARIABLE_HERE"],
        env={"NO_SUCH_VARIABLE_HERE": None},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "NO_SUCH_VARIABLE_HERE" in result.stderr


# --- transient and permanent replies -------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("DATA", "421 4.3.2 Service shutting down, try later"),
        ("MAIL", "451 4.7.1 Greylisted, come back later"),
        ("RCPT", "450 4.2.1 Mailbox busy"),
        ("RCPT", "452 4.5.3 Too many recipients"),
    ],
)
def test_transient_reply_then_success_is_retried(
    smtp_server: Callable[..., Any],
    tmp_path: Path,
    stage: str,
    reply: str,
    check_secrets: Callable[..., None],
) -> None:
    server = smtp_server(starttls=True, auth={"audit": PASSWORD}, script={stage: [reply]})
    result, doc = run_send(server, tmp_path, user=True, retries="2")
    assert result.exit_code == 0, result.stderr
    assert len(server.handler.messages) == 1
    attempts = doc["smtp"]["attempts"]  # type: ignore[index]
    assert [a["outcome"] for a in attempts] == ["transient", "delivered"]
    assert attempts[0]["reply"]["code"] == int(reply[:3])
    assert attempts[1]["entries"][0]["kind"] == "wait"
    assert "attempts: 2" in result.stdout
    check_secrets(result, doc)


def test_transient_replies_until_the_limit_exit_3(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(starttls=True, always={"RCPT": "451 4.7.1 Greylisted"})
    result, doc = run_send(server, tmp_path, retries="2")
    assert result.exit_code == 3
    assert server.handler.calls.count("RCPT") == 3
    assert "gave up after 3 attempts" in result.stderr and "451" in result.stderr
    assert "greylisting" in result.stderr  # the explanation
    assert doc["smtp"]["status"] == "failed"  # type: ignore[index]
    check_secrets(result, doc)


@pytest.mark.parametrize(
    ("stage", "reply", "hint"),
    [
        ("RCPT", "550 5.7.1 Relaying denied", "relay"),
        ("DATA", "554 5.7.1 Message rejected as spam", "policy"),
        ("MAIL", "553 5.7.1 Sender address rejected: not owned by user", "not allowed"),
    ],
)
def test_permanent_reply_stops_without_retry(
    smtp_server: Callable[..., Any],
    tmp_path: Path,
    stage: str,
    reply: str,
    hint: str,
    check_secrets: Callable[..., None],
) -> None:
    server = smtp_server(starttls=True, auth={"audit": PASSWORD}, always={stage: reply})
    result, doc = run_send(server, tmp_path, user=True, retries="3")
    assert result.exit_code == 1
    assert server.handler.calls.count(stage) == 1  # not retried
    assert reply[:3] in result.stderr and hint in result.stderr
    smtp = doc["smtp"]  # type: ignore[index]
    assert smtp["status"] == "rejected" and len(smtp["attempts"]) == 1
    assert smtp["final_reply"]["code"] == int(reply[:3])
    assert smtp["final_reply"]["enhanced_status"] == "5.7.1"
    assert smtp["explanation"]
    check_secrets(result, doc)


def test_wrong_password_is_a_permanent_rejection(
    smtp_server: Callable[..., Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = smtp_server(starttls=True, auth={"audit": "another-password"})
    result, doc = run_send(server, tmp_path, user=True, retries="2")
    assert result.exit_code == 1
    assert "535" in result.stderr and "authentication failed" in result.stderr
    assert len(doc["smtp"]["attempts"]) == 1  # type: ignore[index]
    check_secrets(result, doc)


# --- broken servers ------------------------------------------------------------------------


def test_dropped_connection_is_retried_then_exit_3(
    raw_smtp_server: Callable[[str], Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = raw_smtp_server("drop_after_ehlo")
    result, doc = run_send(server, tmp_path, "--plain", retries="1")
    assert result.exit_code == 3
    assert "closed the connection" in result.stderr
    assert server.connections == 2
    assert [a["outcome"] for a in doc["smtp"]["attempts"]] == ["network", "network"]  # type: ignore[index]
    check_secrets(result, doc)


def test_drop_after_the_message_was_sent_is_not_retried(
    raw_smtp_server: Callable[[str], Any], tmp_path: Path
) -> None:
    server = raw_smtp_server("drop_after_data")
    result, doc = run_send(server, tmp_path, "--plain", retries="3")
    assert result.exit_code == 3
    assert "may have been accepted" in result.stderr
    assert server.connections == 1  # sending again could deliver twice
    kinds = [e["kind"] for e in doc["smtp"]["attempts"][0]["entries"]]  # type: ignore[index]
    assert "message" in kinds


def test_stalled_server_times_out(
    raw_smtp_server: Callable[[str], Any], tmp_path: Path, check_secrets: Callable[..., None]
) -> None:
    server = raw_smtp_server("stall")
    started = time.monotonic()
    result, doc = run_send(server, tmp_path, "--plain", timeout="0.3", retries="1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 3
    assert "no complete reply within 0.3 s" in result.stderr
    assert server.connections == 2
    assert elapsed < 5
    check_secrets(result, doc)


def test_connection_refused_exit_3(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nothing = SimpleNamespace(host="127.0.0.1", port=port)
    result, doc = run_send(nothing, tmp_path, "--plain", retries="1")
    assert result.exit_code == 3
    assert "connection refused" in result.stderr
    assert len(doc["smtp"]["attempts"]) == 2  # type: ignore[index]


# --- the library directly ------------------------------------------------------------------


def test_submit_returns_transcript_and_uses_injected_sleep(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server(starttls=True, script={"DATA": ["421 busy", "451 still busy"]})
    slept: list[float] = []
    settings = SmtpSettings(
        host=server.host,
        port=server.port,
        security=SmtpSecurity.STARTTLS,
        ehlo_name="client.example.com",
        ca_file=server.ca_file,
        limits=SmtpSendLimits(reply_timeout=5),
        retry=RetryPolicy(max_attempts=3, initial_delay=1.5, backoff=2.0),
    )
    transcript = submit(
        b"From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\n\r\n.leading dot\r\n",
        mail_from="a@example.com",
        recipients=("b@example.net",),
        settings=settings,
        sleep=slept.append,
    )
    assert slept == [1.5, 3.0]
    assert transcript.status == "sent" and len(transcript.attempts) == 3
    # dot-stuffing on the wire, undone by the server
    assert server.handler.messages[0].data.endswith(b"\r\n.leading dot\r\n")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RetryPolicy(initial_delay=5, backoff=2, max_delay=120), [5, 10, 20, 40, 80, 120]),
        (
            RetryPolicy(initial_delay=0.01, backoff=3, max_delay=1),
            [0.01, 0.03, 0.09, 0.27, 0.81, 1],
        ),
    ],
)
def test_backoff_delays(policy: RetryPolicy, expected: list[float]) -> None:
    assert [round(policy.delay(n), 6) for n in range(1, 7)] == expected


@pytest.mark.parametrize(
    ("code", "enhanced", "words"),
    [
        (550, "5.7.1", ["relay", "not authorised"]),
        (421, None, ["try again later"]),
        (554, "5.7.26", ["policy", "DMARC"]),
        (535, "5.7.8", ["password"]),
        (299, None, None),
    ],
)
def test_reply_explanations(code: int, enhanced: str | None, words: list[str] | None) -> None:
    text = explain_reply(code, enhanced)
    if words is None:
        assert text is None
    else:
        assert text is not None and all(w in text for w in words)


# --- usage errors and the saved message ----------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ["--from", "not-an-address"],
        ["--to", "bad address@example.net"],
        ["--dkim-selector", "s2026"],  # without --dkim-key
        ["--list-unsubscribe", "http://example.com/u"],  # one-click needs https
        ["--port", "0"],
    ],
)
def test_usage_errors_exit_2_before_connecting(
    smtp_server: Callable[..., Any], tmp_path: Path, extra: list[str]
) -> None:
    server = smtp_server(starttls=True)
    result, doc = run_send(server, tmp_path, *extra)
    assert result.exit_code == 2
    assert server.handler.calls == [] and doc is None


def test_unreadable_key_is_a_usage_error_that_does_not_quote_it(
    smtp_server: Callable[..., Any], tmp_path: Path
) -> None:
    server = smtp_server(starttls=True)
    bad = tmp_path / "bad.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXN0dWZm\n-----END PRIVATE KEY-----\n")
    result, _ = run_send(server, tmp_path, key=bad)
    assert result.exit_code == 2
    assert "not a PEM private key" in result.stderr
    assert "c2VjcmV0LXN0dWZm" not in result.stderr + result.stdout


def test_saved_message_is_what_the_server_received(
    smtp_server: Callable[..., Any], tmp_path: Path, signing_key: tuple[Path, str]
) -> None:
    key, zone_line = signing_key
    server = smtp_server(starttls=True)
    saved = tmp_path / "sent.eml"
    result, _ = run_send(server, tmp_path, "--save-message", str(saved), key=key)
    assert result.exit_code == 0, result.stderr
    assert saved.read_bytes() == server.handler.messages[0].data
    assert dkim.verify(saved.read_bytes(), dnsfunc=_resolver_dnsfunc(zone_line))
