"""A cheaper `__init__` for the frozen dataclasses built once or more per audited domain.

A frozen dataclass's generated `__init__` stores each field through `object.__setattr__`, a
call per field; a bulk run builds ~80 such objects per domain (findings, record changes,
outcomes, SPF nodes). `fast_init` swaps in an `__init__` with the same signature that writes
the fields into the instance's `__dict__`, which is what `object.__setattr__` ends up doing.
Everything else (frozenness, eq, hash, repr, `dataclasses.replace`, pickling) is the
dataclass's own. Classes it cannot copy the semantics of (slots, `__post_init__`, keyword-only
or init-only fields) are refused when the module is imported, never silently mishandled.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["fast_init"]

C = TypeVar("C", bound=type[Any])

_FACTORY = object()  # a default-factory field's parameter default: "call the factory"


def fast_init(cls: C) -> C:
    """Apply above `@dataclass(frozen=True)`: same signature and defaults, no setattr calls."""
    if not dataclasses.is_dataclass(cls) or "__slots__" in cls.__dict__:
        raise TypeError(f"fast_init: {cls.__name__} must be a dataclass without slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} has __post_init__")
    names: dict[str, Any] = {"_FACTORY": _FACTORY}
    params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        if f.name in ("self", "_d", "_FACTORY") or f.name.startswith(("_d_", "_f_")):
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} clashes with a local name")
        if f.kw_only or not f.init or f._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is not a plain field")
        if f.default is not dataclasses.MISSING:
            names[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
            body.append(f"    _d[{f.name!r}] = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"    _d[{f.name!r}] = _f_{f.name}() if {f.name} is _FACTORY else {f.name}")
        else:
            params.append(f.name)
            body.append(f"    _d[{f.name!r}] = {f.name}")
    source = (
        f"def __init__(self, {', '.join(params)}):\n"
        "    _d = self.__dict__\n" + "\n".join(body or ["    pass"]) + "\n"
    )
    exec(source, names)  # built from the class's own field names only
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
