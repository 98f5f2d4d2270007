"""Line format 5: format 4 (`slim.py`) less what the reader derives from the rest of the line,
the catalogue and the checks themselves.

Why: a bulk run writes one line per domain, by the million, and most of a format-4 line was
findings whose every word follows from the facts beside them. What format 5 leaves out:

- the findings of a check whose `evaluate` reads only its facts, the domain and the
  outcomes of the checks it waits for (`Check.judges_facts_only`: MX, DMARC, DNSSEC, DANE,
  TLS-RPT, STARTTLS, MX identity). Such a check's findings are written as references, its
  code (or `[code, severity]` where the severity is not the catalogue's), which is what
  readers of the JSON (the bulk summary, the store's facts column) count; the reader judges
  the facts again, in the engine's order, and gets the findings back whole;
- in every other finding: the severity when it is the catalogue's; the names of its
  template values when they are the catalogue's, in its order (`params` becomes a list of
  values), and a value that is the line's domain (written 0) or the finding's evidence
  joined by "; " (1) or ", " (2) — params are strings, so a number is never a value;
- a skipped outcome that is what its check's `skipped_by_rule` gives from the outcomes it
  depends on (STARTTLS and MX identity when every MX address is refused by the default
  target rule): written `"skip_reason": 0`, its facts and reason derived on reading. Any
  other skipped outcome keeps its facts (format 4 dropped them);
- the checklist (the provider checklist is judged from the checks, as `score` is; the
  score stays: the bulk summary and the store read the grade without decoding).

A line reads back to the report it was written from (`codec.from_json(line) == report`) by
the version that wrote it: for a report as the engine judged it, the referenced findings
are what `evaluate` gives (a report whose findings were edited after judging is not one).
A newer version judges the referenced findings' facts with its own `evaluate`, as
re-judging saved facts does everywhere else.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from ..checks.dmarc.result import DmarcResult
from ..checks.spf.result import SpfResult
from ..model import CheckId, CheckOutcome, CheckStatus, Finding, sort_findings
from .decode import CodecError
from .line_rules import result_in, result_out
from .slim import slim_change, slim_value
from .slim_rules import dkim_out, spf_out
from .sparse import catalogue

__all__ = [
    "dense_line5",
    "finding_heads",
    "line_finding",
    "line_outcome",
    "rejudge",
]

_JUDGED = frozenset({CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL})
_SKIPPED, _SPF, _DKIM = CheckStatus.SKIPPED, CheckId.SPF, CheckId.DKIM
_TEXTS = ("check", "title", "detail", "remediation", "references")
_WRITTEN = frozenset({"code", "severity", "params", "evidence", "changes", *_TEXTS})
_OTHERS = tuple(
    (f.name, f.default)
    for f in dataclasses.fields(Finding)
    if f.name not in _WRITTEN and f.default is not dataclasses.MISSING
)
_IDS = {c.value: c for c in CheckId}
# findings within these bounds are what a check's evaluate makes whatever text limits the
# run had (findings/clip.py clips only beyond a limit; the limits' defaults are larger)
_SHORT, _FEW, _MARK = 1024, 2048, "…["
_ORDER = {c: i for i, c in enumerate(CheckId)}
_NOT_REQUESTED = "not requested"  # engine/auditor.py: a check outside the plan


@functools.cache
def _judges_facts_only(cid: CheckId) -> bool:
    from ..checks.registry import CHECKS  # the checks import the report layer's model users

    return bool(CHECKS[cid].judges_facts_only)


@functools.cache
def _skip_rule(cid: CheckId) -> Any:
    """The check's `skipped_by_rule` when it has one of its own, else None."""
    from ..checks.base import Check
    from ..checks.registry import CHECKS

    cls = CHECKS[cid]
    if cls.skipped_by_rule.__func__ is Check.skipped_by_rule.__func__:  # type: ignore[attr-defined]
        return None
    return cls.skipped_by_rule


# ---- writing ------------------------------------------------------------------------------


def _ref(f: Finding, specs: Mapping[str, Any]) -> Any:
    spec = specs.get(f.code)
    if spec is not None and spec.severity is f.severity:
        return f.code
    return [f.code, f.severity._value_]


def _as_judged(f: Finding, specs: Mapping[str, Any]) -> bool:
    """Whether `f` is a finding as `evaluate` makes it under any text limit: from the
    catalogue, every template value there (a clipped finding has none), no text longer than
    the shortest default limit, no clip marker in its evidence, no more evidence than the
    fewest a clip keeps."""
    spec = specs.get(f.code)
    if (
        spec is None
        or len(f.params) != len(spec.names)
        or len(f.detail) > _SHORT
        or len(f.remediation) > _SHORT
    ):
        return False
    evidence = f.evidence
    if not evidence:
        return True
    return (
        len(evidence) <= _FEW
        and max(map(len, evidence)) <= _SHORT
        and _MARK not in "\n".join(evidence)
    )


def _params(params: Any, spec: Any, evidence: tuple[str, ...], domain: str) -> Any:
    if spec is not None:
        names = spec.names
        if len(params) == len(names) and all(p[0] == n for p, n in zip(params, names, strict=True)):
            semi = comma = None
            # joined evidence only when some value could be it (it starts like it)
            if evidence and any(v.startswith(evidence[0]) for _, v in params):
                semi, comma = "; ".join(evidence), ", ".join(evidence)
            return [
                0 if v == domain else 1 if v == semi else 2 if v == comma else v for _, v in params
            ]
    return dict(params)


def line_finding(f: Finding, record: str | None, domain: str) -> dict[str, Any]:
    """A finding that is written out (its check is not re-judged on read)."""
    d = f.__dict__
    code = d["code"]
    spec = catalogue().get(code)
    out: dict[str, Any] = {"code": code}
    if spec is None or d["severity"] is not spec.severity:
        out["severity"] = d["severity"]._value_
    params, evidence = d["params"], d["evidence"]
    if params:
        out["params"] = _params(params, spec, evidence, domain)
    if evidence:
        out["evidence"] = evidence
    texts: tuple[str, ...] = _TEXTS
    if (
        spec is not None
        and spec.check == d["check"]
        and spec.title == d["title"]
        and spec.references == d["references"]
    ):
        if params or (d["detail"] == spec.detail and d["remediation"] == spec.remediation):
            texts = ()  # they follow from code and params
        else:
            texts = ("detail", "remediation")
    for name in texts:
        out[name] = d[name]
    if d["changes"]:
        out["changes"] = [slim_change(c, code, record) for c in d["changes"]]
    for name, default in _OTHERS:
        if d[name] != default:
            out[name] = d[name]
    return out


def line_outcome(
    status: CheckStatus,
    outcome: CheckOutcome,
    domain: str,
    checks: Mapping[CheckId, CheckOutcome],
) -> dict[str, Any]:
    """One check's outcome in a format-5 line of `domain` (`checks`: the report's)."""
    out: dict[str, Any] = {"status": status._value_}
    result, reason = outcome.result, outcome.skip_reason
    if status is _SKIPPED and reason and result is not None:
        rule = _skip_rule(outcome.check)
        if rule is not None and rule(domain, checks) == (result, reason):
            out["skip_reason"] = 0  # a skip reason is a string: 0 says "the rule's"
            return out
    if result is not None:
        out["result"] = slim = slim_value(result)
        check = outcome.check
        if check is _SPF and type(slim) is dict:
            spf_out(result, slim)
        elif check is _DKIM and type(slim) is dict:
            dkim_out(result, slim, domain)
        if type(slim) is dict:
            result_out(check, result, slim, domain)
    findings = outcome.findings
    if findings:
        specs = catalogue()
        if (
            result is not None
            and status in _JUDGED
            and _judges_facts_only(outcome.check)
            and all(_as_judged(f, specs) for f in findings)
        ):
            out["findings"] = [_ref(f, specs) for f in findings]
        else:
            # the record a finding's evidence may quote (SPF's, DMARC's: the results whose
            # record is text)
            record = result.record if isinstance(result, (SpfResult, DmarcResult)) else None
            out["findings"] = [line_finding(f, record, domain) for f in findings]
    if outcome.error is not None:
        out["error"] = slim_value(outcome.error)
    if reason:
        out["skip_reason"] = reason
    return out


# ---- reading ------------------------------------------------------------------------------


def _param(value: Any, domain: Any, evidence: Any) -> Any:
    if type(value) is str:
        return value
    if type(evidence) is not list or not all(type(e) is str for e in evidence):
        evidence = []
    if value == 0 and type(value) is int:
        return domain
    if value == 1 and type(value) is int:
        return "; ".join(evidence)
    if value == 2 and type(value) is int:
        return ", ".join(evidence)
    raise CodecError(f"finding param {value!r}: expected a string, 0, 1 or 2")


def _dense_finding(doc: Any, domain: Any) -> Any:
    if type(doc) is not dict:
        return doc
    code = doc.get("code")
    spec = catalogue().get(code) if type(code) is str else None
    out = dict(doc)
    if "severity" not in out and spec is not None:
        out["severity"] = spec.severity.value
    params = out.get("params")
    if type(params) is list:
        if spec is None or len(params) != len(spec.names):
            raise CodecError(f"finding {code!r}: params do not match the catalogue's names")
        evidence = out.get("evidence")
        out["params"] = {
            n: _param(v, domain, evidence) for n, v in zip(spec.names, params, strict=True)
        }
    return out


def _is_ref(entry: Any) -> bool:
    if type(entry) is str:
        return True
    return type(entry) is list and len(entry) == 2 and all(type(v) is str for v in entry)


def dense_line5(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any] | None]]:
    """A format-5 line as a format-4 one, and what the reader derives once the outcomes are
    typed (`rejudge`): by check id, the references of the findings it judges again, or
    None for a skip reason it derives."""
    checks = doc.get("checks")
    if type(checks) is not dict:
        return doc, {}
    domain = str(doc.get("domain"))  # a line without one fails in the codec
    dense: dict[str, Any] = {}
    pending: dict[str, list[Any] | None] = {}
    for key, outcome in checks.items():
        if type(outcome) is dict and "result" in outcome and key in _IDS:
            outcome = {**outcome, "result": result_in(_IDS[key], outcome["result"], domain)}
        if type(outcome) is dict and type(outcome.get("skip_reason")) is int:
            pending[key] = None
            outcome = {k: v for k, v in outcome.items() if k != "skip_reason"}
        findings = outcome.get("findings") if type(outcome) is dict else None
        if type(findings) is list and findings:
            if all(_is_ref(f) for f in findings):
                pending[key] = findings
                outcome = {k: v for k, v in outcome.items() if k != "findings"}
            else:
                outcome = {**outcome, "findings": [_dense_finding(f, domain) for f in findings]}
        dense[key] = outcome
    return {**doc, "checks": dense}, pending


@functools.cache
def _check(cid: CheckId) -> Any:
    from ..checks.registry import CHECKS

    return CHECKS[cid]()


@functools.cache
def _waits_for(cid: CheckId) -> tuple[CheckId, ...]:
    """The checks whose outcomes `evaluate` of `cid` is shown (the engine's `edges`)."""
    from ..checks.registry import CHECKS

    cls = CHECKS[cid]
    return tuple(dict.fromkeys((*cls.depends_on, *cls.evaluate_after)))


def _judging_order(todo: set[CheckId]) -> list[CheckId]:
    """`todo` with each check after the checks of `todo` it waits for (the registry holds
    no cycle: `checks/dependencies.py` refuses one at import)."""
    ordered: list[CheckId] = []

    def visit(cid: CheckId) -> None:
        if cid in ordered:
            return
        for dep in _waits_for(cid):
            if dep in todo:
                visit(dep)
        ordered.append(cid)

    for cid in sorted(todo, key=_ORDER.__getitem__):
        visit(cid)
    return ordered


def rejudge(
    domain: str, checks: dict[CheckId, CheckOutcome], pending: Mapping[str, list[Any] | None]
) -> dict[CheckId, CheckOutcome]:
    """`checks` with what `dense_line5` found derived put back: the findings of the outcomes
    named in `pending` judged again from their facts, in the order the engine judged them,
    each seeing the outcomes it waits for; the skip reasons each check derives."""
    from ..checks.base import EvaluationContext

    out = dict(checks)
    for cid in _judging_order({CheckId(k) for k in pending}):
        outcome = out[cid]
        if pending[cid.value] is None:
            rule = _skip_rule(cid)
            skipped = None if rule is None else rule(domain, out)
            if skipped is None or outcome.status is not _SKIPPED or outcome.result is not None:
                raise CodecError(f"checks.{cid.value}: no skipped outcome to derive")
            out[cid] = dataclasses.replace(outcome, result=skipped[0], skip_reason=skipped[1])
            continue
        if not _judges_facts_only(cid) or outcome.result is None:
            raise CodecError(f"checks.{cid.value}: findings by reference, but no facts to judge")
        seen = {
            d: out[d]
            for d in _waits_for(cid)
            if d in out and not (out[d].status is _SKIPPED and out[d].skip_reason == _NOT_REQUESTED)
        }
        ctx = EvaluationContext(domain=domain, outcomes=seen)
        try:
            findings = sort_findings(_check(cid).evaluate(outcome.result, ctx))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, AssertionError) as exc:
            # facts of the right types but not of sense (a damaged date, a hand-edited file)
            raise CodecError(f"checks.{cid.value}: the facts cannot be judged: {exc}") from None
        out[cid] = dataclasses.replace(outcome, findings=findings)
    return out


def finding_heads(entries: Any) -> list[dict[str, Any]]:
    """The findings of an outcome in a line of any format, each with at least its code and
    severity (what the bulk summary and the store's facts column count)."""
    if type(entries) is not list:
        return []
    specs = catalogue()
    out: list[dict[str, Any]] = []
    for f in entries:
        if type(f) is str:
            spec = specs.get(f)
            out.append({"code": f, "severity": spec.severity.value if spec else None})
        elif _is_ref(f):
            out.append({"code": f[0], "severity": f[1]})
        elif type(f) is dict:
            if "severity" not in f:
                spec = specs.get(str(f.get("code")))
                f = {**f, "severity": spec.severity.value if spec else None}
            out.append(f)
    return out
