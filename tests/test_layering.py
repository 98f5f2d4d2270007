"""The package's layers, read from the source with `ast` (nothing is imported).

- records/ is pure: text in, typed record out. It imports nothing that does I/O, so it can
  be fuzzed, re-run on saved facts, and reused without a network.
- report/ renders what the checks produced through their public faces (`checks.registry`,
  `checks.base`), so a check can change its internals without breaking a renderer.
- cli/ is a client of the facade (`asyncapi`, `api`, `options`, `model`, `errors`) and
  imports nothing else of the package: what it needs, `asyncapi` re-exports.
  `CLI_INTERNALS_TODAY` is empty and stays so: a new edge fails.

Imports inside functions and under `TYPE_CHECKING` count: they couple the layers all the same.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "mailauth_audit"
ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / PACKAGE

# records/ must not reach the network, the disk-writing layers or an event loop.
RECORDS_FORBIDDEN_INTERNAL = (
    "resolver",
    "probes",
    "engine",
    "cli",
    "bulk",
    "messages.smtp",  # prefix: messages.smtp_send, smtp_session, smtp_limits, ...
    "messages.receive",
)
RECORDS_FORBIDDEN_EXTERNAL = (
    "socket",
    "ssl",
    "asyncio",
    "selectors",
    "smtplib",
    "http",
    "urllib.request",
    "subprocess",
    "httpx",
    "aiosmtpd",
    "uvloop",
    "dns.query",
    "dns.asyncquery",
    "dns.resolver",
    "dns.asyncresolver",
)

REPORT_MAY_IMPORT_FROM_CHECKS = {"checks", "checks.registry", "checks.base"}


def _is_result_contract(internal: str) -> bool:
    """`checks.<id>.result`: a check's typed facts, the contract other checks and renderers
    read (frozen dataclasses, extended only by fields with defaults)."""
    parts = internal.split(".")
    return len(parts) == 3 and parts[0] == "checks" and parts[2] == "result"


# Existing exceptions, each with why it is there and how it goes away.
REPORT_CHECKS_EXCEPTIONS: set[tuple[str, str]] = set()

# verdicts/ judges a domain from its outcomes, once: it reads the model and the checks'
# result types, never the layers that run checks, render or write
VERDICTS_FORBIDDEN = ("engine", "report", "bulk", "cli", "resolver", "probes", "messages")

CLI_FACADE = {"", "asyncapi", "api", "options", "model", "errors"}  # "" is the package itself
# What cli/ imports beyond the facade today, per module. Only ever delete from this list.
CLI_INTERNALS_TODAY: set[tuple[str, str]] = set()  # the facade re-exports what cli/ needs


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules `path` imports (`from x import y` adds x.y when y is a
    module of this package)."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package[: len(package) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}")
            )
    return found


@cache
def _graph() -> dict[str, frozenset[str]]:
    """Every module of the package -> what it imports."""
    return {
        _module_name(path): frozenset(_imports(path))
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if "templates" not in path.relative_to(PACKAGE_DIR).parts
    }


def _internal(dotted: str) -> str | None:
    """`mailauth_audit.checks.spf` -> `checks.spf`; None outside the package."""
    if dotted == PACKAGE:
        return ""
    if dotted.startswith(PACKAGE + "."):
        return dotted[len(PACKAGE) + 1 :]
    return None


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _edges(layer: str) -> set[tuple[str, str]]:
    """(importer, imported) for the modules of `layer`, both without the package prefix."""
    out: set[tuple[str, str]] = set()
    for module, deps in _graph().items():
        short = _internal(module)
        if short is None or not _under(short, layer):
            continue
        out.update((short, dep) for dep in deps)
    return out


def test_the_scan_sees_the_package() -> None:
    graph = _graph()
    assert f"{PACKAGE}.records.spf" in graph
    assert f"{PACKAGE}.records.errors" in graph[f"{PACKAGE}.records.spf"]
    assert f"{PACKAGE}.asyncapi" in graph[f"{PACKAGE}.cli.main"]


def test_records_import_nothing_with_io() -> None:
    bad = []
    for module, dep in sorted(_edges("records")):
        internal = _internal(dep)
        if internal is not None:
            if any(
                internal.startswith(p) if p.endswith("smtp") else _under(internal, p)
                for p in RECORDS_FORBIDDEN_INTERNAL
            ):
                bad.append(f"{module} imports {dep}")
        elif any(dep == p or dep.startswith(p + ".") for p in RECORDS_FORBIDDEN_EXTERNAL):
            bad.append(f"{module} imports {dep}")
    assert not bad, "records/ must stay pure (no I/O):\n" + "\n".join(bad)


def test_report_uses_only_the_public_faces_of_checks() -> None:
    used = set()
    for module, dep in _edges("report"):
        internal = _internal(dep)
        if internal is None or not _under(internal, "checks"):
            continue
        if internal in REPORT_MAY_IMPORT_FROM_CHECKS or _is_result_contract(internal):
            continue
        used.add((module, internal))
    new = sorted(used - REPORT_CHECKS_EXCEPTIONS)
    assert not new, (
        "report/ imports checks' internals; use checks.registry / checks.base:\n"
        + "\n".join(f"{m} imports {d}" for m, d in new)
    )
    gone = sorted(REPORT_CHECKS_EXCEPTIONS - used)
    assert not gone, "delete these from REPORT_CHECKS_EXCEPTIONS, they are gone:\n" + "\n".join(
        f"{m} -> {d}" for m, d in gone
    )


def test_cli_imports_only_the_facade_or_todays_internals() -> None:
    used = set()
    for module, dep in _edges("cli"):
        internal = _internal(dep)
        if internal is None or _under(internal, "cli") or internal in CLI_FACADE:
            continue
        used.add((module, internal))
    new = sorted(used - CLI_INTERNALS_TODAY)
    assert not new, (
        "cli/ is a client of the facade (asyncapi, api, options, model, errors); "
        "export what it needs there instead of importing:\n"
        + "\n".join(f"{m} imports {d}" for m, d in new)
    )
    gone = sorted(CLI_INTERNALS_TODAY - used)
    assert not gone, "delete these from CLI_INTERNALS_TODAY, they are gone:\n" + "\n".join(
        f"{m} -> {d}" for m, d in gone
    )


def test_verdicts_judge_without_running_rendering_or_writing() -> None:
    bad = sorted(
        f"{module} imports {dep}"
        for module, dep in _edges("verdicts")
        if (internal := _internal(dep)) is not None
        and any(_under(internal, p) for p in VERDICTS_FORBIDDEN)
    )
    assert not bad, "verdicts/ judges reports; it must not run, render or write:\n" + "\n".join(bad)


def test_report_renders_without_judging() -> None:
    """Score and checklist are judged once, in verdicts/; report/ reads them off the report
    (`DomainReport.verdict`, `.checklist`) and never calls the judgement itself."""
    calls = []
    for path in sorted((PACKAGE_DIR / "report").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in ("score_domain", "provider_checklist"):
                    calls.append(f"{path.name}:{node.lineno} calls {name}")
    assert not calls, "\n".join(calls)


# where report/ and verdicts/ may call getattr: the codec and the schema walk dataclasses
# generically; slim.py and slim_rules.py read results by name until they are typed too
GETATTR_ALLOWED = {
    "report.codec",
    "report.decode",
    "report.schema",
    "report.slim",
    "report.slim_rules",
}


def test_renderers_and_verdicts_read_check_results_typed() -> None:
    # a renderer or a verdict reads a check's facts through its `result` module's types,
    # never by attribute name on `CheckOutcome.result: Any`
    bad = []
    for layer in ("report", "verdicts"):
        for path in sorted((PACKAGE_DIR / layer).rglob("*.py")):
            short = _internal(_module_name(path))
            if short in GETATTR_ALLOWED:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            bad += [
                f"{short}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
            ]
    assert not bad, f"getattr/hasattr on results in renderers or verdicts: {bad}"
