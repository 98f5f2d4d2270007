"""Findings about where a DMARC record sends its reports (RFC 9989 §4.7, RFC 9990): pure,
like the rest of the judgement (evaluate.py)."""

from __future__ import annotations

from ...findings import dmarc as F
from ...model import Finding
from ...records.orgdomain import psl_organizational_domain
from .notes import unchecked_authorization_findings
from .proposals import MAX_FINDINGS_PER_KIND, DmarcProposals
from .remediation import add_change, proposable, zone_txt_line

__all__ = ["reporting_findings"]


def reporting_findings(judged: DmarcProposals) -> list[Finding]:
    """The report addresses: a policy without rua=, URIs receivers discard (not mailto:,
    the removed !size), and external destinations that have not authorised the reports
    (RFC 9990 §3), or whose authorisation could not be checked."""
    out: list[Finding] = []
    facts, record = judged.facts, judged.record
    assert record is not None
    evidence = (facts.record or "",)
    if not record.rua:
        out.append(
            F.NO_RUA(
                domain=judged.domain,
                record_name=judged.record_name,
                zone_line=judged.line({"rua": judged.rua_or_default()}),
                changes=judged.change({"rua": judged.rua_or_default()}),
                evidence=evidence,
            )
        )
    not_mailto = 0
    for uri in record.report_uris:
        kind = "aggregate" if uri.tag == "rua" else "failure"
        if not proposable(uri):
            not_mailto += 1
            if not_mailto > MAX_FINDINGS_PER_KIND:
                continue
            out.append(
                F.REPORT_URI_NOT_MAILTO(
                    record_name=judged.record_name,
                    kind=kind,
                    uri=uri.uri,
                    zone_line=judged.line({uri.tag: judged.uris_or_default(uri.tag)}),
                    changes=judged.change({uri.tag: judged.uris_or_default(uri.tag)}),
                    evidence=evidence,
                )
            )
        if uri.max_size is not None:
            size = record.text[uri.position :].split(",", 1)[0].split(";", 1)[0]
            out.append(
                F.OBSOLETE_REPORT_SIZE(
                    record_name=judged.record_name,
                    uri=uri.uri,
                    size=size.partition("!")[2].strip(),
                    zone_line=judged.line({uri.tag: judged.uris_without_size(uri.tag)}),
                    changes=judged.change({uri.tag: judged.uris_without_size(uri.tag)}),
                    evidence=evidence,
                )
            )
    policy_org = psl_organizational_domain(judged.policy_domain)
    for dest in facts.report_destinations:
        if dest.external and dest.authorized is False and dest.authorization_name:
            out.append(
                F.REPORT_DESTINATION_UNAUTHORIZED(
                    record_name=judged.record_name,
                    kind="aggregate" if dest.tag == "rua" else "failure",
                    address=dest.address or dest.uri,
                    policy_org_domain=policy_org,
                    authorization_name=dest.authorization_name,
                    destination_domain=dest.domain,
                    zone_line=zone_txt_line(dest.authorization_name, "v=DMARC1"),
                    changes=[add_change(dest.authorization_name, "v=DMARC1")],
                    evidence=(facts.record or "", *dest.authorization_records),
                )
            )

    out.extend(unchecked_authorization_findings(facts, judged.record_name, policy_org))
    return out
