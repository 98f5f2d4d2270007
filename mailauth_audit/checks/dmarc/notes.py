"""Findings about what the DMARC check could not look at: lookups that got no answer and
report destinations past the per-domain cap. Pure, like evaluate.py; none of these is ever a
statement that a record is missing or a destination unauthorised."""

from __future__ import annotations

from ...findings import dmarc as F
from ...model import Finding
from ...records.orgdomain import psl_organizational_domain
from .result import DmarcResult

__all__ = ["MAX_FAILURE_FINDINGS", "lookup_failure_findings", "unchecked_authorization_findings"]

MAX_FAILURE_FINDINGS = 10  # the walk asks at most 8 names; a hostile record cannot add more


def lookup_failure_findings(facts: DmarcResult, record_name: str) -> list[Finding]:
    """One info finding per failed tree-walk or existence lookup, one for all failed
    authorisation lookups (check.py keeps only failures that could not change the policy)."""
    out: list[Finding] = []
    domain = facts.domain
    walk = [f for f in facts.failed_lookups if f.kind == "tree_walk"]
    for failure in walk[:MAX_FAILURE_FINDINGS]:
        consequence = (
            f"The policy for {domain} comes from {record_name}, which no answer there could change"
        )
        if facts.organizational_domain_complete:
            consequence += f", nor the Organizational Domain ({facts.organizational_domain})."
        else:
            consequence += (
                f"; the Organizational Domain shown ({facts.organizational_domain}) was chosen "
                "without it and could differ, so its comparison with the Public Suffix List's "
                "is not reported."
            )
        out.append(
            F.TREE_WALK_LOOKUP_FAILED(
                domain=domain,
                name=failure.name,
                error=failure.message,
                consequence=consequence,
                evidence=(f"{failure.name} TXT: {failure.reason}",),
            )
        )
    for failure in facts.failed_lookups:
        if failure.kind == "existence":
            out.append(
                F.EXISTENCE_LOOKUP_FAILED(
                    domain=domain,
                    error=failure.message,
                    record_name=record_name,
                    policy=facts.effective_policy or "none",
                    evidence=(f"{failure.name} SOA: {failure.reason}",),
                )
            )
    auth = [f for f in facts.failed_lookups if f.kind == "report_authorization"]
    if auth:
        shown = [f"{f.name}: {f.reason}" for f in auth[:5]]
        more = len(auth) - len(shown)
        out.append(
            F.REPORT_AUTHORIZATION_LOOKUP_FAILED(
                count=len(auth),
                record_name=record_name,
                examples=", ".join(shown) + (f" and {more} more" if more > 0 else ""),
                policy_org_domain=psl_organizational_domain(facts.policy_domain or domain),
                evidence=tuple(f"{f.name} TXT: {f.message}" for f in auth[:10]),
            )
        )
    return out


def unchecked_authorization_findings(
    facts: DmarcResult, record_name: str, policy_org: str
) -> list[Finding]:
    """The destinations the per-domain cap left unasked (Limits.max_report_authorizations)."""
    if not facts.report_authorizations_unchecked:
        return []
    dests = facts.report_destinations
    unchecked = [
        d
        for d in dests
        if d.external and not d.authorization_checked and d.authorization_error is None
    ]
    checked = sum(1 for d in dests if d.authorization_checked)
    shown = [d.address or d.uri for d in unchecked[:5]]
    more = facts.report_authorizations_unchecked - len(shown)
    return [
        F.REPORT_AUTHORIZATION_NOT_CHECKED(
            record_name=record_name,
            external=sum(1 for d in dests if d.external),
            policy_org_domain=policy_org,
            checked=checked,
            unchecked=facts.report_authorizations_unchecked,
            examples=", ".join(shown) + (f" and {more} more" if more > 0 else ""),
            evidence=tuple(d.authorization_name or d.uri for d in unchecked[:10]),
        )
    ]
