"""`send` against hostile SMTP servers on loopback: every attack ends, quickly, in a bounded
amount of memory, with a clear message and nothing a terminal would obey or a secret in it.

The CLI runs in a subprocess (`python -m mailauth_audit send`), so an attack that would hang
or exhaust it fails the test by the subprocess timeout instead of hanging the suite, and its
memory can be capped with RLIMIT_AS and measured with wait4.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from smtp_servers import HostileServer

import mailauth_audit
from mailauth_audit.messages.smtp_reply import Deadlines, ReplyReader, ReplyTooLarge
from mailauth_audit.options import SmtpSendLimits

PASSWORD = "Tr0ub4dor&3-correct-horse"
ADDRESS_SPACE_LIMIT = 1 << 30  # 1 GiB: the unbounded reader passed it in seconds
HANG = 90.0  # a run still going after this long is taken as hung


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    transcript: dict | None  # type: ignore[type-arg]


@pytest.fixture
def hostile() -> Iterator[list[HostileServer]]:
    servers: list[HostileServer] = []
    yield servers
    for server in servers:
        server.stop()


def start(servers: list[HostileServer], mode: str, **kw: float) -> HostileServer:
    server = HostileServer(mode, **kw).start()  # type: ignore[arg-type]
    servers.append(server)
    return server


# the child caps its own address space and writes its peak RSS (KB) when it exits
CHILD = """
import atexit, resource, runpy, sys
limit, rss_file = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
def report():
    with open(rss_file, "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
atexit.register(report)
sys.argv = ["mailauth_audit", *sys.argv[3:]]
runpy.run_module("mailauth_audit", run_name="__main__")
"""


def run_child(tmp_path: Path, *cli: str) -> tuple[int, str, str, float, float]:
    """(exit code, stdout, stderr, seconds, peak RSS in MB) of the CLI in a capped child."""
    rss_file = tmp_path / "rss"
    rss_file.unlink(missing_ok=True)
    # the child imports the same copy of the package as this test does
    package_root = str(Path(mailauth_audit.__file__).resolve().parents[1])
    env = {**os.environ, "SMTP_PASSWORD": PASSWORD, "PYTHONPATH": package_root}
    args = [sys.executable, "-c", CHILD, str(ADDRESS_SPACE_LIMIT), str(rss_file), *cli]
    began = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"send still running after {HANG:g} s")
    seconds = time.monotonic() - began
    rss = int(rss_file.read_text()) / 1024 if rss_file.exists() else float("nan")
    return proc.returncode, out.decode(), err.decode(), seconds, rss


def send(server: HostileServer, tmp_path: Path, *extra: str, user: bool = False) -> Run:
    transcript = tmp_path / "transcript.json"
    transcript.unlink(missing_ok=True)
    args = [
        "send", "--from", "audit@example.com", "--to", "check@receiver.example",
        "--smtp-host", server.host, "--port", str(server.port),
        "--ehlo-name", "client.example.com", "--retries", "0",
        "--transcript", str(transcript),
    ]  # fmt: skip
    if "--tls" not in extra:
        args.append("--plain")
    if user:
        args += ["--user", "audit", "--password-env", "SMTP_PASSWORD", "--allow-plaintext-auth"]
    code, out, err, seconds, rss = run_child(tmp_path, *args, *extra)
    doc = json.loads(transcript.read_text()) if transcript.exists() else None
    return Run(code, out, err, seconds, rss, doc)


def test_endless_multiline_reply_is_refused_after_the_line_cap(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    server = start(hostile, "endless_multiline")
    limits = SmtpSendLimits()
    run = send(server, tmp_path, "--timeout", "30")

    assert run.code == 3, run.stderr
    assert f"server reply exceeded {limits.max_reply_lines} lines" in run.stderr
    assert run.seconds < 30
    # the client read a bounded amount; the server could have gone on for ever
    assert run.transcript is not None
    [attempt] = run.transcript["smtp"]["attempts"]
    assert attempt["outcome"] == "protocol"
    baseline = run_child(tmp_path, "send", "--help")[4]
    # everything after the imports: a few hundred KB of reply at most, plus noise
    assert run.max_rss_mb < baseline + 50, (run.max_rss_mb, baseline)


def test_one_megabyte_line_is_refused_after_the_byte_cap(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    server = start(hostile, "long_line")
    run = send(server, tmp_path)

    assert run.code == 3, run.stderr
    cap = SmtpSendLimits().max_reply_bytes
    assert f"server reply exceeded {cap} bytes" in run.stderr
    assert run.seconds < 30


def test_drip_fed_greeting_ends_at_the_reply_deadline(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    # every byte arrives well within --timeout: only a deadline per reply ends this
    server = start(hostile, "drip_greeting", drip=0.2)
    run = send(server, tmp_path, "--timeout", "2")

    assert run.code == 3, run.stderr
    assert "no complete reply within 2 s" in run.stderr
    assert run.seconds < 30
    [attempt] = run.transcript["smtp"]["attempts"]  # type: ignore[index]
    assert attempt["outcome"] == "network"


def test_drip_fed_greeting_ends_at_the_attempt_deadline(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    server = start(hostile, "drip_greeting", drip=0.2)
    run = send(server, tmp_path, "--timeout", "60", "--attempt-timeout", "2")

    assert run.code == 3, run.stderr
    assert "attempt not finished within 2 s" in run.stderr
    assert run.seconds < 30


def test_drip_fed_tls_handshake_ends_at_the_attempt_deadline(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    # no reply is being read: only the watchdog can end a handshake that never finishes
    server = start(hostile, "drip_tls", drip=0.2)
    args = ["--tls", "--insecure", "--timeout", "60", "--attempt-timeout", "2"]
    run = send(server, tmp_path, *args)

    assert run.code == 3, run.stderr
    assert "attempt not finished within 2 s" in run.stderr
    assert run.seconds < 30
    assert server.sent >= 3  # the handshake had begun to arrive


def test_retries_stop_at_the_total_deadline(hostile: list[HostileServer], tmp_path: Path) -> None:
    server = start(hostile, "drip_greeting", drip=0.2)
    run = send(
        server, tmp_path,
        "--timeout", "1.5", "--retries", "10", "--retry-delay", "0.1", "--total-timeout", "4",
    )  # fmt: skip

    assert run.code == 3, run.stderr
    assert "send not finished within 4 s" in run.stderr
    assert run.seconds < 30
    # 1.5 s per attempt, a 4 s budget: at most 3 connections, not 11
    assert 2 <= server.connections <= 3
    assert len(run.transcript["smtp"]["attempts"]) == server.connections  # type: ignore[index]


def test_terminal_escapes_in_a_reply_are_shown_as_text(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    server = start(hostile, "escape_reply")
    run = send(server, tmp_path)

    assert run.code == 1, run.stderr
    assert "550" in run.stderr
    for text in (run.stdout, run.stderr):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[2J" in run.stderr
    # the transcript keeps the reply exactly (JSON escapes it for whoever reads it)
    assert "\x1b[2J" in run.transcript["smtp"]["final_reply"]["text"]  # type: ignore[index]


def _secrets() -> list[str]:
    plain = base64.b64encode(f"\0audit\0{PASSWORD}".encode()).decode()
    return [PASSWORD, plain, base64.b64encode(PASSWORD.encode()).decode()]


def test_credentials_echoed_by_the_server_are_redacted(
    hostile: list[HostileServer], tmp_path: Path
) -> None:
    server = start(hostile, "echo_auth")
    run = send(server, tmp_path, user=True)

    assert run.code == 1, run.stderr
    # the server did get the credentials, and quoted them back in several replies
    said = b"\n".join(server.received).decode()
    assert any(s in said for s in _secrets())
    doc = json.dumps(run.transcript)
    for secret in _secrets():
        for i, text in enumerate((run.stdout, run.stderr, doc)):
            assert secret not in text, f"secret in output #{i}"
    smtp = run.transcript["smtp"]  # type: ignore[index]
    assert smtp["final_reply"]["code"] == 535
    assert smtp["final_reply"]["enhanced_status"] == "5.7.8"
    assert smtp["explanation"] and "authentication" in smtp["explanation"]
    [attempt] = smtp["attempts"]
    replies = [e for e in attempt["entries"] if e["kind"] == "reply"]
    assert [e["code"] for e in replies] == [220, 250, 535, 334, 535, 221]
    # every reply during AUTH is withheld whole; the QUIT reply keeps its words
    assert all("[redacted]" in e["text"] and "said" not in e["text"] for e in replies[2:5])
    commands = [e["text"] for e in attempt["entries"] if e["kind"] == "command"]
    assert commands[1:4] == ["AUTH PLAIN [redacted]", "AUTH LOGIN [redacted]", "[redacted]"]
    assert replies[5]["text"].startswith("bye") and "[redacted]" in replies[5]["text"]


# --- the reader's caps, exactly at the edge (no server: a socket pair) -----------------------


def _read(data: bytes, limits: SmtpSendLimits) -> tuple[int, bytes]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        deadlines = Deadlines.for_attempt(time.monotonic, limits, time.monotonic() + 60)
        return ReplyReader(deadlines).read(ours)


CAPS = SmtpSendLimits(max_reply_lines=3, max_reply_bytes=40)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"250-a\r\n250-b\r\n250 c\r\n", (250, b"a\nb\nc")),  # 3 lines: the cap
        (b"250 " + b"x" * 34 + b"\r\n", (250, b"x" * 34)),  # 40 bytes: the cap
        (b"250\r\n", (250, b"")),
        (b"hello\r\n", (-1, b"o")),  # not a reply line: smtplib's code -1
    ],
)
def test_replies_within_the_caps_are_read(data: bytes, expected: tuple[int, bytes]) -> None:
    assert _read(data, CAPS) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n", "server reply exceeded 3 lines"),
        (b"250 " + b"x" * 35 + b"\r\n", "server reply exceeded 40 bytes"),
        (b"250-" + b"x" * 20 + b"\r\n250 " + b"y" * 20 + b"\r\n", "exceeded 40 bytes"),
    ],
)
def test_replies_past_a_cap_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ReplyTooLarge, match=message):
        _read(data, CAPS)
