"""The command-line habits of the field: checkdmarc's -n/-f/-o, dig's IP#PORT, -V, -q, names
from stdin or a file, one spelling per idea (old spellings hidden but working), and a help
line for every option of every command."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from fixture_zone import ZONE, ZONE_FILE

from mailauth_audit.cli.main import main
from mailauth_audit.options import CheckInputLimits
from mailauth_audit.version import __version__


def cli(
    *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def domains_of(path: Path) -> list[str]:
    return [d["domain"] for d in json.loads(path.read_text())["domains"]]


# -- the command tree: every option has a help line, hidden aliases stay out of --help ------


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path) or "mailauth-audit", command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, (*path, name))


COMMANDS = dict(walk(main))


def test_the_walk_sees_every_command() -> None:
    names = set(COMMANDS)
    assert {"check", "bulk", "send", "verify", "receive", "demo", "schema", "dkim keygen"} <= names


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_a_help_line(name: str) -> None:
    command = COMMANDS[name]
    ctx = click.Context(command, info_name=name)
    assert command.help or command.short_help, f"{name}: no help text"
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            assert param.help and param.help.strip(), f"{name} {param.opts}: no help line"


@pytest.mark.parametrize(
    ("command", "shown", "hidden"),
    [
        ("check", ["-o, --output", "-f, --format", "-n, --nameserver", "--color", "-q, --quiet"],
         ["--no-color"]),
        ("verify", ["-o, --output", "-f, --format", "-n, --nameserver", "--color", "-q, --quiet"],
         ["--no-color"]),
        ("bulk", ["-o, --output", "-n, --nameserver", "-q, --quiet"], []),
        ("send", ["-o, --output", "--color", "-q, --quiet"], ["--transcript", "--no-color"]),
        ("receive", ["-o, --output", "-n, --nameserver", "-q, --quiet"], ["--reports-dir"]),
        ("dkim keygen", ["-o, --output", "-q, --quiet"], ["--out "]),
        ("demo", ["-o, --output", "-q, --quiet"], []),
    ],
)  # fmt: skip
def test_one_spelling_per_idea_in_help(command: str, shown: list[str], hidden: list[str]) -> None:
    res = cli(*command.split(), "--help")
    assert res.returncode == 0, res.stderr
    for text in shown:
        assert text in res.stdout, f"{command}: {text!r} missing from --help"
    for text in hidden:
        assert text not in res.stdout, f"{command}: {text!r} shown in --help"


def parse(*argv: str) -> dict[str, object]:
    """The parameters a command line gives, without running the command."""
    command: click.Command = main
    args = list(argv)
    while isinstance(command, click.Group):
        sub = command.get_command(click.Context(command), args.pop(0))
        assert sub is not None
        command = sub
    return command.make_context("x", args).params


KEYGEN = ["dkim", "keygen", "--domain", "d", "--selector", "s"]
SEND = ["send", "--from", "a@example.com", "--to", "b@example.net", "--smtp-host", "127.0.0.1"]


@pytest.mark.parametrize(
    ("argv", "name", "expected"),
    [
        (["check", "-n", "127.0.0.1#53", "x.example"], "nameservers", ("127.0.0.1#53",)),
        (["check", "--nameserver", "[::1]:53", "x.example"], "nameservers", ("[::1]:53",)),
        (["check", "-f", "csv", "x.example"], "fmt", "csv"),
        (["check", "--output", "r.json", "x.example"], "output", "r.json"),
        (["verify", "m.eml", "-f", "json"], "fmt", "json"),
        (["verify", "m.eml", "-n", "127.0.0.1#5300"], "nameservers", ("127.0.0.1#5300",)),
        (["bulk", "l.txt", "-n", "::1#5300"], "nameservers", ("::1#5300",)),
        (["receive", "-n", "127.0.0.1"], "nameservers", ("127.0.0.1",)),
        (["receive", "-o", "in/"], "reports_dir", Path("in")),
        (["receive", "--reports-dir", "in/"], "reports_dir", Path("in")),
        ([*KEYGEN, "-o", "k"], "out_dir", Path("k")),
        ([*KEYGEN, "--out", "k"], "out_dir", Path("k")),
        ([*SEND, "-o", "t.json"], "transcript_path", Path("t.json")),
        ([*SEND, "--output", "t.json"], "transcript_path", Path("t.json")),
        ([*SEND, "--transcript", "t.json"], "transcript_path", Path("t.json")),
        (["bulk", "l.txt", "-q"], "quiet", True),
        (["send", *SEND[1:], "--quiet"], "quiet", True),
    ],
)  # fmt: skip
def test_aliases_reach_the_same_parameter(argv: list[str], name: str, expected: object) -> None:
    assert parse(*argv)[name] == expected


def test_version_short_and_long() -> None:
    for flag in ("-V", "--version"):
        res = cli(flag)
        assert res.returncode == 0
        assert __version__ in res.stdout


# -- check: names from stdin and from a file ----------------------------------------------


def test_check_reads_names_from_stdin(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = cli(
        "check", "--zone-file", str(ZONE_FILE), "-f", "json", "-o", str(out), "-",
        stdin="# my domains\ngood.example\n\nweak.example  # the weak one\nGOOD.example.\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert domains_of(out) == ["good.example", "weak.example"]


def test_check_reads_a_domains_file_after_its_arguments(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\ufeffweak.example\r\nbroken.example\r\n")
    out = tmp_path / "r.json"
    res = cli(
        "check", "--zone-file", str(ZONE_FILE), "-f", "json", "-o", str(out),
        "--domains-file", str(names), "good.example",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert domains_of(out) == ["good.example", "weak.example", "broken.example"]


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        ([], None, "no domain to audit"),
        (["-"], "\n# nothing\n", "no domain to audit"),
        (["-"], "good.example\nnot a domain\n", "stdin, line 2"),
        (["-", "--domains-file", "-"], "good.example\n", "stdin ('-') can be read only once"),
        (["--domains-file", "/nonexistent/list.txt"], None, "No such file"),
    ],
)
def test_check_name_list_errors_are_usage_errors(
    args: list[str], stdin: str | None, needle: str
) -> None:
    res = cli("check", "--zone-file", str(ZONE_FILE), *args, stdin=stdin)
    assert res.returncode == 2, res.stdout
    assert needle in res.stderr


def test_check_refuses_a_list_past_its_size_cap(tmp_path: Path) -> None:
    """Past max_domains_file_bytes nothing is audited, and the error points to `bulk`."""
    big = tmp_path / "big.txt"
    cap = CheckInputLimits().max_domains_file_bytes
    big.write_text("good.example\n" + "#" * cap + "\n")
    res = cli("check", "--zone-file", str(ZONE_FILE), "--domains-file", str(big))
    assert res.returncode == 2
    assert "bulk" in res.stderr and f"{cap:,} bytes" in res.stderr
    assert res.stdout == ""


def test_check_refuses_more_names_than_its_cap(tmp_path: Path) -> None:
    many = tmp_path / "many.txt"
    cap = CheckInputLimits().max_domains
    many.write_text("".join(f"d{i}.example\n" for i in range(cap + 1)))
    res = cli("check", "--zone-file", str(ZONE_FILE), "--domains-file", str(many), timeout=120)
    assert res.returncode == 2
    assert f"more than {cap:,} domains" in res.stderr and "bulk" in res.stderr


# -- -q/--quiet: errors and the result only -----------------------------------------------


def test_quiet_check_writes_only_the_result(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    loud = cli("check", "--zone-file", str(ZONE_FILE), "-f", "json", "-o", str(out), "good.example")
    assert f"wrote {out}" in loud.stderr
    quiet = cli(
        "check", "--zone-file", str(ZONE_FILE), "-q", "-f", "json", "-o", str(out), "good.example"
    )
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    assert domains_of(out) == ["good.example"]
    still = cli("check", "-q", "--zone-file", str(ZONE_FILE), "not a domain")
    assert still.returncode == 2 and "error" in still.stderr


def test_quiet_keygen_prints_the_record_only(tmp_path: Path) -> None:
    res = cli(
        "dkim", "keygen", "--domain", "example.com", "--selector", "ed1", "--type", "ed25519",
        "--out", str(tmp_path / "keys"), "--quiet",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.startswith("ed1._domainkey.example.com.")
    assert (tmp_path / "keys" / "ed1.key").exists()


def test_quiet_demo_prints_the_index_path_only(tmp_path: Path) -> None:
    res = cli("demo", "-q", "-o", str(tmp_path / "demo"))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.strip().endswith("index.html")


@pytest.fixture
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> tuple[str, int]:
    return nsd_session_server({"example": ZONE})


def test_dig_style_nameserver_and_short_options_end_to_end(
    ns: tuple[str, int], tmp_path: Path
) -> None:
    host, port = ns
    out = tmp_path / "r.json"
    res = cli("check", "-n", f"{host}#{port}", "-f", "json", "-o", str(out), "good.example")
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())["domains"][0]
    assert report["checks"]["spf"]["status"] == "pass"


def test_quiet_bulk_has_no_progress_or_summary(ns: tuple[str, int], tmp_path: Path) -> None:
    host, port = ns
    res = cli(
        "bulk", "-", "-o", str(tmp_path / "out"), "-n", f"{host}#{port}", "-q",
        stdin="good.example\nweak.example\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 2


# -- send: a refused connection is retried out loud ----------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SEND_REFUSED = [
    "send", "--from", "a@example.com", "--to", "b@example.net", "--smtp-host", "127.0.0.1",
    "--plain", "--retries", "2", "--retry-delay", "0.2",
]  # fmt: skip


def test_send_says_it_is_retrying_and_when() -> None:
    port = _closed_port()
    res = cli(*SEND_REFUSED, "--port", str(port))
    assert res.returncode == 3
    lines = [line for line in res.stderr.splitlines() if "retrying" in line]
    assert lines == [
        f"mailauth-audit: connection refused by 127.0.0.1:{port}; "
        "retrying in 0.2 s (attempt 2 of 3)",
        f"mailauth-audit: connection refused by 127.0.0.1:{port}; "
        "retrying in 0.4 s (attempt 3 of 3)",
    ], res.stderr
    assert re.search(r"not sent: gave up after 3 attempts", res.stderr)


def test_quiet_send_keeps_the_error_only() -> None:
    port = _closed_port()
    res = cli(*SEND_REFUSED, "--port", str(port), "-q")
    assert res.returncode == 3
    assert "retrying" not in res.stderr and "note:" not in res.stderr
    assert "not sent" in res.stderr
