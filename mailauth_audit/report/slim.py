"""The slim form of a results line (line format 4), written straight from the typed report.

Why: a bulk run writes one line per domain, by the million. Most of a check's result is at
its empty value (no syntax error, no lookups failed, no notes), and a record proposed by a
finding repeats the record the result already holds. The slim form leaves out what a
reader can put back from the model's own type hints, so a line still decodes
(`codec.from_json`) to the typed report:

- a dataclass field (results, record changes, the score) whose value is its declared
  default, or, without one, the empty value of its type: null for an optional field, [] for
  a sequence, {} for a mapping, false, 0, 0.0 or "" (`fill` puts them back);
- a record change's `fixes` when it is only the finding's own code, its `placeholders` when
  they are the `<...>` tokens of `proposed` in order, and the `current` value of a replace
  or remove when it is the check result's `record` (an add has none);
- a skipped check's result: the line gives its status and reason only (what the check saw
  before it stopped is in `check --format json`);
- in an SPF result, the copies of its record and the include tree's arithmetic, by the rules
  in `slim_rules.py`; in a DKIM result, the key and name each selector repeats.

The line is built by walking the report once (`slim_value`), not by building the full
document and stripping it: per dataclass a precomputed list of (field, empty value).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from ..changes import ChangeAction, RecordChange
from ..model import CheckId, CheckStatus, Finding
from .slim_rules import dkim_in, dkim_out, spf_in, spf_out
from .sparse import sparse_finding

__all__ = ["dense_line", "fill", "slim_change", "slim_finding", "slim_outcome", "slim_value"]

_NO_EMPTY = object()  # a field that is always written (no default and no empty value)
_PLAIN = frozenset({str, int, float, bool, type(None)})
_PLACEHOLDER = re.compile(r"<[^<>]+>")
_TYPE_EMPTY: dict[Any, Any] = {str: "", int: 0, float: 0.0, bool: False}
_ADD, _SKIPPED, _SPF, _DKIM = ChangeAction.ADD, CheckStatus.SKIPPED, CheckId.SPF, CheckId.DKIM
# per class: its generated encoder (None: not a dataclass)
_ENCODERS: dict[type, Callable[[Any], dict[str, Any]] | None] = {}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_empty(tp: Any) -> Any:
    """The empty value of a type hint (what an absent field means when it has no default),
    or _NO_EMPTY when the type has none (an enum, a dataclass, a fixed-length tuple)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return None if type(None) in args else _NO_EMPTY
    if tp in _TYPE_EMPTY:
        return _TYPE_EMPTY[tp]
    if tp is tuple or (origin is tuple and (not args or (len(args) == 2 and args[1] is ...))):
        return ()
    if tp in (dict, Mapping) or origin in (dict, Mapping):
        return {}
    return _NO_EMPTY


def _needs_walk(tp: Any) -> bool:
    """Whether a field's values hold something orjson would not write as the slim form
    wants: a dataclass (its empty fields), bytes (base64), a set or a mapping."""
    if tp in _PLAIN or tp is str:
        return False
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return False
        return dataclasses.is_dataclass(tp) or issubclass(tp, (bytes, set, frozenset, Mapping))
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return False
    if origin in (dict, Mapping, set, frozenset):
        return True
    if args:
        return any(a is not Ellipsis and _needs_walk(a) for a in args)
    return True  # Any, object, a type variable: look at the value


def _condition(i: int, empty: Any) -> str | None:
    """The test, in generated code, that field value `v` is not `empty` (None: always)."""
    if empty is _NO_EMPTY:
        return None
    if empty is None or type(empty) is bool:
        return f"v is not {empty!r}"
    if type(empty) in (str, int, float, tuple, dict) and not empty:
        return f"v or type(v) is not {type(empty).__name__}"
    return f"v != E{i} or type(v) is not T{i}"


def _is_enum(tp: Any) -> bool:
    """An enum, or an optional one (the generated test has ruled None out by then)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(rest) == 1 and _is_enum(rest[0])
    return isinstance(tp, type) and issubclass(tp, Enum)


def _compile(cls: type) -> Callable[[Any], dict[str, Any]] | None:
    """An encoder for one dataclass, generated once (as `dataclasses` does for __init__): a
    straight run of field tests, several times cheaper than a loop over (name, empty)."""
    if not dataclasses.is_dataclass(cls):
        return None
    hints = _hints(cls)
    names: dict[str, Any] = {"W": slim_value, "P": _PLAIN}
    body = ["def encode(obj):", "    out = {}"]
    for i, f in enumerate(dataclasses.fields(cls)):
        if f.default is not dataclasses.MISSING:
            empty = f.default
        elif f.default_factory is not dataclasses.MISSING:
            empty = f.default_factory()
        else:
            empty = _type_empty(hints[f.name])
        names[f"E{i}"], names[f"T{i}"] = empty, type(empty)
        hint = hints[f.name]
        if _needs_walk(hint):
            value = "W(v) if type(v) not in P else v"
        elif _is_enum(hint):
            value = "v._value_"  # what orjson would write, without its per-member lookup
        else:
            value = "v"
        body.append(f"    v = obj.{f.name}")
        condition = _condition(i, empty)
        if condition is None:
            body.append(f"    out[{f.name!r}] = {value}")
        else:
            body.append(f"    if {condition}:")
            body.append(f"        out[{f.name!r}] = {value}")
    body.append("    return out")
    exec("\n".join(body), names)  # the source is built from the field names only
    encode: Callable[[Any], dict[str, Any]] = names["encode"]
    return encode


def slim_value(value: Any) -> Any:
    """A model value in the slim form: dataclasses as objects without their empty fields;
    enums, tuples, strings and numbers left for orjson to write."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    try:
        encode = _ENCODERS[cls]
    except KeyError:
        encode = _ENCODERS[cls] = _compile(cls)
    if encode is not None:
        return encode(value)
    if cls is tuple or cls is list:
        return [v if type(v) in _PLAIN else slim_value(v) for v in value]
    if isinstance(value, Enum):
        return value
    if isinstance(value, Mapping):
        return {str(slim_value(k)): slim_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [slim_value(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value  # a datetime: orjson writes it as codec.encode_value does


def slim_change(change: RecordChange, code: str, record: str | None) -> dict[str, Any]:
    """A record change of finding `code` without what follows from it (module docstring)."""
    d = change.__dict__
    action, current, proposed = d["action"], d["current"], d["proposed"]
    out: dict[str, Any] = {
        "action": action._value_,
        "name": d["name"],
        "rtype": d["rtype"],
        "ttl": d["ttl"],
    }
    if current != (None if action is _ADD else record):
        out["current"] = current
    if proposed is not None:
        out["proposed"] = proposed
        placeholders = tuple(_PLACEHOLDER.findall(proposed)) if "<" in proposed else ()
    else:
        placeholders = ()
    if d["placeholders"] != placeholders:
        out["placeholders"] = d["placeholders"]
    fixes = d["fixes"]
    if len(fixes) != 1 or fixes[0] != code:
        out["fixes"] = fixes
    return out


def slim_finding(finding: Finding, record: str | None) -> dict[str, Any]:
    """A finding as format 3 writes it (`sparse_finding`), its changes in the slim form."""
    out = sparse_finding(finding)
    if "changes" in out:
        code = finding.code
        out["changes"] = [slim_change(c, code, record) for c in finding.changes]
    return out


def slim_outcome(status: CheckStatus, outcome: Any, domain: str) -> dict[str, Any]:
    """One check's outcome in a format-4 line of `domain` (`status` given: the caller has it
    at hand)."""
    out: dict[str, Any] = {"status": status._value_}
    result = outcome.result
    if result is not None and status is not _SKIPPED:
        out["result"] = slim = slim_value(result)
        check = outcome.check
        if check is _SPF and type(slim) is dict:
            spf_out(result, slim)
        elif check is _DKIM and type(slim) is dict:
            dkim_out(result, slim, domain)
    if outcome.findings:
        record = getattr(result, "record", None)
        if type(record) is not str:
            record = None
        out["findings"] = [slim_finding(f, record) for f in outcome.findings]
    if outcome.error is not None:
        out["error"] = slim_value(outcome.error)
    if outcome.skip_reason:
        out["skip_reason"] = outcome.skip_reason
    return out


# ---- reading ------------------------------------------------------------------------------


def _keep(data: Any) -> Any:
    return data


@functools.cache
def _filler(tp: Any) -> Callable[[Any], Any] | None:
    """A function putting back the empty fields the slim form left out of values of type
    `tp` (plain JSON in, plain JSON out), or None when there is nothing to put back."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_filler(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        subs = [s for s in (_filler(a) for a in args if a is not type(None)) if s is not None]
        if len(subs) != 1:
            return None  # no union of two dataclasses in the model; plain values need none
        sub = subs[0]
        return lambda data: data if data is None else sub(data)
    if origin in (tuple, list, frozenset, set) and args:
        item = _filler(args[0])
        if item is None or (origin is tuple and not (len(args) == 2 and args[1] is ...)):
            return None
        return lambda data: [item(v) for v in data] if type(data) is list else data
    if origin in (dict, Mapping) and len(args) == 2:
        value = _filler(args[1])
        if value is None:
            return None
        return lambda data: {k: value(v) for k, v in data.items()} if type(data) is dict else data
    return None


def _json_empty(empty: Any) -> Any:
    if type(empty) is tuple:
        return []
    return {} if isinstance(empty, Mapping) else empty


def _dataclass_filler(cls: type) -> Callable[[Any], Any]:
    hints = _hints(cls)
    # (name, empty in JSON or _NO_EMPTY when absent means its declared default, sub-filler)
    rows: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for f in dataclasses.fields(cls):
        declared = f.default is not dataclasses.MISSING
        declared = declared or f.default_factory is not dataclasses.MISSING
        empty = _NO_EMPTY if declared else _type_empty(hints[f.name])
        rows.append((f.name, empty, None))
    filled: list[tuple[str, Any, Callable[[Any], Any] | None]] = []

    def fill_object(data: Any) -> Any:
        if type(data) is not dict:
            return data  # the codec says what is wrong with it
        if not filled:  # looked up on first use: an SPF node holds SPF nodes
            filled.extend((n, e, _filler(hints[n])) for n, e, _ in rows)
        out = dict(data)
        for name, empty, sub in filled:
            if name in out:
                if sub is not None:
                    out[name] = sub(out[name])
            elif empty is not _NO_EMPTY:
                out[name] = _json_empty(empty)
        return out

    return fill_object


def fill(tp: Any, data: Any) -> Any:
    """`data` (a slim value of type `tp`, plain JSON) with its left-out empty fields put back."""
    sub = _filler(tp)
    return data if sub is None else sub(data)


@functools.cache
def _result_type(cid: CheckId) -> Any:
    from ..checks.registry import CHECKS  # the checks import the report layer's model users

    return CHECKS[cid].result_type


def _dense_change(doc: Any, code: Any, record: Any) -> Any:
    if type(doc) is not dict:
        return doc
    out = dict(doc)
    if "current" not in out:
        out["current"] = None if out.get("action") == ChangeAction.ADD.value else record
    if "placeholders" not in out:
        proposed = out.get("proposed")
        out["placeholders"] = _PLACEHOLDER.findall(proposed) if type(proposed) is str else []
    if "fixes" not in out:
        out["fixes"] = [code]
    return out


def _dense_outcome(cid: CheckId, doc: Any, domain: str) -> Any:
    if type(doc) is not dict:
        return doc
    out = dict(doc)
    result = out.get("result")
    if result is not None:
        if cid is CheckId.SPF:
            result = spf_in(result)
        elif cid is CheckId.DKIM:
            result = dkim_in(result, domain)
        out["result"] = result = fill(_result_type(cid), result)
    if type(out.get("error")) is dict:
        from ..model import CheckError

        out["error"] = fill(CheckError, out["error"])
    findings = out.get("findings")
    if type(findings) is list:
        record = result.get("record") if type(result) is dict else None
        record = record if type(record) is str else None
        dense = []
        for f in findings:
            if type(f) is dict and type(f.get("changes")) is list:
                code = f.get("code")
                f = {**f, "changes": [_dense_change(c, code, record) for c in f["changes"]]}
            dense.append(f)
        out["findings"] = dense
    return out


def dense_line(doc: dict[str, Any]) -> dict[str, Any]:
    """A format-4 line with what the slim form left out put back (its findings stay in the
    sparse form of format 3, which `sparse.dense_report` expands)."""
    checks = doc.get("checks")
    if type(checks) is not dict:
        return doc
    dense: dict[str, Any] = {}
    domain = str(doc.get("domain"))
    for key, outcome in checks.items():
        try:
            cid = CheckId(key)
        except ValueError:
            dense[key] = outcome  # the codec reports the unknown check
            continue
        dense[key] = _dense_outcome(cid, outcome, domain)
    out = {**doc, "checks": dense}
    if type(doc.get("resolver_notes")) is list:
        from ..model import DomainReport

        out["resolver_notes"] = fill(_hints(DomainReport)["resolver_notes"], doc["resolver_notes"])
    return out
