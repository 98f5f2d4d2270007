"""A cheaper `__init__` for the frozen dataclasses built once or more per audited domain.

A frozen dataclass's generated `__init__` stores each field through `object.__setattr__`, a
call per field; a bulk run builds ~80 such objects per domain (findings, record changes,
outcomes, SPF nodes). `fast_init` swaps in an `__init__` with the same signature that gives
the instance its `__dict__` whole: one dict display of the fields, in field order, set with
one `object.__setattr__` call. (Filling `self.__dict__` key by key would make a split-table
dict, whose attributes CPython 3.11 then reads through its slow generic path; a dict built
whole is a plain table, read as fast as the stock instance's.) Everything else (frozenness,
eq, hash, repr, `dataclasses.replace`, pickling) is the dataclass's own. Classes it cannot
copy the semantics of (slots, `__post_init__`, keyword-only or init-only fields) are refused
when the module is imported, never silently mishandled.

`cached_once` is `functools.cached_property` for the same objects: Python 3.11's takes a
lock on every first read, and most of these objects are read once per domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, overload

__all__ = ["cached_once", "fast_init"]

C = TypeVar("C", bound=type[Any])
T = TypeVar("T")

_FACTORY = object()  # a default-factory field's parameter default: "call the factory"


def fast_init(cls: C) -> C:
    """Apply above `@dataclass(frozen=True)`: same signature and defaults, no setattr calls."""
    if not dataclasses.is_dataclass(cls) or "__slots__" in cls.__dict__:
        raise TypeError(f"fast_init: {cls.__name__} must be a dataclass without slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} has __post_init__")
    names: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__}
    params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        if f.name in ("self", "_set", "_FACTORY") or f.name.startswith(("_d_", "_f_")):
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} clashes with a local name")
        if f.kw_only or not f.init or f._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is not a plain field")
        if f.default is not dataclasses.MISSING:
            names[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
            body.append(f"{f.name!r}: {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"{f.name!r}: _f_{f.name}() if {f.name} is _FACTORY else {f.name}")
        else:
            params.append(f.name)
            body.append(f"{f.name!r}: {f.name}")
    source = (
        f"def __init__(self, {', '.join(params)}):\n"
        f"    _set(self, '__dict__', {{{', '.join(body)}}})\n"
    )
    exec(source, names)  # built from the class's own field names only
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


class cached_once(Generic[T]):
    """A property computed on first read and kept in the instance's `__dict__` (so later
    reads never reach this descriptor), as `functools.cached_property` does.

    No lock: the values cached this way are pure functions of a frozen object, so two threads
    computing one at once would store equal values.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> T | Self:
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value
