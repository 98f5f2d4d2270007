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

`evaluate` (evaluate.py) is pure and re-parses the record text it was given, so saved facts
can be re-judged; the records it proposes are rebuilt, not copied (remediation.py).
"""

from __future__ import annotations

from ...model import CheckId, Finding
from ...records.dmarc import (
    DmarcDuplicateTagError,
    DmarcPolicy,
    DmarcRecord,
    DmarcSyntaxIssue,
    looks_like_dmarc,
)
from ...records.errors import RecordSyntaxError
from ...records.orgdomain import (
    dmarc_name,
    psl_organizational_domain,
    select_organizational_domain,
    tree_walk_names,
)
from ...resolver.base import RRType
from ..base import Check, CheckContext, EvaluationContext
from .evaluate import Judge
from .parsing import parse_cached, valid_records, value
from .reports import report_destinations
from .result import DmarcLookup, DmarcRecordIssue, DmarcResult

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


class DmarcCheck(Check[DmarcResult]):
    """DMARC policy discovery and record audit per RFC 9989 (and RFC 7489 for older
    receivers): tree walk, effective policy, record syntax, report destinations."""

    id = CheckId.DMARC
    result_type = DmarcResult
    standard = "RFC 9989 (RFC 7489)"

    async def _lookup(self, ctx: CheckContext, name: str) -> DmarcLookup:
        async def ask() -> DmarcLookup:
            answer = await ctx.resolver.resolve(name, RRType.TXT)
            texts = tuple(t.text for t in answer.txt() if looks_like_dmarc(t.text))
            valid = valid_records(texts)
            record = valid[0] if len(valid) == 1 else None
            psd = None
            if record is not None:
                parsed, _ = parse_cached(record)
                psd = parsed.psd.value if parsed.psd is not None else None
            return DmarcLookup(name, answer.nxdomain, texts, len(valid), record, psd)

        return await ctx.memo.get_or_compute("dmarc.policy", name, ask)

    async def collect(self, ctx: CheckContext) -> DmarcResult:
        domain = ctx.domain
        lookups: list[DmarcLookup] = []
        found: dict[str, DmarcLookup] = {}
        for name in tree_walk_names(domain):
            lookup = await self._lookup(ctx, dmarc_name(name))
            lookups.append(lookup)
            if lookup.record is not None:
                found[name] = lookup
                if lookup.psd in ("y", "n"):
                    break  # RFC 9989 §4.10 steps 2 and 6
        organizational = select_organizational_domain(
            domain, [(name, lk.psd) for name, lk in found.items()]
        )
        own = lookups[0]
        policy_domain: str | None = None
        if domain in found:
            policy_domain = domain
        elif organizational in found:
            policy_domain = organizational
        else:  # the Public Suffix Domain's record, when the walk met one
            policy_domain = next((n for n, lk in found.items() if lk.psd == "y"), None)

        issues: list[DmarcRecordIssue] = []
        for text in own.records:
            try:
                parse_cached(text)
            except RecordSyntaxError as exc:
                tag = exc.tag if isinstance(exc, DmarcDuplicateTagError) else "v"
                issues.append(
                    DmarcRecordIssue(own.name, text, exc.message, exc.position, tag, True)
                )
        if policy_domain is None:
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
                soa = await ctx.resolver.resolve(domain, RRType.SOA)
                exists = not soa.nxdomain
        policy, source = effective_policy(
            record, record_issues, inherited=inherited, domain_exists=exists
        )
        destinations, unchecked = await report_destinations(ctx, policy_domain, record.report_uris)
        return DmarcResult(
            domain=domain,
            record=record_text,
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
        )

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
