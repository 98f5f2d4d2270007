"""The sparse form of a report's values, for lines that are stored by the million.

Why: a bulk results line written as `check --format json`'s object is mostly what every
reader knows already: nulls, empty lists and `false` in every result, a record repeated as the
one element of the list of records found, and each finding's three English sentences. The
sparse form leaves out what follows from the model's type hints and the findings catalogue,
and `dense` puts it back, so a sparse document decodes (`codec.from_json`) to the same report.

The rules, each decided by the declared type of a field (never by the value alone, so that
leaving a key out is never ambiguous):

- a field whose value is the zero of its type is left out: `None` for an optional type, and,
  for a type that is not optional, `false`, `0`, `""` and empty lists or objects;
- a field named in `ECHOES` (a list of records found) is left out when it holds just the
  dataclass's `record` (or nothing, when `record` is null);
- a finding is written as `code`, `severity`, its template values `params` (an object) and its
  non-empty fields beyond the catalogue's; `check`, `title`, `detail`, `remediation` and
  `references` only where they are not the catalogue's (a clipped text, an older report).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from ..findings.base import FindingSpec
from ..model import Finding
from .codec import CodecError, _hints

__all__ = [
    "ECHOES",
    "dense",
    "dense_finding",
    "dense_report",
    "sparse_default",
    "sparse_finding",
]

# field -> the field whose one value it repeats in the usual case
ECHOES = {"records_found": "record", "record_strings": "record", "records": "record"}

_NEVER, _NONE, _FALSY = 0, 1, 2  # when a value may be left out: never, when None, when falsy
_SEQUENCES = (tuple, list, set, frozenset)
_FINDING_TEXTS = ("check", "title", "detail", "remediation", "references")


@functools.cache
def catalogue() -> dict[str, FindingSpec]:
    from .. import findings

    return {spec.code: spec for spec in findings.all_specs()}


def _kind(tp: Any) -> int:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _NONE if type(None) in typing.get_args(tp) else _NEVER
    if tp in (bool, int, float, str):
        return _FALSY
    if origin in _SEQUENCES:
        args = typing.get_args(tp)
        fixed = origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis)
        return _NEVER if fixed else _FALSY
    if origin is dict or (origin is not None and getattr(origin, "__name__", "") == "Mapping"):
        return _FALSY
    return _NEVER


def _zero(tp: Any) -> Any:
    if _kind(tp) == _NONE:
        return None
    if tp in (bool, int, float, str):
        return tp()
    origin = typing.get_origin(tp)
    return [] if origin in _SEQUENCES else {}


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, int, str | None], ...]:
    """(field, when it may be left out, the field it echoes) for each field of `cls`."""
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    plan = []
    for name in names:
        kind = _kind(hints[name])
        echoes = kind == _FALSY and ECHOES.get(name) in names
        plan.append((name, kind, ECHOES[name] if echoes else None))
    return tuple(plan)


# dataclass -> (fields left out when None, when falsy, whether one echoes another), for the
# writer: a plain dict lookup per value written
_WRITERS: dict[type, tuple[frozenset[str] | None, frozenset[str], bool]] = {}
_NAMES: dict[type, tuple[str, ...]] = {}

# ---- writing -----------------------------------------------------------------------------


def sparse_finding(f: Finding) -> dict[str, Any]:
    spec = catalogue().get(f.code)
    out: dict[str, Any] = {"code": f.code, "severity": f.severity}
    if f.params:
        out["params"] = dict(f.params)
    if f.evidence:
        out["evidence"] = f.evidence
    known = spec is not None and spec.check == f.check and spec.title == f.title
    if known and spec is not None and spec.references == f.references:
        if f.params or (f.detail == spec.detail and f.remediation == spec.remediation):
            texts: tuple[str, ...] = ()  # they follow from code and params
        else:
            texts = ("detail", "remediation")
    else:
        texts = _FINDING_TEXTS
    for name in texts:
        out[name] = getattr(f, name)
    for name, kind, _ in _plan(Finding):
        if name not in out and name not in _FINDING_TEXTS and name != "params":
            value = getattr(f, name)
            if kind == _NEVER or (value if kind == _FALSY else value is not None):
                out[name] = value
    return out


def sparse_default(obj: Any) -> Any:
    """orjson's `default` with OPT_PASSTHROUGH_DATACLASS: each dataclass as its sparse dict
    (orjson then writes the values, calling this again for the dataclasses inside)."""
    cls = type(obj)
    if cls is Finding:
        return sparse_finding(obj)
    try:
        nullable, falsy, echoes = _WRITERS[cls]
    except KeyError:
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"cannot serialise {cls.__name__}") from None
        nullable, falsy, echoes = _WRITERS[cls] = _writer(cls)
    if echoes or nullable is None:
        return _sparse_slow(obj, _plan(cls))  # type: ignore[arg-type]
    d = obj.__dict__
    try:
        return {
            k: v
            for k in _NAMES[cls]
            if not (((v := d[k]) is None and k in nullable) or (not v and k in falsy))
        }
    except KeyError:  # a field not in the instance dict
        return _sparse_slow(obj, _plan(cls))  # type: ignore[arg-type]


def _writer(cls: Any) -> tuple[frozenset[str] | None, frozenset[str], bool]:
    """The fields of `cls` left out when None, those left out when falsy, and whether any
    field echoes another (None for the first when instances have no __dict__)."""
    plan = _plan(cls)
    _NAMES[cls] = tuple(name for name, _, _ in plan)
    nullable = frozenset(name for name, kind, _ in plan if kind == _NONE)
    falsy = frozenset(name for name, kind, _ in plan if kind == _FALSY)
    has_dict = "__slots__" not in cls.__dict__
    return (nullable if has_dict else None), falsy, any(echo for _, _, echo in plan)


def _sparse_slow(obj: Any, plan: tuple[tuple[str, int, str | None], ...]) -> dict[str, Any]:
    out = {}
    for name, kind, echo in plan:
        value = getattr(obj, name)
        if echo is not None:
            record = getattr(obj, echo)
            if (len(value) == 1 and value[0] == record) if record is not None else not value:
                continue
        elif kind == _NONE:
            if value is None:
                continue
        elif kind == _FALSY and not value:
            continue
        out[name] = value
    return out


# ---- reading -----------------------------------------------------------------------------


def dense_finding(doc: Any) -> Any:
    """A sparse finding as the full finding object (`check --format json`'s)."""
    if type(doc) is not dict:
        return doc
    params = doc.get("params") or {}
    if type(params) is not dict or not all(type(v) is str for v in params.values()):
        raise CodecError(f"finding {doc.get('code')!r}: params must map names to strings")
    spec = catalogue().get(doc.get("code"))  # type: ignore[arg-type]
    base: dict[str, Any] = {}
    if spec is not None:
        base = {
            "check": spec.check.value,
            "title": spec.title,
            "references": list(spec.references),
        }
        if "detail" not in doc:
            base["detail"], base["remediation"] = spec.texts(params)
    elif not all(name in doc for name in _FINDING_TEXTS):
        raise CodecError(f"finding {doc.get('code')!r}: not in the catalogue, texts missing")
    return {**base, **doc, "params": [[k, v] for k, v in params.items()]}


def dense_report(doc: dict[str, Any]) -> dict[str, Any]:
    """A sparse report document (a results line of format 3) as the full one."""
    from ..checks.registry import CHECKS  # the checks import the report layer's model users
    from ..model import CheckId, CheckOutcome, DomainReport

    hints = _hints(DomainReport)
    out = {k: v if k not in hints else _dense(hints[k])(v) for k, v in doc.items()}
    checks = doc.get("checks")
    if type(checks) is dict:
        outcome_hints = _hints(CheckOutcome)
        dense_checks = {}
        for cid, outcome in checks.items():
            if type(outcome) is dict and cid in CheckId._value2member_map_:
                outcome = dict(outcome)
                result = outcome.get("result")
                if result is not None:
                    outcome["result"] = _dense(CHECKS[CheckId(cid)].result_type)(result)
                outcome["findings"] = _dense(tuple[Finding, ...])(outcome.get("findings", []))
                if outcome.get("error") is not None:
                    outcome["error"] = _dense(outcome_hints["error"])(outcome["error"])
            dense_checks[cid] = outcome
        out["checks"] = dense_checks
    return out


def dense(tp: Any, data: Any) -> Any:
    """`data`, a value of type `tp` in the sparse form, with what was left out put back."""
    return _dense(tp)(data)


@functools.cache
def _dense(tp: Any) -> Callable[[Any], Any]:
    if tp is Finding:
        return _dense_dataclass_of(Finding, first=dense_finding)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        shaped = [a for a in arms if _shaped(a)]
        return _dense(shaped[0]) if len(shaped) == 1 else _same
    if origin in _SEQUENCES and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _same
        item = _dense(args[0])
        return _same if item is _same else functools.partial(_each, item)
    if origin is dict or (origin is not None and getattr(origin, "__name__", "") == "Mapping"):
        value = _dense(args[1]) if args else _same
        return _same if value is _same else functools.partial(_values, value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dense_dataclass_of(tp)
    return _same


def _shaped(tp: Any) -> bool:
    """Whether values of `tp` may hold a sparse dataclass."""
    origin = typing.get_origin(tp)
    if origin is not None:
        return any(_shaped(a) for a in typing.get_args(tp) if a is not Ellipsis)
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _same(data: Any) -> Any:
    return data


def _each(item: Callable[[Any], Any], data: Any) -> Any:
    return [item(v) for v in data] if type(data) is list else data


def _values(value: Callable[[Any], Any], data: Any) -> Any:
    return {k: value(v) for k, v in data.items()} if type(data) is dict else data


def _dense_dataclass_of(
    cls: type, first: Callable[[Any], Any] | None = None
) -> Callable[[Any], Any]:
    def decode(data: Any) -> Any:
        if first is not None:
            data = first(data)
        if type(data) is not dict:
            return data
        hints = _hints(cls)
        out = {}
        for name, kind, echo in _plan(cls):
            if name in data:
                out[name] = _dense(hints[name])(data[name])
            elif echo is not None:
                record = data.get(echo)
                out[name] = [] if record is None else [record]
            elif kind != _NEVER:
                out[name] = _zero(hints[name])
        return out

    return decode
