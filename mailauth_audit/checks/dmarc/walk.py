"""Which failed tree-walk lookups could change the verdict (RFC 9989 §4.10): pure.

A `_dmarc` name above the domain that got no answer (SERVFAIL, REFUSED, timeout) is replayed
with each answer it could plausibly have given, and the walk's two outputs are recomputed:
the domain whose record applies (the policy) and the Organizational Domain (§4.10.2).

Answers considered for a failed name: no record, a record without `psd` (or `psd=u`), one
with `psd=n`, one with `psd=y`. At a name that is a public suffix by the PSL (`com`,
`co.uk`) only "no record" and `psd=y` are considered: a record there is a Public Suffix
Operator's, which declares itself with `psd=y` (RFC 9989 §4.7, §5.2); assuming otherwise would
make every `_dmarc.com` SERVFAIL cast doubt on the Organizational Domain of every `.com`.

So the rule, per lookup:
- `_dmarc.<domain>` itself always decides: its failure is the check's error (not here).
- When the domain has its own record, no answer above it changes the policy: a failure is a
  note, and the Organizational Domain is marked incomplete if some answer would move it.
- When the policy is inherited, or no record applies, a failure is a note only when no
  answer changes which domain's record applies; otherwise the check cannot complete.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ...records.orgdomain import psl_organizational_domain, select_organizational_domain

__all__ = ["ABSENT", "WalkVerdict", "judge_failures", "walk_answers", "walk_outcome"]


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()  # the name holds no usable record
Psd = str | None  # a record's psd tag: "y", "n", "u", or None when absent

# 4 answers for each of up to 5 failed names; past that the replay is not attempted: with
# the domain's own record the policy still stands (the Organizational Domain is then not
# known), without it every failure counts as able to change the policy (the check errs)
_MAX_REPLAYS = 1024


@dataclass(frozen=True)
class WalkVerdict:
    """What the failed lookups leave open."""

    policy_may_change: bool  # some answer would apply another domain's record (or none)
    organizational_domains: tuple[str, ...]  # every Organizational Domain an answer gives
    replayed: bool = True  # False past _MAX_REPLAYS: then only the walk as answered is known

    @property
    def organizational_domain_known(self) -> bool:
        return self.replayed and len(self.organizational_domains) == 1


def walk_outcome(domain: str, walk: Sequence[tuple[str, Psd | _Absent]]) -> tuple[str, str | None]:
    """(Organizational Domain, domain whose record applies) for the walk's answers, given in
    walk order. A record with psd=y or psd=n ends the walk (§4.10 steps 2 and 6)."""
    found: dict[str, Psd] = {}
    for name, psd in walk:
        if isinstance(psd, _Absent):
            continue
        found[name] = psd
        if psd in ("y", "n"):
            break
    org = select_organizational_domain(domain, found.items())
    if domain in found:
        return org, domain
    if org in found:
        return org, org
    return org, next((n for n, psd in found.items() if psd == "y"), None)


def _is_public_suffix_above(name: str, domain: str) -> bool:
    registered = psl_organizational_domain(domain)
    return registered != name and registered.endswith("." + name)


def judge_failures(
    domain: str, walk: Sequence[tuple[str, Psd | _Absent]], failed: Sequence[str]
) -> WalkVerdict:
    """Replay the walk with every combination of plausible answers at the `failed` names
    (which `walk` lists as ABSENT) and say what could change."""
    choices: list[tuple[Psd | _Absent, ...]] = [
        (ABSENT, "y") if _is_public_suffix_above(n, domain) else (ABSENT, None, "n", "y")
        for n in failed
    ]
    actual_org, actual_policy = walk_outcome(domain, walk)
    replays = 1
    for c in choices:
        replays *= len(c)
    if replays > _MAX_REPLAYS:  # the domain's own record still decides; nothing else is known
        own = bool(walk) and not isinstance(walk[0][1], _Absent)
        return WalkVerdict(not own, (actual_org,), replayed=False)
    index = {name: i for i, (name, _) in enumerate(walk)}
    orgs: dict[str, None] = {actual_org: None}
    policy_may_change = False
    for answers in itertools.product(*choices):
        replay = list(walk)
        for name, psd in zip(failed, answers, strict=True):
            replay[index[name]] = (name, psd)
        org, policy = walk_outcome(domain, replay)
        orgs[org] = None
        if policy != actual_policy:
            policy_may_change = True
    return WalkVerdict(policy_may_change, tuple(orgs))


def walk_answers(names: Sequence[str], found: Mapping[str, Psd]) -> list[tuple[str, Psd | _Absent]]:
    """The walk as `judge_failures` takes it: each name with its record's psd, or ABSENT."""
    return [(n, found.get(n, ABSENT)) for n in names]
