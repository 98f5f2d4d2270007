"""`--color auto|always|never` and NO_COLOR, as a user meets them: a real process writing to a
pipe or to a pseudo-terminal, answers from the fixture zone file (no network).

Rules (https://no-color.org): auto colours a terminal only, and not when NO_COLOR is set and
not empty; always colours a pipe too and overrides NO_COLOR; never never colours. Whatever
is coloured is readable on a light background: no white, bright white or bright black.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_zone import ZONE_FILE

from mailauth_audit.cli.common import ColorMode, color_enabled

ANSI = re.compile(r"\x1b\[([0-9;]*)m")
# SGR foreground/background codes for white, bright white and bright black (grey)
UNREADABLE = {"37", "47", "97", "107", "90", "100"}


def _env(no_color: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    return env


def run_piped(*args: str, no_color: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(no_color),
        check=False,
    )


def run_on_terminal(*args: str, no_color: str | None = None) -> str:
    """Stdout of the command when it is a pseudo-terminal (what `auto` looks for)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailauth_audit", *args],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=_env(no_color),
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", errors="replace")


CHECK = ("check", "--zone-file", str(ZONE_FILE), "good.example", "broken.example")


def sgr_codes(text: str) -> set[str]:
    codes: set[str] = set()
    for match in ANSI.finditer(text):
        codes.update(match.group(1).split(";"))
    return codes


def test_auto_into_a_pipe_is_plain() -> None:
    res = run_piped(*CHECK)
    assert res.returncode == 0, res.stderr
    assert "good.example" in res.stdout
    assert "\x1b[" not in res.stdout


@pytest.mark.parametrize("no_color", [None, "1"])
def test_always_survives_a_pipe_and_overrides_no_color(no_color: str | None) -> None:
    res = run_piped(*CHECK, "--color", "always", no_color=no_color)
    assert res.returncode == 0, res.stderr
    assert ANSI.search(res.stdout), res.stdout


def test_bare_color_means_always() -> None:
    """The old boolean `--color` (no value) at the end of a command line still colours."""
    res = run_piped(*CHECK, "--color")
    assert ANSI.search(res.stdout)


@pytest.mark.parametrize("args", [("--color", "never"), ("--color=never",), ("--no-color",)])
def test_never_and_the_old_no_color_are_plain_even_on_a_terminal(args: tuple[str, ...]) -> None:
    out = run_on_terminal(*CHECK, *args)
    assert "good.example" in out
    assert "\x1b[" not in out


def test_auto_on_a_terminal_colours() -> None:
    out = run_on_terminal(*CHECK)
    assert ANSI.search(out), out


@pytest.mark.parametrize("no_color", ["1", "yes"])
def test_auto_on_a_terminal_honours_no_color(no_color: str) -> None:
    out = run_on_terminal(*CHECK, no_color=no_color)
    assert "good.example" in out
    assert "\x1b[" not in out


def test_an_empty_no_color_does_not_disable_colour() -> None:
    out = run_on_terminal(*CHECK, no_color="")
    assert ANSI.search(out)


def test_no_white_or_grey_text_in_any_colour_of_the_domain_report() -> None:
    res = run_piped(
        "check", "--zone-file", str(ZONE_FILE), "--color", "always",
        "good.example", "weak.example", "broken.example", "hostile.example", "missing.example",
    )  # fmt: skip
    codes = sgr_codes(res.stdout)
    assert codes, res.stdout
    assert not codes & UNREADABLE, codes


def test_json_never_gets_colour_codes() -> None:
    res = run_piped(*CHECK, "-f", "json", "--color", "always")
    assert "\x1b[" not in res.stdout


def test_color_to_a_file_only_when_always(tmp_path: Path) -> None:
    auto, always = tmp_path / "auto.txt", tmp_path / "always.txt"
    run_on_terminal(*CHECK, "-o", str(auto))
    run_piped(*CHECK, "-o", str(always), "--color", "always")
    assert "\x1b[" not in auto.read_text()
    assert ANSI.search(always.read_text())


@pytest.fixture
def eml(tmp_path: Path) -> Path:
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: a@good.example\r\nTo: b@good.example\r\nSubject: x\r\n\r\nhi\r\n")
    return msg


def test_verify_colours_like_check(eml: Path) -> None:
    base = ("verify", str(eml), "--zone-file", str(ZONE_FILE))
    always = run_piped(*base, "--color", "always", no_color="1")
    assert ANSI.search(always.stdout), always.stdout + always.stderr
    assert not sgr_codes(always.stdout) & UNREADABLE
    assert "\x1b[" not in run_piped(*base).stdout
    assert "\x1b[" not in run_on_terminal(*base, no_color="1")
    assert ANSI.search(run_on_terminal(*base))
    assert "\x1b[" not in run_piped(*base, "-f", "json", "--color", "always").stdout


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("mode", "tty", "env", "expected"),
    [
        (ColorMode.AUTO, True, {}, True),
        (ColorMode.AUTO, False, {}, False),
        (ColorMode.AUTO, True, {"NO_COLOR": "1"}, False),
        (ColorMode.AUTO, True, {"NO_COLOR": ""}, True),
        (ColorMode.ALWAYS, False, {"NO_COLOR": "1"}, True),
        (ColorMode.NEVER, True, {}, False),
    ],
)
def test_color_rules(mode: ColorMode, tty: bool, env: dict[str, str], expected: bool) -> None:
    assert color_enabled(mode, _Stream(tty), env) is expected  # type: ignore[arg-type]
