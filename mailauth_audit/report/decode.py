"""Decoding half of the report codec (`codec.py`): a JSON document back to the typed
`DomainReport` it was encoded from, driven by the dataclasses' type hints.

The same hints build the JSON Schema (`schema.py`), so a field the schema describes is a
field this decoder reads. `codec.py` re-exports every public name here: callers import the
codec from one module.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from ..model import CheckId, CheckOutcome, DomainReport, Finding

__all__ = ["DERIVED_KEYS", "FORMAT_KEY", "CodecError", "decode_value", "from_json"]

# keys of a report document computed from the rest: ignored when decoding
DERIVED_KEYS = frozenset({"findings", "score", "checklist"})
# what a stored line may say about its own format (bulk/jsonl.py LINE_FORMAT)
FORMAT_KEY = "line_format"
_REPORT_KEYS = (
    frozenset(f.name for f in dataclasses.fields(DomainReport)) | DERIVED_KEYS | {FORMAT_KEY}
)
_OUTCOME_KEYS = ("status", "result", "findings", "error", "skip_reason")


def keep(value: Any) -> Any:
    """A value that is already plain JSON, as it is (both directions of the codec)."""
    return value


_keep = keep


class CodecError(ValueError):
    """A document does not have the shape the model's type hints describe."""


# ---- decoding ----------------------------------------------------------------------------


def decode_value(tp: Any, data: Any) -> Any:
    """`data` (plain JSON values) as a value of type `tp`; CodecError when it does not fit."""
    return _decoder(tp)(data)


def _fail(tp: Any, data: Any) -> CodecError:
    shown = repr(data)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return CodecError(f"expected {getattr(tp, '__name__', tp)}, got {shown}")


@functools.cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A decoding function per type hint, built once (the types are few and fixed)."""
    if tp is Any or tp is object:
        return _keep
    if tp is type(None):
        return _expect_none
    if tp is bool:
        return _scalar(bool, lambda d: type(d) is bool)
    if tp is int:
        return _scalar(int, lambda d: type(d) is int)
    if tp is float:
        return _scalar(float, lambda d: type(d) in (int, float))
    if tp is str:
        return _scalar(str, lambda d: type(d) is str)
    if tp is bytes:
        return _bytes
    if tp is datetime:
        return _datetime
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _union(tp, tuple(_decoder(a) for a in args), type(None) in args)
    if origin is typing.Literal:
        return _literal(tp, args)
    if origin in (tuple, list, frozenset, set):
        return _sequence(tp, origin, args)
    if origin in (dict, Mapping) or (origin is not None and origin.__name__ == "Mapping"):
        return _mapping(tp, _key_decoder(args[0]), _decoder(args[1]))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _enum(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"no JSON decoder for type {tp!r}")


def _bytes(data: Any) -> bytes:
    if type(data) is not str:
        raise _fail(bytes, data)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(bytes, data) from None


def _datetime(data: Any) -> datetime:
    if type(data) is not str:
        raise _fail(datetime, data)
    try:
        return datetime.fromisoformat(data)
    except ValueError:
        raise _fail(datetime, data) from None


def _expect_none(data: Any) -> None:
    if data is not None:
        raise _fail(None, data)


def _scalar(tp: type, ok: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def decode(data: Any) -> Any:
        if not ok(data):
            raise _fail(tp, data)
        return data

    return decode


def _union(tp: Any, options: tuple[Callable[[Any], Any], ...], optional: bool) -> Any:
    def decode(data: Any) -> Any:
        if data is None and optional:
            return None
        for option in options:
            try:
                return option(data)
            except CodecError:
                continue
        raise _fail(tp, data)

    return decode


def _literal(tp: Any, values: tuple[Any, ...]) -> Callable[[Any], Any]:
    def decode(data: Any) -> Any:
        if data not in values:
            raise _fail(tp, data)
        return data

    return decode


def _sequence(tp: Any, origin: Any, args: tuple[Any, ...]) -> Callable[[Any], Any]:
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        items = tuple(_decoder(a) for a in args)

        def fixed(data: Any) -> Any:
            if type(data) is not list or len(data) != len(items):
                raise _fail(tp, data)
            return tuple(d(v) for d, v in zip(items, data, strict=True))

        return fixed
    item = _decoder(args[0]) if args else _keep
    build: Callable[[Any], Any] = list if origin is list else origin

    def decode(data: Any) -> Any:
        if type(data) is not list:
            raise _fail(tp, data)
        return build(item(v) for v in data)

    return decode


def _key_decoder(tp: Any) -> Callable[[str], Any]:
    if tp is str:
        return _keep
    if tp is int:
        return int
    return _decoder(tp)  # an enum keyed by its (string) value


def _mapping(
    tp: Any, key: Callable[[str], Any], value: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise _fail(tp, data)
        return {key(k): value(v) for k, v in data.items()}

    return decode


def _enum(tp: type[Enum]) -> Callable[[Any], Any]:
    def decode(data: Any) -> Any:
        try:
            return tp(data)
        except ValueError:
            raise _fail(tp, data) from None

    return decode


def _dataclass(cls: type) -> Callable[[Any], Any]:
    hints = _hints(cls)
    spec = [(f.name, hints[f.name], _has_default(f)) for f in dataclasses.fields(cls)]
    known = frozenset(name for name, _, _ in spec)
    # the field decoders, looked up on first use: a recursive type (an SPF node holding
    # nodes) would otherwise build its own decoder while building it
    fields: list[tuple[str, Callable[[Any], Any], bool]] = []

    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise _fail(cls, data)
        if not fields:
            fields.extend((name, _decoder(tp), optional) for name, tp, optional in spec)
        if len(data) > len(known) or not data.keys() <= known:
            extra = sorted(data.keys() - known)
            raise CodecError(f"{cls.__name__}: unknown keys {extra}")
        kwargs = {}
        for name, field_decoder, optional in fields:
            if name in data:
                try:
                    kwargs[name] = field_decoder(data[name])
                except CodecError as exc:
                    raise CodecError(f"{cls.__name__}.{name}: {exc}") from None
            elif not optional:
                raise CodecError(f"{cls.__name__}: missing {name!r}")
        return cls(**kwargs)

    return decode


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (it evaluates the annotations): once per class


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


@functools.cache
def _result_decoder(cid: CheckId) -> Callable[[Any], Any]:
    from ..checks.registry import CHECKS  # the checks import the report layer's model users

    return _decoder(CHECKS[cid].result_type)


_finding = _decoder(tuple[Finding, ...])


def _decode_outcome(cid: CheckId, doc: Any) -> CheckOutcome:
    if type(doc) is not dict:
        raise _fail(CheckOutcome, doc)
    extra = doc.keys() - set(_OUTCOME_KEYS)
    if extra:
        raise CodecError(f"checks.{cid.value}: unknown keys {sorted(extra)}")
    hints = _hints(CheckOutcome)
    try:
        result = doc.get("result")
        return CheckOutcome(
            check=cid,
            status=_decoder(hints["status"])(doc["status"]),
            result=None if result is None else _result_decoder(cid)(result),
            findings=_finding(doc.get("findings", [])),
            error=_decoder(hints["error"])(doc.get("error")),
            skip_reason=_decoder(hints["skip_reason"])(doc.get("skip_reason")),
        )
    except KeyError as exc:
        raise CodecError(f"checks.{cid.value}: missing {exc}") from None
    except CodecError as exc:
        raise CodecError(f"checks.{cid.value}: {exc}") from None


def from_json(doc: Any) -> DomainReport:
    """The typed report a document was encoded from; derived keys are recomputed, not read.

    Raises CodecError when the document does not fit the model (a line written by an older
    version whose shape differs, or a damaged one)."""
    if type(doc) is not dict:
        raise _fail(DomainReport, doc)
    line_format = doc.get(FORMAT_KEY)
    pending: dict[str, list[Any] | None] = {}
    if type(line_format) is int and line_format >= 5:  # findings by reference (line5.py)
        from .line5 import dense_line5

        doc, pending = dense_line5(doc)
    if type(line_format) is int and line_format >= 4:  # the slim form (report/slim.py)
        from .slim import dense_line

        doc = dense_line(doc)
    if type(line_format) is int and line_format >= 3:  # the sparse form (report/sparse.py)
        from .sparse import dense_report

        doc = dense_report(doc)
    hints = _hints(DomainReport)
    extra = doc.keys() - _REPORT_KEYS
    if extra:
        raise CodecError(f"DomainReport: unknown keys {sorted(extra)}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(DomainReport):
        if f.name not in doc:
            if not _has_default(f):
                raise CodecError(f"DomainReport: missing {f.name!r}")
            continue
        value = doc[f.name]
        try:
            if f.name == "checks":
                if type(value) is not dict:
                    raise _fail(dict, value)
                kwargs["checks"] = {
                    cid: _decode_outcome(cid, v)
                    for cid, v in ((_decoder(CheckId)(k), v) for k, v in value.items())
                }
            else:
                kwargs[f.name] = _decoder(hints[f.name])(value)
        except CodecError as exc:
            raise CodecError(f"DomainReport.{f.name}: {exc}") from None
    if pending:
        from .line5 import rejudge

        kwargs["checks"] = rejudge(kwargs["domain"], kwargs["checks"], pending)
    return DomainReport(**kwargs)
