"""DMARC check: which policy receivers apply to mail from the domain (RFC 9989, which
obsoletes RFC 7489; external report destinations per RFC 9990 and RFC 7489 §7.1).

`collect` does what an RFC 9989 receiver does (discovery.py, which message verification calls
too): it queries `_dmarc.<domain>` and walks up the tree (§4.10, at most eight queries) to find
the Organizational Domain and, when the domain has no record of its own, the record it
inherits. Every `_dmarc` answer is memoised per run, so `_dmarc.com` or a shared parent is
asked once for thousands of domains. One extra query (SOA) is made only when the policy is
inherited and the domain's existence is not yet known, to choose between `sp` and `np`. Then
it audits the records found, and for each report address outside the policy's Organizational
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

from ...findings import dmarc as F
from ...model import CheckId, Finding
from ...records.dmarc import DmarcDuplicateTagError
from ...records.errors import RecordSyntaxError
from ...records.orgdomain import psl_organizational_domain
from ..base import Check, CheckContext, EvaluationContext, catalogue_of, record_summary
from .discovery import PolicyDiscovery, discover_policy, effective_policy
from .evaluate import Judge
from .parsing import parse_cached, value
from .reports import report_destinations
from .result import DmarcRecordIssue, DmarcResult

__all__ = ["DmarcCheck", "effective_policy"]


def _own_record_issues(discovery: PolicyDiscovery) -> list[DmarcRecordIssue]:
    """Records at `_dmarc.<domain>` that receivers ignore entirely (and why)."""
    own = discovery.own
    issues: list[DmarcRecordIssue] = []
    for text in own.records:
        try:
            parse_cached(text)
        except RecordSyntaxError as exc:
            tag = exc.tag if isinstance(exc, DmarcDuplicateTagError) else "v"
            issues.append(DmarcRecordIssue(own.name, text, exc.message, exc.position, tag, True))
    return issues


class DmarcCheck(Check[DmarcResult]):
    """DMARC policy discovery and record audit per RFC 9989 (and RFC 7489 for older
    receivers): tree walk, effective policy, record syntax, report destinations."""

    id = CheckId.DMARC
    title = "DMARC (policy for failing mail)"
    result_type = DmarcResult
    catalogue = catalogue_of(F)
    standard = "RFC 9989 (RFC 7489)"
    judges_facts_only = True  # evaluate reads no options

    @classmethod
    def summary(cls, result: DmarcResult | None) -> str:
        return "" if result is None else record_summary(result.record, result.records_found)

    @classmethod
    def record_ttl(cls, result: DmarcResult | None) -> int | None:
        return None if result is None else result.record_ttl

    @classmethod
    def whole_record(cls, result: DmarcResult | None) -> str | None:
        return None if result is None else result.record

    async def collect(self, ctx: CheckContext) -> DmarcResult:
        domain = ctx.domain
        found = await discover_policy(domain, ctx.resolver, ctx.memo)
        issues = _own_record_issues(found)
        if found.record is None or found.policy_domain is None:
            return _no_record_result(found, issues)
        record, record_text, record_name = found.record, found.record_text, found.record_domain
        assert record_text is not None and record_name is not None  # set with the record
        issues.extend(
            DmarcRecordIssue(record_name, record_text, i.message, i.position, i.tag, False)
            for i in found.record_issues
        )
        destinations, unchecked, auth_failures = await report_destinations(
            ctx, found.policy_domain, record.report_uris
        )
        return DmarcResult(
            domain=domain,
            record=record_text,
            record_ttl=found.record_ttl,
            record_domain=record_name,
            policy_domain=found.policy_domain,
            inherited=found.inherited,
            records_found=found.own.records,
            organizational_domain=found.organizational_domain,
            psl_organizational_domain=psl_organizational_domain(domain),
            policy=value(record.policy),
            subdomain_policy=value(record.subdomain_policy),
            nonexistent_subdomain_policy=value(record.nonexistent_subdomain_policy),
            effective_policy=found.policy,
            effective_policy_source=found.effective_policy_source,
            domain_exists=found.domain_exists,
            adkim=found.adkim,
            aspf=found.aspf,
            testing=found.testing,
            psd=value(record.psd),
            percentage=record.percentage,
            removed_tags=record.removed_tags,
            unknown_tags=tuple(t.name for t in record.unknown_tags),
            syntax_error=issues[0].message if issues else None,
            syntax_error_position=issues[0].position if issues else None,
            syntax_issues=tuple(issues),
            report_destinations=destinations,
            discovery_path=tuple(lk.name for lk in found.lookups),
            lookups=found.lookups,
            report_authorizations_unchecked=unchecked,
            organizational_domain_complete=found.organizational_domain_complete,
            failed_lookups=found.failures + tuple(auth_failures),
            server=found.own_server,
        )

    def evaluate(self, facts: DmarcResult, ctx: EvaluationContext) -> list[Finding]:
        return Judge(facts).findings()


def _no_record_result(found: PolicyDiscovery, issues: list[DmarcRecordIssue]) -> DmarcResult:
    """The facts when no record applies at all."""
    return DmarcResult(
        domain=found.domain,
        record=None,
        record_domain=None,
        policy_domain=None,
        inherited=False,
        records_found=found.own.records,
        organizational_domain=found.organizational_domain,
        psl_organizational_domain=psl_organizational_domain(found.domain),
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
        discovery_path=tuple(lk.name for lk in found.lookups),
        lookups=found.lookups,
        organizational_domain_complete=found.organizational_domain_complete,
        failed_lookups=found.failures,
        server=found.own_server,
    )
