"""`bulk`'s output folder and worker processes under hostile conditions.

Attacks reproduced here:
- a symlink planted at results.jsonl (or at any file bulk writes in its folder) made
  `--resume` truncate the link's target: any file the user can write;
- a FIFO planted at results.jsonl made the run block forever opening it;
- `--resume` with another domain list or other options mixed both runs silently
  ("15 of 5 domains reported");
- `kill -9` of the parent left its worker processes running forever.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dnsservers import FaultServer
from fixture_zone import ZONE

from mailauth_audit.bulk.inputs import read_entries
from mailauth_audit.bulk.manifest import ResumeMismatch
from mailauth_audit.bulk.runner import BulkConfig, run_bulk
from mailauth_audit.model import CheckId
from mailauth_audit.options import AuditOptions
from mailauth_audit.outputs import OutputRefused
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.static import StaticResolver

NAMES = [f"d{i:02d}.example" for i in range(15)]


def _static() -> CachingResolver:
    return CachingResolver(StaticResolver(ZONE, origin="example"))


def _run(out: Path, names: list[str], **kw: Any) -> Any:
    entries, stats = read_entries(names)
    config = BulkConfig(output_dir=out, progress=False, resolver_factory=_static, **kw)
    return run_bulk(entries, config, input_stats=stats)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "precious.txt"
    victim.write_text("precious, not JSON\n")
    return victim


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", "bulk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def offline(port: int) -> tuple[str, ...]:
    """A nameserver that is not there: a run that wrongly starts ends quickly in errors."""
    return ("--nameserver", f"127.0.0.1:{port}", "--timeout", "0.2", "--retries", "0",
            "--no-progress")  # fmt: skip


# ---- files in the output folder -----------------------------------------------------------


@pytest.mark.parametrize("name", ["results.jsonl", ".results.csv.jsonl"])
def test_resume_does_not_follow_a_symlinked_results_file(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:3])
    victim = _victim(tmp_path)
    (out / name).unlink()
    (out / name).symlink_to(victim)
    with pytest.raises(OutputRefused, match="symbolic link"):
        _run(out, NAMES[:3], resume=True)
    assert victim.read_text() == "precious, not JSON\n"


def test_a_symlink_at_the_rows_temporary_is_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:3])
    victim = _victim(tmp_path)
    (out / ".results.csv.jsonl.tmp").symlink_to(victim)
    outcome = _run(out, NAMES[:3], resume=True)
    assert outcome.complete and outcome.summary.domains == 3
    assert victim.read_text() == "precious, not JSON\n"


@pytest.mark.parametrize("name", ["summary.json", "index.html", "results.csv", "run.json"])
def test_a_symlinked_final_file_is_refused_before_any_work(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = _victim(tmp_path)
    (out / name).symlink_to(victim)
    with pytest.raises(OutputRefused, match="symbolic link"):
        _run(out, NAMES[:3])
    assert not (out / "results.jsonl").exists()  # refused up front, not after the run
    assert victim.read_text() == "precious, not JSON\n"


def test_cli_refuses_a_symlinked_results_file_with_exit_2(tmp_path: Path, closed_port: int) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:3])
    victim = _victim(tmp_path)
    (out / "results.jsonl").unlink()
    (out / "results.jsonl").symlink_to(victim)
    src = tmp_path / "list.txt"
    src.write_text("\n".join(NAMES[:3]) + "\n")
    res = cli(str(src), "-o", str(out), "--resume", *offline(closed_port))
    assert res.returncode == 2, res.stderr
    assert "symbolic link" in res.stderr and "Traceback" not in res.stderr
    assert victim.read_text() == "precious, not JSON\n"


def test_a_fifo_at_results_jsonl_is_refused_without_blocking(
    tmp_path: Path, closed_port: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "results.jsonl")
    src = tmp_path / "list.txt"
    src.write_text("\n".join(NAMES[:3]) + "\n")
    started = time.monotonic()
    res = cli(str(src), "-o", str(out), "--resume", *offline(closed_port), timeout=30)
    assert res.returncode == 2, res.stderr
    assert "not a regular file" in res.stderr or "FIFO" in res.stderr
    assert time.monotonic() - started < 20


# ---- resuming another run -----------------------------------------------------------------


def test_resume_with_another_domain_list_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, NAMES)
    with pytest.raises(ResumeMismatch, match="domain list") as info:
        _run(out, NAMES[:5], resume=True)
    assert "15" in str(info.value) and "5" in str(info.value)
    assert len((out / "results.jsonl").read_text().splitlines()) == 15  # untouched


def test_resume_with_other_checks_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:3])
    other = AuditOptions(checks=frozenset({CheckId.SPF}))
    with pytest.raises(ResumeMismatch, match="checks"):
        _run(out, NAMES[:3], resume=True, options=other)


def test_resume_with_the_same_list_in_another_order_and_spelling_is_accepted(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:4])
    again = _run(out, [n.upper() + "." for n in reversed(NAMES[:4])], resume=True)
    assert again.reported_before == 4 and again.reported_now == 0


def test_a_huge_run_json_is_refused_after_reading_only_its_start(tmp_path: Path) -> None:
    import tracemalloc

    out = tmp_path / "out"
    _run(out, NAMES[:3])
    with (out / "run.json").open("wb") as fh:
        fh.truncate(1 << 30)  # 1 GiB, sparse
    tracemalloc.start()
    try:
        with pytest.raises(ResumeMismatch, match="larger than"):
            _run(out, NAMES[:3], resume=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_a_resume_without_run_json_records_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, NAMES[:3])
    (out / "run.json").unlink()
    _run(out, NAMES[:3], resume=True)
    assert json.loads((out / "run.json").read_text())["domains"] == 3
    with pytest.raises(ResumeMismatch):
        _run(out, NAMES[:4], resume=True)


def test_cli_mismatched_resume_exits_2_and_says_what_differs(
    tmp_path: Path, closed_port: int
) -> None:
    out = tmp_path / "out"
    _run(out, NAMES)
    src = tmp_path / "list.txt"
    src.write_text("\n".join(NAMES[:5]) + "\n")
    res = cli(str(src), "-o", str(out), "--resume", "--checks", "spf", *offline(closed_port))
    assert res.returncode == 2, res.stderr
    assert "domain list" in res.stderr and "checks" in res.stderr
    assert "Traceback" not in res.stderr


def test_lines_for_domains_not_in_the_list_are_reported_not_counted(tmp_path: Path) -> None:
    """A folder without run.json (written by an older version, or edited by hand): the lines
    of other domains are counted as foreign, never as reported domains of this list."""
    out = tmp_path / "out"
    _run(out, NAMES)
    (out / "run.json").unlink()
    outcome = _run(out, NAMES[:5], resume=True)
    assert outcome.summary.domains == 5 and outcome.total == 5
    assert outcome.foreign == 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["domains"] == 5 and summary["domains_foreign"] == 10
    assert len((out / "results.csv").read_text().splitlines()) == 1 + 5


def test_cli_says_how_many_lines_were_foreign(tmp_path: Path, closed_port: int) -> None:
    out = tmp_path / "out"
    _run(out, NAMES)
    (out / "run.json").unlink()
    src = tmp_path / "list.txt"
    src.write_text("\n".join(NAMES[:5]) + "\n")
    res = cli(str(src), "-o", str(out), "--resume", *offline(closed_port))
    assert res.returncode in (0, 3), res.stderr
    assert "5 of 5 domains reported" in res.stderr
    assert "10 lines" in res.stderr and "not in this list" in res.stderr


# ---- worker processes die with their parent ------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_when_the_parent_is_killed(
    tmp_path: Path, fault_server: Callable[..., FaultServer]
) -> None:
    """Given a run of two worker processes blocked on a DNS server that never answers, when
    the parent gets SIGKILL (nothing of it runs again), both workers end within seconds."""
    silent = fault_server("silent")
    src = tmp_path / "list.txt"
    src.write_text("\n".join(f"w{i}.example" for i in range(200)) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailauth_audit", "bulk", str(src), "-o", str(tmp_path / "out"),
         "--processes", "2", "--no-progress", "--timeout", "30",
         "--nameserver", f"{silent.host}:{silent.port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = _children(proc.pid)
            if len(workers) >= 2 and silent.udp_queries > 0:
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the workers did not start"
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        survivors = [w for w in workers if _alive(w)]
        assert survivors == [], f"orphaned workers still running: {survivors}"
    finally:
        for w in workers:  # our own test's processes, by pid
            if _alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


WATCHDOG_SCRIPT = """
import multiprocessing, os, sys, time
from mailauth_audit.bulk import workers

def child(parent_pid, no_sentinel):
    sys.platform = "darwin"  # the portable path, as on a system without prctl
    if no_sentinel:
        workers.multiprocessing.parent_process = lambda: None
    print(workers.die_with_parent(parent_pid), os.getpid(), flush=True)
    time.sleep(600)

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    ctx.Process(target=child, args=(os.getpid(), sys.argv[2] == "poll"), daemon=False).start()
    time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("method", "watch"), [("spawn", "sentinel"), ("fork", "poll")])
def test_the_watchdog_ends_a_worker_whose_parent_was_killed(
    tmp_path: Path, method: str, watch: str
) -> None:
    """Where PR_SET_PDEATHSIG is not available: the parent's sentinel pipe (or, without one,
    the parent's pid) is watched, and the worker exits within seconds of a SIGKILL."""
    script = tmp_path / "watchdog_run.py"
    script.write_text(WATCHDOG_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), method, watch], stdout=subprocess.PIPE, text=True
    )
    child = 0
    try:
        assert proc.stdout is not None
        how, pid = proc.stdout.readline().split()
        child = int(pid)
        assert how == "watchdog" and _alive(child)
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child), "the worker outlived its parent"
    finally:
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
