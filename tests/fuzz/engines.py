"""Two ways to drive a `Recorder`: atheris (libFuzzer) in a child process whose status lines
are read for coverage, and a pure-Python loop around Hypothesis's `fuzz_one_input` that keeps
the buffers reaching new lines of the code under test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .harness import FuzzFinding, Recorder, read_findings
from .targets import Target


@dataclass
class Summary:
    target: str
    engine: str
    seconds: float
    executions: int
    coverage: str
    corpus: int
    findings: list[FuzzFinding] = field(default_factory=list)
    artifacts: str = ""
    failed: str | None = None  # set when the engine itself stopped abnormally

    @property
    def exec_per_s(self) -> float:
        return self.executions / self.seconds if self.seconds > 0 else 0.0


class Hang(Exception):
    """Raised by the watchdog into a call that outlives `--hang` seconds."""


def _package_dirs(packages: tuple[str, ...]) -> tuple[str, ...]:
    dirs = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(str(Path(p)) for p in spec.submodule_search_locations)
    return tuple(dirs)


def _splice(args: tuple[bytes, int, int, bytes]) -> bytes:
    seed, a, b, insert = args
    lo, hi = sorted((a % (len(seed) + 1), b % (len(seed) + 1)))
    return seed[:lo] + insert + seed[hi:]


def _strategy(target: Target, seeds: list[bytes]) -> Any:
    """Grammar-aware inputs: seeds, seeds with a stretch replaced by grammar words, words
    strung together, and raw bytes."""
    from hypothesis import strategies as st

    token = st.sampled_from(target.tokens)
    # a word repeated many times: deep nesting and long runs are where parsers recurse or
    # go quadratic, and random mutation rarely builds them
    repeated = st.tuples(token, st.integers(1, 2000)).map(lambda t: t[0] * t[1])
    chunk = st.one_of(token, st.binary(max_size=16), repeated)
    words = st.lists(chunk, max_size=40).map(b"".join)
    seeded = st.sampled_from(seeds or [b""])
    spliced = st.tuples(seeded, st.integers(0, 1 << 16), st.integers(0, 1 << 16), words)
    return st.one_of(seeded, spliced.map(_splice), words, st.binary(max_size=target.max_len)).map(
        lambda b: b[: target.max_len]
    )


def _mutate(buf: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    data = bytearray(buf)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 2:
            del data[pos : pos + rng.randint(1, 16)]
        elif op == 3 and data:
            end = min(len(data), pos + rng.randint(1, 32))
            data[pos:pos] = data[pos:end] * rng.randint(1, 4)
        elif pool:
            other = rng.choice(pool)
            data = data[:pos] + other[rng.randint(0, len(other)) :]
    return bytes(data[:4096])


def run_hypothesis(
    target: Target,
    recorder: Recorder,
    *,
    seconds: float | None,
    runs: int | None,
    seed: int,
    corpus: Path | None,
    hang: float,
    status_every: float = 10.0,
) -> Summary:
    from hypothesis import HealthCheck, given, settings

    started = time.monotonic()
    prefixes = _package_dirs(target.packages)
    lines: set[tuple[object, int]] = set()

    def local(frame: FrameType, event: str, _arg: object) -> Any:
        if event == "line":
            lines.add((frame.f_code, frame.f_lineno))
        return local

    def tracer(frame: FrameType, _event: str, _arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(prefixes) else None

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"call still running after {hang:g} s")

    watchdog = hasattr(signal, "setitimer")
    if watchdog:
        signal.signal(signal.SIGALRM, on_alarm)

    def traced(data: bytes) -> None:
        before = len(lines)
        if watchdog:
            signal.setitimer(signal.ITIMER_REAL, hang)
        sys.settrace(tracer)
        try:
            recorder.call(data)
        finally:
            sys.settrace(None)
            if watchdog:
                signal.setitimer(signal.ITIMER_REAL, 0)
        if corpus is not None and len(lines) > before:
            corpus.mkdir(parents=True, exist_ok=True)
            (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)

    inputs = target.seeds()
    if corpus is not None and corpus.is_dir():
        inputs += [p.read_bytes() for p in sorted(corpus.iterdir()) if p.is_file()]
    for data in inputs:
        traced(data)

    @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_strategy(target, inputs))
    def one(data: bytes) -> None:
        traced(data)

    fuzz = one.hypothesis.fuzz_one_input  # type: ignore[attr-defined]
    rng = random.Random(seed)
    pool: list[bytes] = []
    deadline = started + seconds if seconds is not None else float("inf")
    next_status = started + status_every
    while (runs is None or recorder.executions < runs) and time.monotonic() < deadline:
        if not pool or rng.random() < 0.25:
            buf = rng.randbytes(rng.randint(1, 512))
        else:
            buf = _mutate(rng.choice(pool), rng, pool)
        before = len(lines)
        fuzz(buf)
        if len(lines) > before:
            pool.append(buf)
        now = time.monotonic()
        if now >= next_status:
            next_status = now + status_every
            rate = recorder.executions / (now - started)
            print(
                f"#{recorder.executions} pulse lines: {len(lines)} pool: {len(pool)} "
                f"exec/s: {rate:.0f} findings: {len(recorder.findings)}",
                file=sys.stderr,
                flush=True,
            )
    return Summary(
        target.name,
        "hypothesis",
        time.monotonic() - started,
        recorder.executions,
        f"{len(lines)} lines of {', '.join(target.packages)}",
        len(pool),
        list(recorder.findings.values()),
        str(recorder.artifacts),
    )


# --- atheris ------------------------------------------------------------------------------------

_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)")
_ECHO = ("FINDING", "ERROR", "SUMMARY", "Done ", "Test unit", "==")
_MILESTONE = re.compile(r"^#\d+\s+(INITED|pulse|DONE)\s")


def _dictionary(tokens: tuple[bytes, ...]) -> str:
    out = []
    for token in tokens:
        text = "".join(
            chr(c) if 0x20 <= c < 0x7F and c not in b'"\\' else f"\\x{c:02x}" for c in token
        )
        out.append(f'"{text}"')
    return "\n".join(out) + "\n"


def run_atheris(
    target: Target,
    *,
    module: str,
    seconds: float | None,
    runs: int | None,
    seed: int,
    corpus: Path | None,
    artifacts: Path,
    slow: float,
    hang: float,
    verbose: bool,
    libfuzzer_args: tuple[str, ...] = (),
) -> Summary:
    """Run the atheris child and read its libFuzzer status lines for coverage figures.
    `libfuzzer_args` go after the harness's own flags, so they override them (libFuzzer
    keeps the last value of a flag): `-len_control=0`, `-max_len=N`..."""
    work = Path(tempfile.mkdtemp(prefix=f"mailauth-fuzz-{target.name}-"))
    seeds_dir = work / "seeds"
    seeds_dir.mkdir()
    for i, data in enumerate(target.seeds()):
        (seeds_dir / f"seed-{i:03d}").write_bytes(data)
    corpus_dir = corpus or work / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    dict_file = work / "tokens.dict"
    dict_file.write_text(_dictionary(target.tokens), encoding="utf-8")
    artifacts.mkdir(parents=True, exist_ok=True)
    log = artifacts / "findings.jsonl"
    since = log.stat().st_size if log.exists() else 0
    flags = [
        f"-seed={seed}",
        f"-max_len={target.max_len}",
        f"-timeout={max(1, round(hang))}",
        "-rss_limit_mb=1024",
        "-print_final_stats=1",
        f"-dict={dict_file}",
        f"-artifact_prefix={artifacts}/",
    ]
    if seconds is not None:
        flags.append(f"-max_total_time={max(1, round(seconds))}")
    if runs is not None:
        flags.append(f"-runs={runs}")
    flags.extend(libfuzzer_args)
    cmd = [
        sys.executable,
        "-m",
        module,
        target.name,
        "--engine",
        "atheris-child",
        "--artifacts",
        str(artifacts),
        "--slow",
        str(slow),
        "--",
        str(corpus_dir),
        str(seeds_dir),
        *flags,
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
    assert proc.stderr is not None
    executions = cov = ft = corp = 0
    stats: dict[str, int] = {}
    errors: list[str] = []
    for line in proc.stderr:
        if m := _STATUS.match(line):
            executions, cov, ft, corp = (int(g) for g in m.groups())
        elif m := _STAT.match(line):
            stats[m.group(1)] = int(m.group(2))
        if "ERROR: libFuzzer" in line or "Test unit written to" in line:
            errors.append(line.strip())
        if verbose or line.startswith(_ECHO) or _MILESTONE.search(line):
            sys.stderr.write(line)
    code = proc.wait()
    elapsed = time.monotonic() - started
    executions = stats.get("number_of_executed_units", executions)
    return Summary(
        target.name,
        "atheris",
        elapsed,
        executions,
        f"cov {cov} edges, ft {ft} features",
        corp,
        read_findings(log, since),
        str(artifacts),
        failed=None if code == 0 else f"exit status {code}: " + " | ".join(errors)[:500],
    )


def atheris_child(target: Target, artifacts: Path, slow: float, libfuzzer_args: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=list(target.packages)):
        recorder = Recorder(target, artifacts, slow=slow)
    atheris.Setup([sys.argv[0], *libfuzzer_args], recorder.call)
    atheris.Fuzz()
