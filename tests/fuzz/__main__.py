"""`python -m tests.fuzz TARGET --seconds N [--corpus DIR]`: fuzz one target, then print
executions, exec/s, coverage and every finding (with the file its input was saved to).

Exit status: 0 when nothing was found, 1 when there are findings, 2 when the engine itself
failed. `--replay FILE...` runs saved inputs through the target once, for reproducing.
Arguments after `--` are libFuzzer flags for the atheris engine, e.g. `-- -len_control=0`
(long inputs from the start) or `-- -max_len=65536`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

from .engines import Summary, atheris_child, run_atheris, run_hypothesis
from .harness import Recorder
from .targets import TARGETS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    p.add_argument("target", choices=sorted(TARGETS), nargs="?")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    p.add_argument("--seconds", type=float, help="stop after this long (default 60)")
    p.add_argument("--runs", type=int, help="stop after this many executions")
    p.add_argument(
        "--corpus",
        type=Path,
        help="folder of inputs: read at start, grown as new "
        "coverage is found (default: a fresh temporary folder)",
    )
    p.add_argument(
        "--artifacts",
        type=Path,
        help="where findings' inputs are saved (default: <tmp>/mailauth-audit-fuzz/TARGET)",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "atheris", "hypothesis", "atheris-child"),
        default="auto",
        help="auto: atheris when installed, else hypothesis",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--slow", type=float, default=1.0, help="a call slower than this many seconds is a finding"
    )
    p.add_argument(
        "--hang",
        type=float,
        default=20.0,
        help="a call still running after this many seconds is stopped",
    )
    p.add_argument("--replay", type=Path, nargs="+", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="echo every libFuzzer line")
    return p


def print_summary(s: Summary, out=sys.stdout) -> None:  # type: ignore[no-untyped-def]
    print(f"target:      {s.target} (engine {s.engine})", file=out)
    print(f"seconds:     {s.seconds:.1f}", file=out)
    print(f"executions:  {s.executions}", file=out)
    print(f"exec/s:      {s.exec_per_s:.0f}", file=out)
    print(f"coverage:    {s.coverage}; corpus {s.corpus} inputs", file=out)
    print(f"findings:    {len(s.findings)}  (inputs under {s.artifacts})", file=out)
    for f in s.findings:
        print(f"  - [{f.kind}] {f.key}: {f.detail[:160]} ({f.size} bytes) {f.input_path}", file=out)
    if s.failed:
        print(f"engine failed: {s.failed}", file=out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # the atheris child gets libFuzzer's own arguments after "--"
    libfuzzer = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = _parser().parse_args(argv[: len(argv) - len(libfuzzer) - bool(libfuzzer)])
    if args.list or args.target is None:
        for name, t in TARGETS.items():
            print(f"{name:8} {t.summary}")
        return 0
    target = TARGETS[args.target]
    artifacts = args.artifacts or Path(tempfile.gettempdir()) / "mailauth-audit-fuzz" / target.name
    if args.engine == "atheris-child":
        atheris_child(target, artifacts, args.slow, libfuzzer)
        return 0
    if args.replay:
        recorder = Recorder(target, artifacts, slow=args.slow)
        for path in args.replay:
            recorder.call(path.read_bytes())
        print(f"replayed {len(args.replay)} inputs: {len(recorder.findings)} findings")
        for f in recorder.findings.values():
            print(f"  - [{f.kind}] {f.key}: {f.detail[:300]}")
        return 1 if recorder.findings else 0
    seconds = args.seconds if args.seconds is not None or args.runs is not None else 60.0
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    if engine == "atheris":
        module = __spec__.parent if __spec__ is not None else "tests.fuzz"
        summary = run_atheris(
            target,
            module=module,
            seconds=seconds,
            runs=args.runs,
            seed=args.seed,
            corpus=args.corpus,
            artifacts=artifacts,
            slow=args.slow,
            hang=args.hang,
            verbose=args.verbose,
            libfuzzer_args=tuple(libfuzzer),
        )
    else:
        if libfuzzer:
            print("libFuzzer flags after -- are for the atheris engine only", file=sys.stderr)
            return 2
        recorder = Recorder(target, artifacts, slow=args.slow)
        summary = run_hypothesis(
            target,
            recorder,
            seconds=seconds,
            runs=args.runs,
            seed=args.seed,
            corpus=args.corpus,
            hang=args.hang,
        )
    print_summary(summary)
    if summary.failed:
        return 2
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
