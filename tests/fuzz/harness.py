"""What both engines share: calling a target under the property, and keeping what breaks it.

`Recorder.call` is the function an engine drives. An exception the target's module does not
document, a `PropertyViolation`, or a call slower than `slow` seconds is a finding: the
input is saved as `<artifacts>/<kind>-<sha1>.bin` next to a `.txt` with the traceback, a
line goes to `findings.jsonl`, and fuzzing goes on (one run reports every distinct finding,
deduplicated by exception type and the innermost `mailauth_audit` line that raised it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from .targets import PropertyViolation, Target


@dataclass(frozen=True)
class FuzzFinding:
    target: str
    kind: str  # "exception", "property" or "slow"
    key: str  # what deduplicates findings: exception type and where it was raised
    detail: str  # the exception text, or the time taken
    input_path: str
    size: int
    seconds: float


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "mailauth_audit" in f.filename] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


class Recorder:
    def __init__(
        self, target: Target, artifacts: Path, *, slow: float = 1.0, quiet: bool = False
    ) -> None:
        self.target = target
        self.run = target.make_run()
        self.expected = target.expected()
        self.artifacts = artifacts
        self.slow = slow
        self.quiet = quiet
        self.executions = 0
        self.findings: dict[str, FuzzFinding] = {}
        self.slowest = 0.0
        artifacts.mkdir(parents=True, exist_ok=True)
        self.log = artifacts / "findings.jsonl"
        # the first calls import and compile lazily (dkimpy's crypto, regexes): not timed, so
        # the one-second bound measures the input and not the warm-up; the engines run the
        # seeds again under the property
        for data in target.seeds():
            with contextlib.suppress(Exception):
                self.run(data)

    def call(self, data: bytes) -> None:
        self.executions += 1
        started = time.perf_counter()
        try:
            self.run(data)
        except self.expected:
            pass
        except PropertyViolation as exc:
            self._keep("property", f"{exc}", str(exc), data, exc, started)
        except Exception as exc:
            where = _where(exc)
            self._keep(
                "exception",
                f"{type(exc).__name__} at {where}",
                f"{exc!r}"[:300],
                data,
                exc,
                started,
            )
        elapsed = time.perf_counter() - started
        self.slowest = max(self.slowest, elapsed)
        if elapsed > self.slow:
            self._keep("slow", f"slow > {self.slow:g} s", f"{elapsed:.2f} s", data, None, started)

    def _keep(
        self,
        kind: str,
        key: str,
        detail: str,
        data: bytes,
        exc: BaseException | None,
        started: float,
    ) -> None:
        if key in self.findings:
            old = self.findings[key]
            if len(data) >= old.size:
                return  # keep the smallest reproducer of each finding
        digest = hashlib.sha1(data).hexdigest()[:16]
        path = self.artifacts / f"{kind}-{self.target.name}-{digest}.bin"
        path.write_bytes(data)
        trace = "".join(traceback.format_exception(exc)) if exc is not None else detail
        path.with_suffix(".txt").write_text(f"{key}\n{detail}\n\n{trace}", encoding="utf-8")
        finding = FuzzFinding(
            self.target.name,
            kind,
            key,
            detail,
            str(path),
            len(data),
            round(time.perf_counter() - started, 3),
        )
        new = key not in self.findings
        self.findings[key] = finding
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(finding)) + "\n")
        if new and not self.quiet:
            print(f"FINDING {kind}: {key}: {detail[:200]} -> {path}", file=sys.stderr, flush=True)


def read_findings(log: Path, since: int = 0) -> list[FuzzFinding]:
    """The smallest reproducer of each finding written to `log` after byte `since`."""
    if not log.exists():
        return []
    best: dict[str, FuzzFinding] = {}
    with log.open(encoding="utf-8") as fh:
        fh.seek(since)
        for line in fh:
            f = FuzzFinding(**json.loads(line))
            if f.key not in best or f.size < best[f.key].size:
                best[f.key] = f
    return list(best.values())
