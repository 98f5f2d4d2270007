"""DMARC policy discovery (RFC 9989 §4.10): which record applies to a domain, and which policy.

This is what a receiver does before it judges a message, and what the domain check does before
it audits the record: query `_dmarc.<domain>`, walk up the tree (at most eight queries) to find
the Organizational Domain and, when the domain has no record of its own, the record it
inherits; ask for the domain's SOA only when the policy is inherited, the domain's existence is
not yet known and `sp` and `np` would differ. Message verification calls `discover_policy`
directly; the check (check.py) adds the record audit and the report destinations on top.

Every `_dmarc` answer (and every failure) is memoised in the run memo given, so `_dmarc.com`
or a shared parent is asked once for thousands of domains. How failures are judged is
described in check.py; here a failure that could change the policy is raised, and every other
one is returned in `failures`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ResolverError
from ...fastinit import fast_init
from ...records.dmarc import DmarcPolicy, DmarcRecord, DmarcSyntaxIssue, looks_like_dmarc
from ...records.orgdomain import dmarc_name, tree_walk_names
from ...resolver.base import Resolver, RRType
from ..base import RunMemo
from .parsing import parse_cached, valid_records, value
from .result import DmarcLookup, DmarcLookupFailure
from .walk import judge_failures, walk_answers, walk_outcome

__all__ = ["PolicyDiscovery", "discover_policy", "effective_policy"]


@fast_init
@dataclass(frozen=True)
class PolicyDiscovery:
    """Whose record applies to a domain, and the policy receivers take from it."""

    domain: str
    lookups: tuple[DmarcLookup, ...]  # every `_dmarc` name asked, in walk order; [0] the own
    organizational_domain: str
    organizational_domain_complete: bool  # False when a failed lookup leaves it uncertain
    failures: tuple[DmarcLookupFailure, ...]  # failed lookups that could not change the policy
    policy_domain: str | None  # where the applying record is published; None when none applies
    record_text: str | None  # set with policy_domain: the record receivers use
    record: DmarcRecord | None  # set with policy_domain: `record_text` parsed
    record_issues: tuple[DmarcSyntaxIssue, ...]  # set with policy_domain: its syntax issues
    inherited: bool  # the record is published above the domain
    domain_exists: bool | None  # set when inherited: chooses sp or np; None when unknown
    effective_policy: DmarcPolicy | None  # None when no policy applies
    effective_policy_source: str | None  # "p", "sp", "np" or "default", with effective_policy
    own_server: str | None = None  # who answered `_dmarc.<domain>` (the `own` lookup)

    @property
    def own(self) -> DmarcLookup:
        """The lookup of `_dmarc.<domain>` itself (always asked, never failed)."""
        return self.lookups[0]

    @property
    def record_ttl(self) -> int | None:
        """The TTL the applying record was answered with (None when none applies)."""
        name = self.record_domain
        return next((lk.ttl for lk in self.lookups if lk.name == name), None)

    @property
    def record_domain(self) -> str | None:
        return None if self.policy_domain is None else dmarc_name(self.policy_domain)

    @property
    def adkim(self) -> str:
        return "r" if self.record is None else str(self.record.adkim_or_default)

    @property
    def aspf(self) -> str:
        return "r" if self.record is None else str(self.record.aspf_or_default)

    @property
    def testing(self) -> bool:
        return self.record is not None and bool(self.record.testing)

    @property
    def policy(self) -> str | None:
        """The effective policy as text ("reject", ...), as results and messages carry it."""
        return value(self.effective_policy)


def effective_policy(
    record: DmarcRecord,
    issues: tuple[DmarcSyntaxIssue, ...] | list[DmarcSyntaxIssue],
    *,
    inherited: bool,
    domain_exists: bool | None,
) -> tuple[DmarcPolicy | None, str | None]:
    """The policy receivers apply and the tag it comes from (RFC 9989 §4.10.1).

    A record without a valid p, or with an invalid sp or np, counts as p=none when it has a
    usable rua URI, and as no DMARC at all otherwise ("default"/None). At the domain itself p
    applies; inherited, sp applies to existing subdomains and np to non-existent ones, each
    falling back to sp and then p."""
    invalid = {i.tag for i in issues if i.tag in ("p", "sp", "np")}
    broken = (
        record.policy is None
        or ("sp" in invalid and record.subdomain_policy is None)
        or ("np" in invalid and record.nonexistent_subdomain_policy is None)
    )
    if broken:
        return (DmarcPolicy.NONE, "default") if record.rua else (None, None)
    if not inherited:
        return record.policy, "p"
    if domain_exists is False and record.nonexistent_subdomain_policy is not None:
        return record.nonexistent_subdomain_policy, "np"
    if record.subdomain_policy is not None:
        return record.subdomain_policy, "sp"
    return record.policy, "p"


def _failed_lookup(name: str, exc: ResolverError) -> DmarcLookup:
    return DmarcLookup(name, False, (), 0, None, None, exc.reason.value, str(exc))


async def _lookup(
    resolver: Resolver, memo: RunMemo, name: str
) -> tuple[DmarcLookup | ResolverError, str]:
    """The lookup of `name` and who answered it ("" when nobody did)."""

    async def ask() -> tuple[DmarcLookup | ResolverError, str]:
        try:
            answer = await resolver.resolve(name, RRType.TXT)
        except ResolverError as exc:
            # kept for the run like an answer: `_dmarc.com` failing is asked once, not
            # once per .com domain, each waiting out the resolver's timeout
            return exc, ""
        texts = tuple(t.text for t in answer.txt() if looks_like_dmarc(t.text))
        valid = valid_records(texts)
        record = valid[0] if len(valid) == 1 else None
        psd = None
        if record is not None:
            parsed, _ = parse_cached(record)
            psd = parsed.psd.value if parsed.psd is not None else None
        found = DmarcLookup(name, answer.nxdomain, texts, len(valid), record, psd, ttl=answer.ttl)
        return found, answer.server

    return await memo.get_or_compute("dmarc.policy", name, ask)


async def discover_policy(
    domain: str, resolver: Resolver, memo: RunMemo | None = None
) -> PolicyDiscovery:
    """The record and policy that apply to `domain` (lowercase A-labels, no trailing dot).

    Raises the ResolverError of a lookup whose answer could change the policy: the domain's
    own `_dmarc` name, a parent that could hold the applying record, or the SOA when sp and np
    differ. "No DMARC" never stands for "could not ask"."""
    names = tree_walk_names(domain)
    lookups, found, errors, own_server = await _ask_tree(domain, names, resolver, memo or RunMemo())
    walk = walk_answers(names[: len(lookups)], {n: lk.psd for n, lk in found.items()})
    organizational, policy_domain = walk_outcome(domain, walk)
    org_complete = True
    failures: list[DmarcLookupFailure] = []
    if errors:
        verdict = judge_failures(domain, walk, list(errors))
        if verdict.policy_may_change:  # some answer would apply another record: no verdict
            raise next(iter(errors.values())).with_traceback(None)
        org_complete = verdict.organizational_domain_known
        failures = [
            DmarcLookupFailure("tree_walk", dmarc_name(n), "TXT", e.reason.value, str(e))
            for n, e in errors.items()
        ]
    if policy_domain is None:  # no failure can be left here: judge_failures raised
        return PolicyDiscovery(
            domain, tuple(lookups), organizational, org_complete, tuple(failures),
            policy_domain=None, record_text=None, record=None, record_issues=(),
            inherited=False, domain_exists=None, effective_policy=None,
            effective_policy_source=None, own_server=own_server or None,
        )  # fmt: skip

    record_text = found[policy_domain].record
    assert record_text is not None  # found only holds lookups with a record
    record, record_issues = parse_cached(record_text)
    inherited = policy_domain != domain
    exists: bool | None = None
    if inherited:
        exists = True
        if lookups[0].nxdomain:  # _dmarc.<domain> absent: is <domain> itself? (RFC 8020)
            exists = await _exists(domain, resolver, record, record_issues, failures)
    policy, source = effective_policy(
        record, record_issues, inherited=inherited, domain_exists=exists
    )
    return PolicyDiscovery(
        domain=domain,
        lookups=tuple(lookups),
        organizational_domain=organizational,
        organizational_domain_complete=org_complete,
        failures=tuple(failures),
        policy_domain=policy_domain,
        record_text=record_text,
        record=record,
        record_issues=record_issues,
        inherited=inherited,
        domain_exists=exists,
        effective_policy=policy,
        effective_policy_source=source,
        own_server=own_server or None,
    )


async def _ask_tree(
    domain: str, names: tuple[str, ...], resolver: Resolver, memo: RunMemo
) -> tuple[list[DmarcLookup], dict[str, DmarcLookup], dict[str, ResolverError], str]:
    """Ask `_dmarc.<name>` for each name of the walk, in order, until a record with psd=y or
    psd=n ends it: every lookup, those holding a record, the names that got no answer, and
    who answered the domain's own name."""
    lookups: list[DmarcLookup] = []
    found: dict[str, DmarcLookup] = {}
    errors: dict[str, ResolverError] = {}  # walk name -> why its `_dmarc` got no answer
    own_server = ""
    for name in names:
        asked, server = await _lookup(resolver, memo, dmarc_name(name))
        if name == domain:
            own_server = server
        if isinstance(asked, ResolverError):
            if name == domain:  # the domain's own record always decides
                raise asked.with_traceback(None)
            errors[name] = asked
            lookups.append(_failed_lookup(dmarc_name(name), asked))
            continue
        lookups.append(asked)
        if asked.record is not None:
            found[name] = asked
            if asked.psd in ("y", "n"):
                break  # RFC 9989 §4.10 steps 2 and 6
    return lookups, found, errors, own_server


async def _exists(
    domain: str,
    resolver: Resolver,
    record: DmarcRecord,
    issues: tuple[DmarcSyntaxIssue, ...],
    failures: list[DmarcLookupFailure],
) -> bool | None:
    """Whether the domain exists, which chooses between sp and np. A failed SOA lookup is
    the check's error only when sp and np would differ; otherwise it is noted (None)."""
    try:
        soa = await resolver.resolve(domain, RRType.SOA)
    except ResolverError as exc:
        either = {
            effective_policy(record, issues, inherited=True, domain_exists=e) for e in (True, False)
        }
        if len(either) > 1:
            raise
        failures.append(DmarcLookupFailure("existence", domain, "SOA", exc.reason.value, str(exc)))
        return None
    return not soa.nxdomain
