"""DMARC check: which policy receivers apply to mail from the domain (RFC 9989, which
obsoletes RFC 7489; external report destinations per RFC 9990 and RFC 7489 §7.1).

`collect` does what an RFC 9989 receiver does: it queries `_dmarc.<domain>` and walks up the
tree (§4.10, at most eight queries) to find the Organizational Domain and, when the domain has
no record of its own, the record it inherits. Every `_dmarc` answer is memoised per run, so
`_dmarc.com` or a shared parent is asked once for thousands of domains. One extra query (SOA)
is made only when the policy is inherited and the domain's existence is not yet known, to
choose between `sp` and `np`. For each report address outside the policy's Organizational
Domain it asks for the authorisation record `<policy-domain>._report._dmarc.<host>`, for at
most `Limits.max_report_authorizations` of them, concurrently (reports.py).

Lookups that fail (SERVFAIL, REFUSED, timeout), per lookup:
- `_dmarc.<domain>` decides the policy: its failure is the check's error (could not check).
- A `_dmarc` name above the domain (the walk going up): the walk is replayed with every answer
  that name could have given (walk.py). When no answer changes whose record applies, the check
  completes and the failure is an info finding (`dmarc.tree_walk_lookup_failed`, with the name
  and error); when the Organizational Domain could differ, the result says so
  (`organizational_domain_complete`) and no finding rests on it. When an answer could change
  the policy (the policy is inherited from above, or no record was found), the check is an
  error: "no DMARC" must never stand for "could not ask".
- The SOA asked to choose between sp and np: an error only when sp and np would differ.
- A report-authorisation record: the destination stays "not checked" (never "unauthorised")
  and the failure is an info finding; it cannot change the policy.
Every such failure is kept in `DmarcResult.failed_lookups` and memoised for the run like an
answer, so a failing parent is asked once, not once per domain below it.

`evaluate` (evaluate.py) is pure and re-parses the record text it was given, so saved facts
can be re-judged; the records it proposes are rebuilt, not copied (remediation.py).
"""

from __future__ import annotations

from ...errors import ResolverError
from ...findings import dmarc as F
from ...model import CheckId, Finding
from ...records.dmarc import (
    DmarcDuplicateTagError,
    DmarcPolicy,
    DmarcRecord,
    DmarcSyntaxIssue,
    looks_like_dmarc,
)
from ...records.errors import RecordSyntaxError
from ...records.orgdomain import dmarc_name, psl_organizational_domain, tree_walk_names
from ...resolver.base import RRType
from ..base import Check, CheckContext, EvaluationContext, catalogue_of, record_summary
from .evaluate import Judge
from .parsing import parse_cached, valid_records, value
from .reports import report_destinations
from .result import DmarcLookup, DmarcLookupFailure, DmarcRecordIssue, DmarcResult
from .walk import judge_failures, walk_answers, walk_outcome

__all__ = ["DmarcCheck", "effective_policy"]


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


class DmarcCheck(Check[DmarcResult]):
    """DMARC policy discovery and record audit per RFC 9989 (and RFC 7489 for older
    receivers): tree walk, effective policy, record syntax, report destinations."""

    id = CheckId.DMARC
    title = "DMARC (policy for failing mail)"
    result_type = DmarcResult
    catalogue = catalogue_of(F)
    standard = "RFC 9989 (RFC 7489)"

    @classmethod
    def summary(cls, result: DmarcResult | None) -> str:
        return "" if result is None else record_summary(result.record, result.records_found)

    async def _lookup(self, ctx: CheckContext, name: str) -> DmarcLookup | ResolverError:
        async def ask() -> DmarcLookup | ResolverError:
            try:
                answer = await ctx.resolver.resolve(name, RRType.TXT)
            except ResolverError as exc:
                # kept for the run like an answer: `_dmarc.com` failing is asked once, not
                # once per .com domain, each waiting out the resolver's timeout
                return exc
            texts = tuple(t.text for t in answer.txt() if looks_like_dmarc(t.text))
            valid = valid_records(texts)
            record = valid[0] if len(valid) == 1 else None
            psd = None
            if record is not None:
                parsed, _ = parse_cached(record)
                psd = parsed.psd.value if parsed.psd is not None else None
            return DmarcLookup(
                name, answer.nxdomain, texts, len(valid), record, psd, ttl=answer.ttl
            )

        return await ctx.memo.get_or_compute("dmarc.policy", name, ask)

    async def collect(self, ctx: CheckContext) -> DmarcResult:
        domain = ctx.domain
        names = tree_walk_names(domain)
        lookups: list[DmarcLookup] = []
        found: dict[str, DmarcLookup] = {}
        errors: dict[str, ResolverError] = {}  # walk name -> why its `_dmarc` got no answer
        for name in names:
            asked = await self._lookup(ctx, dmarc_name(name))
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
        asked_names = names[: len(lookups)]
        walk = walk_answers(asked_names, {n: lk.psd for n, lk in found.items()})
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
        own = lookups[0]

        issues: list[DmarcRecordIssue] = []
        for text in own.records:
            try:
                parse_cached(text)
            except RecordSyntaxError as exc:
                tag = exc.tag if isinstance(exc, DmarcDuplicateTagError) else "v"
                issues.append(
                    DmarcRecordIssue(own.name, text, exc.message, exc.position, tag, True)
                )
        if policy_domain is None:  # no failure can be left here: judge_failures raised
            return self._result(ctx, domain, own, lookups, organizational, issues)

        record_text = found[policy_domain].record
        assert record_text is not None  # found only holds lookups with a record
        record, record_issues = parse_cached(record_text)
        record_name = dmarc_name(policy_domain)
        issues.extend(
            DmarcRecordIssue(record_name, record_text, i.message, i.position, i.tag, False)
            for i in record_issues
        )
        inherited = policy_domain != domain
        exists: bool | None = None
        if inherited:
            exists = True
            if own.nxdomain:  # _dmarc.<domain> absent: is <domain> itself? (RFC 8020)
                exists = await self._exists(ctx, record, record_issues, failures)
        policy, source = effective_policy(
            record, record_issues, inherited=inherited, domain_exists=exists
        )
        destinations, unchecked, auth_failures = await report_destinations(
            ctx, policy_domain, record.report_uris
        )
        failures.extend(auth_failures)
        return DmarcResult(
            domain=domain,
            record=record_text,
            record_ttl=found[policy_domain].ttl,
            record_domain=record_name,
            policy_domain=policy_domain,
            inherited=inherited,
            records_found=own.records,
            organizational_domain=organizational,
            psl_organizational_domain=psl_organizational_domain(domain),
            policy=value(record.policy),
            subdomain_policy=value(record.subdomain_policy),
            nonexistent_subdomain_policy=value(record.nonexistent_subdomain_policy),
            effective_policy=value(policy),
            effective_policy_source=source,
            domain_exists=exists,
            adkim=record.adkim_or_default.value,
            aspf=record.aspf_or_default.value,
            testing=bool(record.testing),
            psd=value(record.psd),
            percentage=record.percentage,
            removed_tags=record.removed_tags,
            unknown_tags=tuple(t.name for t in record.unknown_tags),
            syntax_error=issues[0].message if issues else None,
            syntax_error_position=issues[0].position if issues else None,
            syntax_issues=tuple(issues),
            report_destinations=destinations,
            discovery_path=tuple(lk.name for lk in lookups),
            lookups=tuple(lookups),
            report_authorizations_unchecked=unchecked,
            organizational_domain_complete=org_complete,
            failed_lookups=tuple(failures),
        )

    async def _exists(
        self,
        ctx: CheckContext,
        record: DmarcRecord,
        issues: tuple[DmarcSyntaxIssue, ...],
        failures: list[DmarcLookupFailure],
    ) -> bool | None:
        """Whether the domain exists, which chooses between sp and np. A failed SOA lookup is
        the check's error only when sp and np would differ; otherwise it is noted (None)."""
        try:
            soa = await ctx.resolver.resolve(ctx.domain, RRType.SOA)
        except ResolverError as exc:
            either = {
                effective_policy(record, issues, inherited=True, domain_exists=e)
                for e in (True, False)
            }
            if len(either) > 1:
                raise
            failures.append(
                DmarcLookupFailure("existence", ctx.domain, "SOA", exc.reason.value, str(exc))
            )
            return None
        return not soa.nxdomain

    def _result(
        self,
        ctx: CheckContext,
        domain: str,
        own: DmarcLookup,
        lookups: list[DmarcLookup],
        organizational: str,
        issues: list[DmarcRecordIssue],
    ) -> DmarcResult:
        """The facts when no record applies at all."""
        return DmarcResult(
            domain=domain,
            record=None,
            record_domain=None,
            policy_domain=None,
            inherited=False,
            records_found=own.records,
            organizational_domain=organizational,
            psl_organizational_domain=psl_organizational_domain(domain),
            policy=None,
            subdomain_policy=None,
            nonexistent_subdomain_policy=None,
            effective_policy=None,
            effective_policy_source=None,
            domain_exists=None,
            adkim="r",
            aspf="r",
            testing=False,
            psd=None,
            percentage=None,
            removed_tags=(),
            unknown_tags=(),
            syntax_error=issues[0].message if issues else None,
            syntax_error_position=issues[0].position if issues else None,
            syntax_issues=tuple(issues),
            report_destinations=(),
            discovery_path=tuple(lk.name for lk in lookups),
            lookups=tuple(lookups),
        )

    def evaluate(self, facts: DmarcResult, ctx: EvaluationContext) -> list[Finding]:
        return Judge(facts).findings()
