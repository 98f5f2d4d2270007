"""The order one run's checks go in: worked out once per run, followed for every domain.

A wave collects its checks concurrently, then judges every check whose inputs are all judged.
Checks that declare no `depends_on` all collect in the first wave, so a run of today's checks
is one concurrent collection followed by the judgements, with no extra tasks per domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..checks.dependencies import Registry, dependency_order, with_dependencies
from ..model import CheckError, CheckId, CheckOutcome, CheckStatus, ErrorReason


@dataclass(frozen=True)
class Wave:
    collect: tuple[CheckId, ...]  # collected concurrently
    evaluate: tuple[CheckId, ...]  # then judged, in this order


@dataclass(frozen=True)
class Plan:
    checks: frozenset[CheckId]  # the requested checks and the checks they depend on
    order: tuple[CheckId, ...]  # every check after the checks it waits for
    waves: tuple[Wave, ...]


def plan_checks(requested: Iterable[CheckId], registry: Registry) -> Plan:
    """Waves for the requested checks (and their dependencies). Raises DependencyCycle."""
    checks = with_dependencies(requested, registry)
    order = dependency_order(checks, registry)
    collected: set[CheckId] = set()
    judged: set[CheckId] = set()
    waves: list[Wave] = []
    while len(judged) < len(order):
        collect = tuple(
            c
            for c in order
            if c not in collected and all(d in judged for d in registry[c].depends_on)
        )
        collected.update(collect)
        evaluate: list[CheckId] = []
        for c in order:  # in dependency order, so one pass judges chains within the wave
            if c in collected and c not in judged:
                waits = [d for d in registry[c].evaluate_after if d in checks]
                if all(d in judged for d in waits):
                    judged.add(c)
                    evaluate.append(c)
        if not collect and not evaluate:  # unreachable after dependency_order succeeded
            raise RuntimeError(f"no check can run; judged {sorted(judged)} of {order}")
        waves.append(Wave(collect, tuple(evaluate)))
    return Plan(checks, tuple(order), tuple(waves))


def blocked_outcome(
    check: CheckId, depends_on: tuple[CheckId, ...], outcomes: Mapping[CheckId, CheckOutcome]
) -> CheckOutcome | None:
    """The outcome of a check that cannot run because a dependency did not complete, or
    None when every dependency completed. Never a verdict: nothing was looked at."""
    for dep in depends_on:
        got = outcomes.get(dep)
        name = dep.value.upper()
        if got is None or got.status is CheckStatus.ERROR:
            why = got.error.reason.value if got is not None and got.error else "not run"
            message = f"could not check: it needs {name}, which could not be checked ({why})"
            return CheckOutcome(
                check=check,
                status=CheckStatus.ERROR,
                error=CheckError(reason=ErrorReason.DEPENDENCY_FAILED, message=message),
            )
        if got.status is CheckStatus.SKIPPED:
            reason = f"it needs {name}, which was skipped ({got.skip_reason or 'no reason'})"
            return CheckOutcome(check=check, status=CheckStatus.SKIPPED, skip_reason=reason)
    return None


def dependency_outcomes(
    depends_on: tuple[CheckId, ...], outcomes: Mapping[CheckId, CheckOutcome]
) -> Mapping[CheckId, CheckOutcome]:
    """Only the declared dependencies: a check cannot read what merely happened to run."""
    return MappingProxyType({d: outcomes[d] for d in depends_on})
