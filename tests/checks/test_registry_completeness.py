"""Adding a check is a folder plus a registry line: these tests name whatever is still missing.

Every registered check must describe itself (title, summary, result type, catalogue), have its
result in the committed JSON schema and an HTML detail block (its own templates/checks/<id>.html
or the generic one, which shows its summary), and every finding
it emits over the fixture zone must come from its catalogue with every placeholder filled.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import importlib
import importlib.util
import re
import string
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.checks.base import Check
from mailauth_audit.checks.dependencies import validate_registry
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.findings import all_specs
from mailauth_audit.findings.base import FindingSpec
from mailauth_audit.model import AuditRun, CheckId, CheckStatus, Finding
from mailauth_audit.report.html import (
    GENERIC_DETAIL_TEMPLATE,
    detail_template,
    domain_views,
    render_run_page,
)
from mailauth_audit.report.renderers import TextRenderer
from mailauth_audit.report.schema import committed_schema
from mailauth_audit.resolver.static import StaticResolver

REGISTERED = sorted(CHECKS.items())


@cache
def fixture_run() -> AuditRun:
    return asyncio.run(audit_domains(FIXTURE_DOMAINS, resolver=StaticResolver(ZONE)))


def _name(cls: type[Check[Any]]) -> str:
    return f"{cls.__name__} ({cls.id.value})"


def test_every_check_id_is_registered() -> None:
    missing = [cid.value for cid in CheckId if cid not in CHECKS]
    assert not missing, f"CheckId without a registry line in checks/registry.py: {missing}"
    validate_registry(CHECKS)


@pytest.mark.parametrize(("cid", "cls"), REGISTERED, ids=[c.value for c, _ in REGISTERED])
def test_check_describes_itself(cid: CheckId, cls: type[Check[Any]]) -> None:
    missing = [
        attr
        for attr in ("title", "result_type", "catalogue", "standard")
        if not getattr(cls, attr, None)
    ]
    assert not missing, f"{_name(cls)} lacks class attribute(s) {missing}"
    assert not getattr(cls.summary, "__isabstractmethod__", False), (
        f"{_name(cls)} must define summary(result) -> str (one line for the report's row)"
    )
    assert dataclasses.is_dataclass(cls.result_type), (
        f"{_name(cls)}.result_type must be the frozen dataclass collect() returns"
    )
    assert cls.result_type.__dataclass_params__.frozen, f"{cls.result_type.__name__} not frozen"  # type: ignore[attr-defined]
    wrong = [s.code for s in cls.catalogue if not isinstance(s, FindingSpec) or s.check is not cid]
    assert not wrong, f"{_name(cls)}.catalogue holds specs of another check: {wrong}"


def test_every_finding_spec_belongs_to_one_check_catalogue() -> None:
    listed: dict[str, list[str]] = {}
    for cid, cls in CHECKS.items():
        for spec in cls.catalogue:
            listed.setdefault(spec.code, []).append(cid.value)
    unlisted = sorted(s.code for s in all_specs() if s.code not in listed)
    twice = {code: cids for code, cids in listed.items() if len(cids) > 1}
    assert not unlisted, f"finding specs in no check's catalogue (set Check.catalogue): {unlisted}"
    assert not twice, f"finding specs in more than one catalogue: {twice}"


@pytest.mark.parametrize(("cid", "cls"), REGISTERED, ids=[c.value for c, _ in REGISTERED])
def test_check_result_is_in_the_committed_schema(cid: CheckId, cls: type[Check[Any]]) -> None:
    schema = committed_schema()
    checks = schema["$defs"]["DomainReport"]["properties"]["checks"]["properties"]
    hint = "regenerate it: python -m mailauth_audit.report.schema"
    assert cid.value in checks, f"{_name(cls)} has no entry in report/schema.json; {hint}"
    refs = [alt.get("$ref") for alt in checks[cid.value]["properties"]["result"]["anyOf"]]
    name = cls.result_type.__name__
    assert f"#/$defs/{name}" in refs and name in schema["$defs"], (
        f"report/schema.json does not describe {name} as the result of {cid.value}; {hint}"
    )


def _template(*path: str) -> str:
    return resources.files("mailauth_audit.templates").joinpath(*path).read_text()


def _check_blocks() -> set[str]:
    """The check ids that have their own templates/checks/<id>.html."""
    folder = resources.files("mailauth_audit.templates").joinpath("checks")
    return {
        f.name.removesuffix(".html")
        for f in folder.iterdir()
        if f.name.endswith(".html") and not f.name.startswith("_")
    }


@pytest.mark.parametrize(("cid", "cls"), REGISTERED, ids=[c.value for c, _ in REGISTERED])
def test_renderers_cover_the_check(cid: CheckId, cls: type[Check[Any]]) -> None:
    run = fixture_run()
    text = TextRenderer().render(run)
    page = render_run_page(run)
    assert f"  {cid.value.upper():<6} " in text, f"the text report has no row for {cid.value}"
    assert cls.title in page, f"the HTML report does not show {_name(cls)}'s title"
    block = detail_template(cid)
    assert block in (f"checks/{cid.value}.html", GENERIC_DETAIL_TEMPLATE), block
    if block == GENERIC_DETAIL_TEMPLATE:  # acceptable: shows the summary; say how to do better
        print(f"{_name(cls)} uses the generic HTML block; add templates/checks/{cid.value}.html")
    for report in run.domains:
        outcome = report.checks.get(cid)
        if outcome is not None and outcome.status not in (CheckStatus.ERROR, CheckStatus.SKIPPED):
            line = cls.summary(outcome.result)
            assert isinstance(line, str) and "\n" not in line, f"{_name(cls)}.summary: {line!r}"


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _unfilled(finding: Finding, spec: FindingSpec) -> list[str]:
    """Any `{` left in what a reader sees; names the template's placeholders still visible."""
    problems = []
    for part in ("title", "detail", "remediation"):
        rendered = getattr(finding, part)
        if "{" in rendered:
            names = sorted(n for n in _placeholders(getattr(spec, part)) if f"{{{n}}}" in rendered)
            problems.append(f"{part} lacks {names}" if names else f"{part} shows '{{'")
    return problems


def test_every_emitted_finding_is_catalogued_and_fully_filled() -> None:
    run = fixture_run()
    specs = {spec.code: (cid, spec) for cid, cls in CHECKS.items() for spec in cls.catalogue}
    problems: list[str] = []
    emitted = 0
    for report in run.domains:
        for finding in report.findings:
            emitted += 1
            where = f"{report.domain} {finding.code}"
            if finding.code not in specs:
                problems.append(f"{where}: code in no check's catalogue")
                continue
            cid, spec = specs[finding.code]
            if finding.check is not cid:
                problems.append(f"{where}: emitted by {finding.check.value}, catalogued in {cid}")
            problems += [f"{where}: {p}" for p in _unfilled(finding, spec)]
    assert emitted >= 20, "the fixture zone should exercise many findings"
    assert not problems, "\n".join(problems)


def test_finding_titles_are_not_templates() -> None:
    # FindingSpec fills detail and remediation; the title is shown as written
    templated = [s.code for s in all_specs() if _placeholders(s.title)]
    assert not templated, f"finding titles with placeholders (never filled): {templated}"


def missing_values(source: str, where: str, package: str) -> list[str]:
    """Calls `F.SPEC(name=...)` of a catalogue module (`from ..findings import spf as F`)
    whose keywords leave a placeholder of the spec's detail or remediation unfilled. Calls
    passing `**values` or a shared-values mapping held in a variable cannot be read here; the
    fixture zone covers those it emits."""
    tree = ast.parse(source)
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if base == "mailauth_audit.findings":
                for alias in node.names:
                    modules[alias.asname or alias.name] = importlib.import_module(
                        f"{base}.{alias.name}"
                    )
    problems = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
        ):
            continue
        spec = getattr(modules[node.func.value.id], node.func.attr, None)
        if not isinstance(spec, FindingSpec) or any(k.arg is None for k in node.keywords):
            continue
        given = {k.arg for k in node.keywords}
        if node.args:  # the shared-values mapping: readable only when written as a literal
            shared = node.args[0]
            if not (
                len(node.args) == 1
                and isinstance(shared, ast.Dict)
                and all(
                    isinstance(k, ast.Constant) and isinstance(k.value, str) for k in shared.keys
                )
            ):
                continue
            given |= {k.value for k in shared.keys if isinstance(k, ast.Constant)}
        lacking = sorted((_placeholders(spec.detail) | _placeholders(spec.remediation)) - given)
        if lacking:
            problems.append(f"{where}:{node.lineno} {spec.code} lacks {lacking}")
    return problems


def test_every_emitting_call_supplies_the_templates_placeholders() -> None:
    package = Path(__file__).parents[2] / "mailauth_audit"
    problems = [
        problem
        for path in sorted(package.rglob("*.py"))
        for problem in missing_values(
            path.read_text(),
            str(path.relative_to(package.parent)),
            ".".join(path.relative_to(package.parent).parent.parts),
        )
    ]
    assert not problems, "\n".join(problems)


def test_the_call_reader_finds_a_missing_value() -> None:
    source = "from ..findings import spf as F\nF.LOOKUP_LIMIT_EXCEEDED(domain='x')\n"
    problems = missing_values(source, "example.py", "mailauth_audit.checks")
    assert problems and problems[0].startswith("example.py:2 spf.lookup_limit_exceeded lacks")


def test_rendered_reports_show_no_unfilled_placeholder() -> None:
    text = TextRenderer().render(fixture_run())
    templates = {
        name
        for cls in CHECKS.values()
        for spec in cls.catalogue
        for part in (spec.title, spec.detail, spec.remediation)
        for name in _placeholders(part)
    }
    left = sorted({m for m in re.findall(r"\{(\w+)\}", text) if m in templates})
    assert not left, f"placeholders left unfilled in the text report: {left}"


def test_the_domain_template_holds_no_per_check_branch() -> None:
    # a check's HTML lives in templates/checks/<id>.html, chosen by its id; _domain.html only
    # includes it, so adding a check never edits the page template
    branches = re.findall(r"CheckId\.\w+", _template("_domain.html"))
    assert not branches, (
        f"templates/_domain.html branches on {sorted(set(branches))}: move each block to "
        "templates/checks/<check id>.html"
    )


def test_every_check_block_names_a_registered_check() -> None:
    registered = {cid.value for cid in CHECKS}
    orphans = sorted(_check_blocks() - registered)
    assert not orphans, (
        f"templates/checks/ holds blocks for no registered check (a typo in the id?): "
        f"{[f'{o}.html' for o in orphans]}; registered: {sorted(registered)}"
    )


def test_a_check_without_its_own_block_shows_its_summary_through_the_generic_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given every check rendered as a newly added check would be (no block of its own)
    import mailauth_audit.report.html as html

    monkeypatch.setattr(html, "detail_template", lambda cid: GENERIC_DETAIL_TEMPLATE)
    run = fixture_run()
    page = render_run_page(run)
    # Then each check's section still shows what was found, one line, and its findings
    for view in domain_views(run.domains):
        for c in view.checks:
            if c.outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
                continue
            head = '<section class="card check" id="'
            start = page.index(f'{head}{view.anchor}-{c.check.value}"')
            section = page[start : page.find(head, start + 1)]  # to the next check's section
            summary = str(markupsafe.escape(html.printable(html.one_line(c))))
            assert f'<p class="summary-text">{summary}</p>' in section, (c.check, summary)
            for anchor, _ in c.findings:
                assert f'id="{anchor}"' in section


@pytest.mark.parametrize(("cid", "cls"), REGISTERED, ids=[c.value for c, _ in REGISTERED])
def test_check_lives_in_its_own_folder(cid: CheckId, cls: type[Check[Any]]) -> None:
    # adding a check is one folder (checks/<id>/) plus a registry line: the class and its
    # result type are found there, by the check's id
    home = f"mailauth_audit.checks.{cid.value}"
    for what, obj in (("class", cls), ("result type", cls.result_type)):
        module = obj.__module__
        assert module == home or module.startswith(home + "."), (
            f"{_name(cls)}: its {what} {obj.__name__} is defined in {module}; "
            f"put it in mailauth_audit/checks/{cid.value}/ (e.g. check.py, result.py)"
        )
