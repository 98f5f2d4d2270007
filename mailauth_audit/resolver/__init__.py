"""DNS access for the checks: one async `Resolver` protocol and its implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    Answer,
    ExtendedError,
    MxRecord,
    Provenance,
    Rcode,
    RecordValue,
    Resolver,
    RRType,
    TxtRecord,
)
from .stats import QueryCounter, count_queries

if TYPE_CHECKING:
    from .caching import CachingResolver
    from .factory import make_resolver, parse_nameserver
    from .wire import WireResolver

_LAZY = {
    "CachingResolver": "caching",
    "WireResolver": "wire",
    "make_resolver": "factory",
    "parse_nameserver": "factory",
}


def __getattr__(name: str) -> object:
    """Implementations load on first use, so importing the protocol stays cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "Answer",
    "CachingResolver",
    "ExtendedError",
    "MxRecord",
    "Provenance",
    "QueryCounter",
    "RRType",
    "Rcode",
    "RecordValue",
    "Resolver",
    "TxtRecord",
    "WireResolver",
    "count_queries",
    "make_resolver",
    "parse_nameserver",
]
