"""Judging DMARC facts: pure, so saved facts can be re-judged without DNS (RFC 9989,
RFC 7489; reporting authorisation RFC 9990). The corrected records the findings propose are
proposals.py's; the findings about report destinations are report_findings.py's."""

from __future__ import annotations

from typing import Any

from ...findings import dmarc as F
from ...model import Finding, Severity
from ...records.dmarc import DMARC_REMOVED_TAGS, DmarcPolicy
from ...records.orgdomain import dmarc_name
from .notes import lookup_failure_findings
from .proposals import MAX_FINDINGS_PER_KIND, DmarcProposals
from .remediation import (
    add_change,
    edited,
    one_of_many,
    propose_record,
    repair,
    replace_change,
    zone_txt_line,
)
from .report_findings import reporting_findings
from .result import DmarcRecordIssue, DmarcResult

__all__ = ["MAX_FINDINGS_PER_KIND", "Judge"]

_WEAKER = {"reject": "quarantine", "quarantine": "none", "none": "none"}


class Judge(DmarcProposals):
    """Turns one DmarcResult into findings; a class only to share the parsed record."""

    def __init__(self, facts: DmarcResult) -> None:
        super().__init__(facts)
        self.out: list[Finding] = []

    def findings(self) -> list[Finding]:
        self.own_name_problems()
        self.syntax()
        if self.facts.record is None or self.record is None:
            if not self.facts.records_found:
                self.out.append(
                    F.MISSING(
                        domain=self.domain,
                        record_name=self.own_name,
                        path=", ".join(self.facts.discovery_path),
                        zone_line=self.starter_lines(),
                        # a policy now; the report mailbox, the owner's to name, apart
                        changes=[
                            change
                            for d in self.starter_domains()
                            for change in (
                                add_change(dmarc_name(d), "v=DMARC1; p=none"),
                                add_change(
                                    dmarc_name(d),
                                    self.starter_record(),
                                    fixes=(F.MISSING.code, F.NO_RUA.code),
                                ),
                            )
                        ],
                    )
                )
            return self.out
        self.inheritance()
        self.out.extend(lookup_failure_findings(self.facts, self.record_name))
        self.policy()
        self.subdomain_policies()
        self.tags()
        self.out.extend(reporting_findings(self))
        self.organizational_domain()
        return self.out

    def own_name_problems(self) -> None:
        own = self.facts.lookups[0] if self.facts.lookups else None
        if own is not None and own.valid_count > 1:
            kept, changes = one_of_many(own.name, own.records, own.ttl)
            self.out.append(
                F.MULTIPLE_RECORDS(
                    domain=self.domain,
                    record_name=own.name,
                    count=own.valid_count,
                    zone_line=zone_txt_line(own.name, kept),
                    evidence=own.records,
                    changes=changes,
                )
            )

    def syntax(self) -> None:
        uri_count = other_count = 0
        for issue in self.facts.syntax_issues:
            if issue.fatal:
                fix = propose_record(repair(issue.record))
            elif issue.record == self.facts.record and self.record is not None:
                fix = self.proposal()  # every value receivers discard taken out
            elif issue.tag in ("rua", "ruf") and self.record is not None:
                uris = [u.uri for u in self.record.report_uris if u.tag == issue.tag]
                fix = edited(issue.record, {issue.tag: ",".join(uris) or None})
            elif issue.tag == "p":  # receivers act as if p=none (RFC 9989 §4.10.1)
                fix = edited(issue.record, {"p": "none"})
            elif issue.tag is not None:
                fix = edited(issue.record, {issue.tag: None})
            else:
                fix = propose_record(self.record)
            zone_line = zone_txt_line(issue.record_name, fix)
            common: dict[str, Any] = {
                "record_name": issue.record_name,
                "message": issue.message,
                "position": issue.position,
                "zone_line": zone_line,
                "evidence": (issue.record,),
                "changes": replace_change(
                    issue.record_name, issue.record, fix, self.ttl_at(issue.record_name)
                ),
            }
            if issue.tag in ("rua", "ruf") and not issue.fatal:
                uri_count += 1
                if uri_count <= MAX_FINDINGS_PER_KIND:
                    kind = "aggregate" if issue.tag == "rua" else "failure"
                    self.out.append(F.INVALID_REPORT_URI(kind=kind, **common))
                continue
            other_count += 1
            if other_count > MAX_FINDINGS_PER_KIND:
                continue
            severity, consequence = self.syntax_impact(issue)
            self.out.append(F.SYNTAX_ERROR(severity=severity, consequence=consequence, **common))

    def syntax_impact(self, issue: DmarcRecordIssue) -> tuple[Severity, str]:
        if issue.fatal:
            if self.facts.record is None:
                return Severity.HIGH, (
                    f"Receivers ignore this record entirely, so {self.domain} has no usable "
                    "DMARC policy."
                )
            if self.facts.inherited and issue.record_name == self.own_name:
                return Severity.HIGH, (
                    "Receivers ignore this record entirely and apply the policy at "
                    f"{self.record_name} instead."
                )
            return Severity.HIGH, "Receivers ignore this record entirely."
        record = self.record
        policy_fields = {
            "p": record.policy if record else None,
            "sp": record.subdomain_policy if record else None,
            "np": record.nonexistent_subdomain_policy if record else None,
        }
        if issue.tag in policy_fields and policy_fields[issue.tag] is None:
            if record is not None and record.rua:
                return Severity.HIGH, "Receivers treat the whole record as p=none."
            return Severity.HIGH, "Receivers apply no DMARC policy at all."
        if issue.tag in DMARC_REMOVED_TAGS:
            return Severity.LOW, "The tag is discarded (RFC 9989 removed it in any case)."
        if issue.tag is None:
            return Severity.LOW, "Receivers skip this part of the record."
        return Severity.MEDIUM, "Receivers ignore this tag and use its default."

    def inheritance(self) -> None:
        facts = self.facts
        if not facts.inherited:
            return
        tag = facts.effective_policy_source or "p"
        policy = facts.effective_policy or "none"
        self.out.append(
            F.INHERITED_POLICY(
                domain=self.domain,
                record_name=self.record_name,
                tag=tag,
                effective_policy=policy,
                # optional ("nothing to do if the parent's policy fits"): no record proposed
                evidence=(facts.record or "",),
            )
        )

    def policy(self) -> None:
        facts, record = self.facts, self.record
        assert record is not None
        evidence = (facts.record or "",)
        p_invalid = any(i.tag == "p" for i in self.issues) and record.policy is None
        if record.policy is None and not p_invalid:
            severity = Severity.HIGH if facts.effective_policy is None else Severity.MEDIUM
            consequence = (
                "Receivers treat it as p=none because it has an aggregate report address."
                if facts.effective_policy is not None
                else "With no valid rua= either, receivers apply no DMARC policy at all."
            )
            self.out.append(
                F.POLICY_MISSING(
                    severity=severity,
                    record_name=self.record_name,
                    consequence=consequence,
                    zone_line=self.line({"p": "none", "rua": self.rua_or_default()}),
                    changes=self.change({"p": "none", "rua": self.rua_or_default()}),
                    evidence=evidence,
                )
            )
        source = facts.effective_policy_source
        if source not in ("p", "sp", "np"):
            return
        tag_text = f"{source}={facts.effective_policy} at {self.record_name}"
        if facts.effective_policy == "none":
            self.out.append(
                F.POLICY_NONE(
                    domain=self.domain,
                    source=tag_text,
                    zone_line=self.line({source: "quarantine"}),
                    changes=self.change({source: "quarantine"}),
                    evidence=evidence,
                )
            )
        elif facts.effective_policy == "quarantine":
            self.out.append(
                F.POLICY_QUARANTINE(
                    domain=self.domain,
                    source=tag_text,
                    zone_line=self.line({source: "reject"}),
                    changes=self.change({source: "reject"}),
                    evidence=evidence,
                )
            )

    def subdomain_policies(self) -> None:
        record = self.record
        assert record is not None
        evidence = (self.facts.record or "",)
        p, sp, np = record.policy, record.subdomain_policy, record.nonexistent_subdomain_policy
        if p is not None and sp is not None and sp.strength < p.strength:
            self.out.append(
                F.SUBDOMAIN_POLICY_WEAKER(
                    severity=Severity.MEDIUM if sp is DmarcPolicy.NONE else Severity.LOW,
                    record_name=self.record_name,
                    policy=p.value,
                    subdomain_policy=sp.value,
                    policy_domain=self.policy_domain,
                    zone_line=self.line({"sp": None}),
                    changes=self.change({"sp": None}),
                    evidence=evidence,
                )
            )
        sub = sp or p
        if sub is None:
            return
        if np is not None and np.strength < sub.strength:
            self.out.append(
                F.NP_WEAKER(
                    record_name=self.record_name,
                    np=np.value,
                    subdomain_effective=sub.value,
                    zone_line=self.line({"np": "reject"}),
                    changes=self.change({"np": "reject"}),
                    evidence=evidence,
                )
            )
        at_top = self.policy_domain == self.facts.organizational_domain or record.psd == "y"
        if np is None and sub is not DmarcPolicy.REJECT and at_top:
            self.out.append(
                F.NP_ABSENT(
                    record_name=self.record_name,
                    policy_domain=self.policy_domain,
                    subdomain_effective=f"{'sp' if sp else 'p'}={sub}",
                    zone_line=self.line({"np": "reject"}),
                    changes=self.change({"np": "reject"}),
                    evidence=evidence,
                )
            )

    def tags(self) -> None:
        facts, record = self.facts, self.record
        assert record is not None
        evidence = (facts.record or "",)
        if record.testing and facts.effective_policy not in (None, "none"):
            policy = facts.effective_policy or "none"
            self.out.append(
                F.TESTING_MODE(
                    record_name=self.record_name,
                    policy=policy,
                    applied=_WEAKER[policy],
                    zone_line=self.line({"t": None}),
                    changes=self.change({"t": None}),
                    evidence=evidence,
                )
            )
        for name in record.removed_tags:
            tag = record.tag(name)
            self.out.append(
                F.REMOVED_TAG(
                    record_name=self.record_name,
                    tag=name,
                    value=tag.value if tag else "",
                    zone_line=self.line({name: None}),
                    changes=self.change({name: None}),
                    evidence=evidence,
                )
            )
        pct = record.percentage
        if pct is not None and pct < 100 and facts.effective_policy not in (None, "none"):
            self.out.append(
                F.PCT_PARTIAL(
                    record_name=self.record_name,
                    pct=pct,
                    policy=facts.effective_policy,
                    zone_line=self.line({"pct": None}),
                    changes=self.change({"pct": None}),
                    evidence=evidence,
                )
            )
        if "s" in (record.adkim, record.aspf):
            mechanisms = " and ".join(
                name for name, mode in (("DKIM", record.adkim), ("SPF", record.aspf)) if mode == "s"
            )
            self.out.append(
                F.STRICT_ALIGNMENT(
                    record_name=self.record_name,
                    mechanisms=mechanisms,
                    policy_domain=self.policy_domain,
                    zone_line=self.line({"adkim": None, "aspf": None}),
                    changes=self.change({"adkim": None, "aspf": None}),
                    evidence=evidence,
                )
            )
        for tag in record.unknown_tags[:MAX_FINDINGS_PER_KIND]:
            self.out.append(
                F.UNKNOWN_TAG(
                    record_name=self.record_name,
                    tag=repr(tag.name if len(tag.name) <= 40 else tag.name[:40] + "…"),
                    zone_line=self.line({tag.name.lower(): None}),
                    changes=self.change({tag.name.lower(): None}),
                    evidence=evidence,
                )
            )

    def organizational_domain(self) -> None:
        facts = self.facts
        if facts.organizational_domain == facts.psl_organizational_domain:
            return
        if not facts.organizational_domain_complete:  # a failed lookup could move it
            return
        self.out.append(
            F.ORGANIZATIONAL_DOMAIN_DIFFERS(
                domain=self.domain,
                organizational_domain=facts.organizational_domain,
                psl_organizational_domain=facts.psl_organizational_domain,
                zone_line=zone_txt_line(
                    dmarc_name(facts.psl_organizational_domain),
                    propose_record(self.record, {"psd": None}),
                ),
                evidence=(facts.record or "",),
            )
        )
