"""Which DKIM selectors to probe for a domain, and in what order. Pure: the date and the
detected providers are arguments, so the list can be tested for any year.

Order: the selectors the user gave (they know best), then the detected providers' published
names, then the date-style names this tool itself suggests (`dkim keygen`, remediations),
then the built-in list of common names. Each name is probed once, in the first list naming
it, and at most `Limits.max_dkim_selectors` in all; the rest are counted, never dropped
silently.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ...options import DEFAULT_DKIM_SELECTORS, audit_date, dkim_date_selectors
from .providers import DetectedProvider

MAX_NOT_PROBED_SHOWN = 20  # names past the cap kept in a result (the count is exact)


class SelectorSource(StrEnum):
    GIVEN = "given"  # --selector, --selectors-file, --selectors-from
    PROVIDER = "provider"  # a detected provider's published names
    DATE = "date"  # the date-style names the tool suggests (s2026, ed2026, ...)
    DEFAULT = "default"  # the built-in list of common names


@dataclass(frozen=True)
class DkimSelectorList:
    """One list of selectors that was probed, and where its names came from."""

    source: SelectorSource
    # the names probed from this list; names already probed from an earlier list are left out
    selectors: tuple[str, ...]
    provider: str | None = None  # set for provider lists: the provider's name ("fastmail")


@dataclass(frozen=True)
class SelectorPlan:
    lists: tuple[DkimSelectorList, ...]  # in probing order, only lists with names to probe
    selectors: tuple[str, ...]  # every name to probe, in order (at most the cap)
    not_probed: tuple[str, ...]  # names past the cap (the first MAX_NOT_PROBED_SHOWN)
    not_probed_count: int


def plan_selectors(
    given: Iterable[str],
    providers: Iterable[DetectedProvider] = (),
    *,
    today: date | None = None,
    builtin: bool = True,
    cap: int = 40,
) -> SelectorPlan:
    """The selectors to probe. `builtin=False` (--no-default-selectors) keeps only the
    given names: no provider, date-style or built-in list."""
    providers = tuple(providers)
    if not providers:  # the same plan for most domains of a run: worked out once a day
        day = audit_date(today) if builtin else None
        return _plan_without_providers(tuple(given), day, builtin, cap)
    return _plan(given, providers, today, builtin, cap)


@functools.lru_cache(maxsize=64)
def _plan_without_providers(
    given: tuple[str, ...], today: date | None, builtin: bool, cap: int
) -> SelectorPlan:
    return _plan(given, (), today, builtin, cap)


def _plan(
    given: Iterable[str],
    providers: tuple[DetectedProvider, ...],
    today: date | None,
    builtin: bool,
    cap: int,
) -> SelectorPlan:
    wanted: list[tuple[SelectorSource, str | None, tuple[str, ...]]] = [
        (SelectorSource.GIVEN, None, tuple(s.strip().lower().rstrip(".") for s in given))
    ]
    if builtin:
        wanted += [(SelectorSource.PROVIDER, p.name, p.selectors) for p in providers]
        wanted.append((SelectorSource.DATE, None, dkim_date_selectors(today)))
        wanted.append((SelectorSource.DEFAULT, None, DEFAULT_DKIM_SELECTORS))
    seen: set[str] = set()
    lists: list[DkimSelectorList] = []
    order: list[str] = []
    skipped: list[str] = []
    skipped_count = 0
    for source, provider, names in wanted:
        taken: list[str] = []
        for name in names:
            if not name or name in seen:
                continue
            seen.add(name)
            if len(order) < cap:
                order.append(name)
                taken.append(name)
            else:
                skipped_count += 1
                if len(skipped) < MAX_NOT_PROBED_SHOWN:
                    skipped.append(name)
        if taken:
            lists.append(DkimSelectorList(source, tuple(taken), provider))
    return SelectorPlan(tuple(lists), tuple(order), tuple(skipped), skipped_count)


def describe_lists(
    lists: Iterable[DkimSelectorList], providers: Iterable[DetectedProvider] = ()
) -> str:
    """For people: which lists were probed, e.g. "Fastmail's selectors, as MX
    in1-smtp.messagingengine.com points there (fm1, fm2, fm3); the date-style names ..."."""
    by_name = {p.name: p for p in providers}
    parts = []
    for lst in lists:
        names = ", ".join(lst.selectors)
        if lst.source is SelectorSource.GIVEN:
            parts.append(f"the selectors given ({names})")
        elif lst.source is SelectorSource.PROVIDER:
            p = by_name.get(lst.provider or "")
            title = p.title if p else lst.provider
            why = f", detected by {p.matched}" if p else ""
            parts.append(f"{title}'s selectors{why} ({names})")
        elif lst.source is SelectorSource.DATE:
            parts.append(f"the date-style names this tool suggests ({names})")
        else:
            parts.append(f"the built-in list ({names})")
    return "; ".join(parts)
