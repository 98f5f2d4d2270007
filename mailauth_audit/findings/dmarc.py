"""DMARC findings (RFC 9989, which obsoletes RFC 7489; reporting authorisation RFC 9990).

Section numbers of RFC 9989 follow its final text: §4.7 tags, §4.8 formal definition, §4.10
DNS Tree Walk, §4.10.1 policy discovery, §4.10.2 Organizational Domain, Appendix A.6 and C.5.2
removed tags.
"""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_C = CheckId.DMARC

MISSING = FindingSpec(
    code="dmarc.missing",
    severity=Severity.HIGH,
    check=_C,
    title="No DMARC record",
    detail=(
        "No DMARC record applies to {domain}: none at {record_name}, and the DNS tree walk "
        "({path}) found none to inherit. Receivers apply no DMARC policy, so anyone can send "
        "mail that claims to come from {domain}."
    ),
    remediation=(
        "Publish a DMARC record in monitoring mode first, with a mailbox for the aggregate "
        "reports:\n{zone_line}\nRead the reports for a few weeks, fix unaligned senders, then "
        "move to p=quarantine and finally p=reject."
    ),
    references=("RFC 9989 §5.1.4", "RFC 9989 §4.10.1", "RFC 7489 §6.1"),
)

MULTIPLE_RECORDS = FindingSpec(
    code="dmarc.multiple_records",
    severity=Severity.HIGH,
    check=_C,
    title="More than one DMARC record at the same name",
    detail=(
        "{record_name} publishes {count} DMARC records. Receivers discard them all and act as "
        "if {domain} published none."
    ),
    remediation=(
        "Delete all but one TXT record at {record_name}. Keep a single record, for example:\n"
        "{zone_line}"
    ),
    references=("RFC 9989 §4.10", "RFC 7489 §6.6.3"),
)

SYNTAX_ERROR = FindingSpec(
    code="dmarc.syntax_error",
    severity=Severity.HIGH,
    check=_C,
    title="DMARC record syntax error",
    detail="{record_name}: {message} (at character {position}). {consequence}",
    remediation="Correct the record at {record_name}; for example:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §4.8"),
)

INVALID_REPORT_URI = FindingSpec(
    code="dmarc.invalid_report_uri",
    severity=Severity.MEDIUM,
    check=_C,
    title="Invalid DMARC report address",
    detail=(
        "{record_name}: {message} (at character {position}). Receivers skip this address, "
        "so no {kind} reports are sent to it."
    ),
    remediation=(
        "Write each report address as mailto:local-part@domain, separated by commas, e.g.:\n"
        "{zone_line}"
    ),
    references=("RFC 9989 §4.7", "RFC 9989 §4.8", "RFC 6068"),
)

POLICY_MISSING = FindingSpec(
    code="dmarc.policy_missing",
    severity=Severity.MEDIUM,
    check=_C,
    title="DMARC record has no p= policy",
    detail=("The record at {record_name} has no p= tag. {consequence}"),
    remediation="Add an explicit policy, for example:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §4.10.1"),
)

POLICY_NONE = FindingSpec(
    code="dmarc.policy_none",
    severity=Severity.MEDIUM,
    check=_C,
    title="DMARC policy is none (monitoring only)",
    detail=(
        "The DMARC policy that applies to {domain} is none ({source}). Receivers deliver mail "
        "that fails DMARC as if there were no policy; only reports are produced."
    ),
    remediation=(
        "Once the aggregate reports show that all legitimate mail passes DMARC, move to "
        "enforcement, first quarantine and then reject:\n{zone_line}"
    ),
    references=("RFC 9989 §4.7", "RFC 9989 §5.1.7"),
)

POLICY_QUARANTINE = FindingSpec(
    code="dmarc.policy_quarantine",
    severity=Severity.LOW,
    check=_C,
    title="DMARC policy is quarantine, not reject",
    detail=(
        "The DMARC policy that applies to {domain} is quarantine ({source}): mail that fails "
        "DMARC still reaches spam folders."
    ),
    remediation="When the reports show no legitimate failures, move to reject:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §5.1.7"),
)

SUBDOMAIN_POLICY_WEAKER = FindingSpec(
    code="dmarc.subdomain_policy_weaker",
    severity=Severity.MEDIUM,
    check=_C,
    title="Subdomain policy (sp) is weaker than the domain policy",
    detail=(
        "{record_name} sets p={policy} but sp={subdomain_policy}: mail forged from any "
        "existing subdomain of {policy_domain} gets the weaker treatment."
    ),
    remediation=(
        "Remove sp= (subdomains then get p) or raise it, unless a subdomain genuinely needs "
        "monitoring mode:\n{zone_line}"
    ),
    references=("RFC 9989 §4.7", "RFC 9989 §4.10.1"),
)

NP_WEAKER = FindingSpec(
    code="dmarc.np_weaker",
    severity=Severity.LOW,
    check=_C,
    title="Non-existent subdomain policy (np) is weaker than the subdomain policy",
    detail=(
        "{record_name} sets np={np} while existing subdomains get {subdomain_effective}: "
        "names that do not even exist in DNS get the weaker treatment."
    ),
    remediation=("Non-existent names never send legitimate mail; set np=reject:\n{zone_line}"),
    references=("RFC 9989 §4.7", "RFC 9989 §3.2.13"),
)

NP_ABSENT = FindingSpec(
    code="dmarc.np_absent",
    severity=Severity.INFO,
    check=_C,
    title="No np= policy for non-existent subdomains",
    detail=(
        "{record_name} has no np= tag, so non-existent subdomains of {policy_domain} get "
        "{subdomain_effective}. Names that do not exist send no legitimate mail, so they can "
        "be rejected even while the domain itself is still in monitoring mode."
    ),
    remediation="Add np=reject:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §3.2.13"),
)

TESTING_MODE = FindingSpec(
    code="dmarc.testing_mode",
    severity=Severity.LOW,
    check=_C,
    title="DMARC policy is in testing mode (t=y)",
    detail=(
        "{record_name} sets t=y: receivers apply one level less than the published policy "
        "({policy} is treated as {applied})."
    ),
    remediation="Remove t=y once testing is over:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 Appendix A.6"),
)

REMOVED_TAG = FindingSpec(
    code="dmarc.removed_tag",
    severity=Severity.INFO,
    check=_C,
    title="DMARC record uses a tag removed by RFC 9989",
    detail=(
        "{record_name} uses {tag}={value}. RFC 9989 removed {tag}; RFC 9989 receivers ignore "
        "it while RFC 7489 receivers may still honour it."
    ),
    remediation="Remove {tag}= from the record:\n{zone_line}",
    references=("RFC 9989 Appendix C.5.2", "RFC 9989 Appendix A.6", "RFC 7489 §6.3"),
)

PCT_PARTIAL = FindingSpec(
    code="dmarc.pct_partial",
    severity=Severity.MEDIUM,
    check=_C,
    title="DMARC policy applies to only part of the failing mail (pct < 100)",
    detail=(
        "{record_name} sets pct={pct}: RFC 7489 receivers apply {policy} to only {pct}% of "
        "the mail that fails DMARC. RFC 9989 removed pct; use t=y for a staged roll-out."
    ),
    remediation="Remove pct= so the policy applies to all failing mail:\n{zone_line}",
    references=("RFC 7489 §6.3", "RFC 9989 Appendix A.6"),
)

NO_RUA = FindingSpec(
    code="dmarc.no_rua",
    severity=Severity.LOW,
    check=_C,
    title="No aggregate report address (rua)",
    detail=(
        "{record_name} has no usable rua= address, so receivers send no aggregate reports: "
        "failures of legitimate senders and forgeries of {domain} go unnoticed."
    ),
    remediation="Add a mailbox for aggregate reports:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §5.1.3", "RFC 9990"),
)

REPORT_URI_NOT_MAILTO = FindingSpec(
    code="dmarc.report_uri_not_mailto",
    severity=Severity.LOW,
    check=_C,
    title="DMARC report address is not a mailto: URI",
    detail=(
        "{record_name} asks for {kind} reports at {uri}. Receivers must support mailto: and "
        "ignore schemes they do not support, so most will send nothing there. The records "
        "proposed in this report leave this address out."
    ),
    remediation="Use a mailto: address, for example:\n{zone_line}",
    references=("RFC 9989 §4.7",),
)

OBSOLETE_REPORT_SIZE = FindingSpec(
    code="dmarc.obsolete_report_size",
    severity=Severity.INFO,
    check=_C,
    title="Report address carries an obsolete size limit (!size)",
    detail=(
        "{record_name}: the report address {uri} ends in !{size}. RFC 9989 made this syntax "
        "obsolete and tells reporters to ignore it."
    ),
    remediation="Drop the !size suffix:\n{zone_line}",
    references=("RFC 9989 §4.8", "RFC 7489 §6.2"),
)

REPORT_DESTINATION_UNAUTHORIZED = FindingSpec(
    code="dmarc.report_destination_unauthorized",
    severity=Severity.MEDIUM,
    check=_C,
    title="External report destination has not authorised the reports",
    detail=(
        "{record_name} sends {kind} reports to {address}, outside {policy_org_domain}, but no "
        "TXT record starting v=DMARC1 exists at {authorization_name}. Receivers that verify "
        "external destinations will not send these reports."
    ),
    remediation=(
        "The operator of {destination_domain} must publish (or, if reports should not go "
        "there, change the address):\n{zone_line}"
    ),
    references=("RFC 9990", "RFC 9989 §11.6", "RFC 7489 §7.1"),
)

REPORT_AUTHORIZATION_NOT_CHECKED = FindingSpec(
    code="dmarc.report_authorization_not_checked",
    severity=Severity.LOW,
    check=_C,
    title="Some external report destinations were not checked for authorisation",
    detail=(
        "{record_name} names {external} report addresses outside {policy_org_domain}. Only "
        "the first {checked} were checked for an authorisation record; {unchecked} were not "
        "({examples}), so whether receivers will send reports there is unknown."
    ),
    remediation=(
        "List only the few report mailboxes you read: receivers may send to a limited number "
        "of addresses, and each external one needs its own authorisation record "
        '(<policy-domain>._report._dmarc.<host> TXT "v=DMARC1"). Audit again with a higher '
        "`max_report_authorizations` limit to check them all."
    ),
    references=("RFC 9990", "RFC 7489 §6.2", "RFC 7489 §7.1"),
)

INHERITED_POLICY = FindingSpec(
    code="dmarc.inherited_policy",
    severity=Severity.INFO,
    check=_C,
    title="DMARC policy inherited from a parent domain",
    detail=(
        "{domain} publishes no DMARC record of its own; the DNS tree walk found the record "
        "at {record_name}, whose {tag} policy ({effective_policy}) applies to {domain}."
    ),
    # no record proposed: the parent's policy applies, and may be the one wanted
    remediation=(
        "Nothing to do if the parent's policy fits. For a policy specific to {domain}, "
        "publish a DMARC record of its own at _dmarc.{domain}."
    ),
    references=("RFC 9989 §4.10.1", "RFC 7489 §6.6.3"),
)

STRICT_ALIGNMENT = FindingSpec(
    code="dmarc.strict_alignment",
    severity=Severity.INFO,
    check=_C,
    title="Strict identifier alignment",
    detail=(
        "{record_name} requires strict alignment for {mechanisms}: mail authenticated by a "
        "subdomain (for example a bounce domain or DKIM d= of a subdomain) fails DMARC."
    ),
    remediation=(
        "Keep strict alignment only if every sender signs and bounces with exactly "
        "{policy_domain}; otherwise remove adkim=s / aspf=s:\n{zone_line}"
    ),
    references=("RFC 9989 §4.4", "RFC 9989 §4.7"),
)

UNKNOWN_TAG = FindingSpec(
    code="dmarc.unknown_tag",
    severity=Severity.INFO,
    check=_C,
    title="Unknown tag in DMARC record",
    detail=(
        "{record_name} contains the tag {tag}, which DMARC does not define; receivers ignore "
        "it. A misspelt tag means its setting is lost."
    ),
    remediation="Remove or correct the tag:\n{zone_line}",
    references=("RFC 9989 §4.7", "RFC 9989 §9.3"),
)

ORGANIZATIONAL_DOMAIN_DIFFERS = FindingSpec(
    code="dmarc.organizational_domain_differs",
    severity=Severity.INFO,
    check=_C,
    title="RFC 9989 and RFC 7489 disagree on the Organizational Domain",
    detail=(
        "The RFC 9989 DNS tree walk makes {organizational_domain} the Organizational Domain "
        "of {domain}; the Public Suffix List (RFC 7489) makes it {psl_organizational_domain}. "
        "Older receivers may look up a different policy and judge alignment differently."
    ),
    remediation=(
        "Publish the same policy at both names so that old and new receivers agree:\n{zone_line}"
    ),
    references=("RFC 9989 §4.10.2", "RFC 7489 §3.2"),
)

TREE_WALK_LOOKUP_FAILED = FindingSpec(
    code="dmarc.tree_walk_lookup_failed",
    severity=Severity.INFO,
    check=_C,
    title="A DNS lookup above the domain got no answer; the verdict does not depend on it",
    detail=("The DNS tree walk asked {name} (TXT) and got no answer: {error}. {consequence}"),
    remediation=(
        "Nothing to change in {domain}'s zone. If the failure persists, check the resolver "
        "given with --nameserver: it must answer for names outside the audited zone."
    ),
    references=("RFC 9989 §4.10", "RFC 9989 §4.10.2"),
)

EXISTENCE_LOOKUP_FAILED = FindingSpec(
    code="dmarc.existence_lookup_failed",
    severity=Severity.INFO,
    check=_C,
    title="Whether the domain exists is unknown; the policy is the same either way",
    detail=(
        "The SOA lookup for {domain}, which chooses between the sp and np policies, got no "
        "answer: {error}. {record_name} gives {domain} the {policy} policy in both cases."
    ),
    remediation="Nothing to change: the policy that applies does not depend on this answer.",
    references=("RFC 9989 §4.10.1", "RFC 8020"),
)

REPORT_AUTHORIZATION_LOOKUP_FAILED = FindingSpec(
    code="dmarc.report_authorization_lookup_failed",
    severity=Severity.INFO,
    check=_C,
    title="Authorisation of some external report destinations could not be checked",
    detail=(
        "{count} authorisation lookup(s) for report addresses named by {record_name} got no "
        "answer ({examples}). Those destinations are not checked: whether they accept "
        "reports for {policy_org_domain} is unknown (not that they refuse)."
    ),
    remediation=(
        "Audit again when the destinations' DNS answers; each external destination needs "
        '<policy-domain>._report._dmarc.<host> TXT "v=DMARC1".'
    ),
    references=("RFC 9990", "RFC 7489 §7.1"),
)
