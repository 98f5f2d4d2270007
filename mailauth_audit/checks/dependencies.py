"""The graph of checks: which check needs which other check's outcome, and in what order.

Two kinds of edge, both declared on the Check class:

- `depends_on`: `collect` reads the dependency's outcome (a STARTTLS check needs the MX
  hosts). The dependency is run first, and run even when the user did not ask for it (it is
  then reported too: its result is what the dependent check's verdict stands on).
- `evaluate_after`: only `evaluate` looks at the other outcome, when it was requested (DKIM
  is not demanded of a domain that sends no mail). Nothing is pulled in; collection is not
  delayed.

A cycle through either kind could never be run, so the registry is rejected when it has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..model import CheckId

if TYPE_CHECKING:
    from .base import Check

Registry = Mapping[CheckId, "type[Check[Any]]"]


class DependencyCycle(ConfigurationError):
    """The registry declares checks that wait for each other: a programming error."""


def edges(registry: Registry, cid: CheckId) -> tuple[CheckId, ...]:
    """Every check `cid` waits for, either kind, depends_on first."""
    cls = registry[cid]
    return tuple(dict.fromkeys((*cls.depends_on, *cls.evaluate_after)))


def with_dependencies(ids: Iterable[CheckId], registry: Registry) -> frozenset[CheckId]:
    """The requested checks and, transitively, every check their `collect` depends on."""
    wanted: set[CheckId] = set()
    todo = list(ids)
    while todo:
        cid = todo.pop()
        if cid in wanted:
            continue
        wanted.add(cid)
        todo.extend(registry[cid].depends_on)
    return frozenset(wanted)


def dependency_order(ids: Iterable[CheckId], registry: Registry) -> list[CheckId]:
    """`ids` sorted so that each check comes after every check in `ids` it waits for;
    ties keep CheckId order. Raises DependencyCycle when no such order exists."""
    wanted = set(ids)
    ordered: list[CheckId] = []
    done: set[CheckId] = set()
    path: list[CheckId] = []

    def visit(cid: CheckId) -> None:
        if cid in done or cid not in wanted:
            return
        if cid in path:
            cycle = [*path[path.index(cid) :], cid]
            raise DependencyCycle("checks wait for each other: " + " -> ".join(cycle))
        path.append(cid)
        for dep in edges(registry, cid):
            visit(dep)
        path.pop()
        done.add(cid)
        ordered.append(cid)

    for cid in CheckId:
        visit(cid)
    return ordered


def validate_registry(registry: Registry) -> None:
    """Every check is registered under its own id, names only registered checks as
    dependencies, and no dependency cycle exists. Run when the registry is built."""
    for cid, cls in registry.items():
        if cls.id is not cid:
            raise ConfigurationError(f"{cls.__name__} is registered as {cid}, its id is {cls.id}")
        unknown = [d for d in edges(registry, cid) if d not in registry]
        if unknown:
            raise ConfigurationError(f"{cls.__name__} depends on unregistered checks {unknown}")
    dependency_order(registry, registry)
