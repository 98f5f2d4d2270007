"""MTA-STS findings (RFC 8461): the `_mta-sts` TXT record, the policy served over HTTPS, and
whether the domain's MX hosts can meet it."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_C = CheckId.MTA_STS
_CACHED = (
    "Senders that cached an earlier policy keep applying it until its max_age runs out; "
    "every other sender delivers as if {domain} had no MTA-STS."
)

NOT_DEPLOYED = FindingSpec(
    code="mta_sts.not_deployed",
    severity=Severity.INFO,
    check=_C,
    title="No MTA-STS: senders may deliver without TLS",
    detail=(
        "{txt_name} holds no MTA-STS record, so senders deliver to {domain} with "
        "opportunistic TLS: an attacker on the path can strip STARTTLS or present any "
        "certificate."
    ),
    # no record proposed: the TXT record must follow the policy, which only the owner can
    # serve (a record announcing a policy nobody serves is what the other codes report)
    remediation=(
        "Serve a policy at https://mta-sts.{domain}/.well-known/mta-sts.txt (start with "
        "mode: testing); once it is served, publish the MTA-STS TXT record at {txt_name} "
        "with the policy's id."
    ),
    references=("RFC 8461 §3", "RFC 8461 §5"),
)

RECORD_IGNORED = FindingSpec(
    code="mta_sts.record_ignored",
    severity=Severity.MEDIUM,
    check=_C,
    title="MTA-STS record ignored: it does not begin with v=STSv1",
    detail=(
        "{txt_name} holds {record!r}, which looks like an MTA-STS record, but senders "
        "discard every record that does not begin with exactly 'v=STSv1' (case-sensitive). "
        "{domain} has no MTA-STS for them."
    ),
    remediation="Replace it with\n{zone_line}",
    references=("RFC 8461 §3.1",),
)

MULTIPLE_RECORDS = FindingSpec(
    code="mta_sts.multiple_records",
    severity=Severity.HIGH,
    check=_C,
    title="More than one MTA-STS record",
    detail=(
        "{txt_name} publishes {count} records beginning with v=STSv1; senders then treat "
        "{domain} as having no MTA-STS. " + _CACHED
    ),
    remediation="Keep exactly one, e.g.\n{zone_line}",
    references=("RFC 8461 §3.1",),
)

RECORD_SYNTAX_ERROR = FindingSpec(
    code="mta_sts.record_syntax_error",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS record syntax error",
    detail="{txt_name}: {message} (at character {position}). " + _CACHED,
    remediation="Publish a valid record, e.g.\n{zone_line}",
    references=("RFC 8461 §3.1",),
)

RECORD_NOTES = FindingSpec(
    code="mta_sts.record_notes",
    severity=Severity.INFO,
    check=_C,
    title="MTA-STS record has fields senders ignore",
    detail="{txt_name}: {notes}. Senders ignore these and use only id.",
    remediation="Nothing is required; a clean record is\n{zone_line}",
    references=("RFC 8461 §3.1",),
)

POLICY_UNREACHABLE = FindingSpec(
    code="mta_sts.policy_unreachable",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy cannot be fetched",
    detail="{domain} publishes an MTA-STS record, but {url} cannot be fetched: {reason}. "
    + _CACHED,
    remediation=(
        "Serve the policy at {url} over HTTPS (port 443) from a host with an A or AAAA "
        "record, or remove the TXT record at {txt_name} if MTA-STS is not wanted."
    ),
    references=("RFC 8461 §3.3",),
)

POLICY_CERTIFICATE_INVALID = FindingSpec(
    code="mta_sts.policy_certificate_invalid",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy host's certificate is refused",
    detail=(
        "{url} ({address}): {reason}. Senders fetch the policy only with a certificate valid "
        "for {host} that chains to a trusted root, so they never get it. " + _CACHED
    ),
    remediation=(
        "Install a certificate for {host} from a public CA (e.g. Let's Encrypt), with the "
        "full chain."
    ),
    references=("RFC 8461 §3.3",),
)

POLICY_REDIRECT = FindingSpec(
    code="mta_sts.policy_redirect",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy URL answers with a redirect",
    detail=(
        "{url} ({address}) answers {reason}. Senders must not follow redirects when "
        "fetching the policy, so they never get it. " + _CACHED
    ),
    remediation="Serve the policy itself at {url} with status 200, without a redirect.",
    references=("RFC 8461 §3.3",),
)

POLICY_HTTP_STATUS = FindingSpec(
    code="mta_sts.policy_http_status",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy URL does not answer 200",
    detail="{url} ({address}) answers {reason}; senders accept only 200. " + _CACHED,
    remediation="Serve the policy at {url} with status 200.",
    references=("RFC 8461 §3.3",),
)

POLICY_CONTENT_TYPE = FindingSpec(
    code="mta_sts.policy_content_type",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy is not served as text/plain",
    detail="{url} ({address}): {reason}; senders refuse it. " + _CACHED,
    remediation="Serve {url} with the header `Content-Type: text/plain`.",
    references=("RFC 8461 §3.3",),
)

POLICY_TOO_LARGE = FindingSpec(
    code="mta_sts.policy_too_large",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy is larger than senders read",
    detail=(
        "{url} ({address}): {reason}. Senders limit the policy's size (64 KiB is the "
        "suggested bound) and refuse a larger one. " + _CACHED
    ),
    remediation="Serve a policy of a few lines: version, mode, mx (one per MX host), max_age.",
    references=("RFC 8461 §3.3",),
)

POLICY_SYNTAX_ERROR = FindingSpec(
    code="mta_sts.policy_syntax_error",
    severity=Severity.HIGH,
    check=_C,
    title="MTA-STS policy is invalid",
    detail="{url}: {message} (at character {position}). Senders discard it. " + _CACHED,
    remediation="Serve a valid policy, for example:\n{example}",
    references=("RFC 8461 §3.2",),
)

POLICY_NOT_CHECKED = FindingSpec(
    code="mta_sts.policy_not_checked",
    severity=Severity.INFO,
    check=_C,
    title="MTA-STS policy not checked",
    detail="{url} was not checked: {reason}. Nothing is known about the policy.",
    remediation="{how}",
    references=("RFC 8461 §3.3",),
)

POLICY_UNKNOWN_FIELDS = FindingSpec(
    code="mta_sts.policy_unknown_fields",
    severity=Severity.INFO,
    check=_C,
    title="MTA-STS policy has fields senders ignore",
    detail="{url}: {notes}. Senders ignore unknown fields (check for a misspelt one).",
    remediation="Remove the lines senders ignore, or correct their spelling.",
    references=("RFC 8461 §3.2",),
)

POLICY_IRREGULAR = FindingSpec(
    code="mta_sts.policy_irregular",
    severity=Severity.LOW,
    check=_C,
    title="MTA-STS policy is outside the grammar in harmless ways",
    detail="{url}: {notes}. Strict senders may read it differently.",
    remediation="Serve exactly one `key: value` per line, for example:\n{example}",
    references=("RFC 8461 §3.2",),
)

MAX_AGE_SHORT = FindingSpec(
    code="mta_sts.max_age_short",
    severity=Severity.LOW,
    check=_C,
    title="MTA-STS max_age is under a day",
    detail=(
        "The policy's max_age is {max_age} seconds: senders forget it quickly, and an "
        "attacker who blocks the policy fetch after that downgrades delivery."
    ),
    remediation="Use max_age: 604800 (a week) or more; the RFC suggests weeks (max 31557600).",
    references=("RFC 8461 §3.2", "RFC 8461 §10"),
)

MODE_TESTING = FindingSpec(
    code="mta_sts.mode_testing",
    severity=Severity.INFO,
    check=_C,
    title="MTA-STS in testing mode",
    detail=(
        "The policy is in mode testing: senders report failures (with TLS-RPT) but still "
        "deliver without valid TLS."
    ),
    remediation=(
        "When TLS reports show no failures, change the policy to mode: enforce and the id "
        "in {txt_name}."
    ),
    references=("RFC 8461 §5",),
)

MODE_NONE = FindingSpec(
    code="mta_sts.mode_none",
    severity=Severity.INFO,
    check=_C,
    title="MTA-STS in mode none",
    detail="The policy is in mode none: senders apply no MTA-STS to {domain}.",
    remediation="Use mode: testing, then enforce, if MTA-STS is wanted.",
    references=("RFC 8461 §5", "RFC 8461 §8.3"),
)

MX_NOT_COVERED = FindingSpec(
    code="mta_sts.mx_not_covered",
    severity=Severity.HIGH,
    check=_C,
    title="An MX host is not listed in the MTA-STS policy",
    detail=(
        "MX host(s) {hosts} match none of the policy's mx patterns ({patterns}). In mode "
        "{mode}, {consequence}.{hint}"
    ),
    remediation="Add each MX host to the policy (and change the id in {txt_name}):\n{lines}",
    references=("RFC 8461 §4.1", "RFC 8461 §5.1"),
)

MX_CERTIFICATE_INVALID = FindingSpec(
    code="mta_sts.mx_certificate_invalid",
    severity=Severity.CRITICAL,
    check=_C,
    title="An MX host cannot meet the MTA-STS policy's TLS requirement",
    detail=(
        "In mode {mode}, senders that honour MTA-STS require STARTTLS with a certificate "
        "valid for the MX host name: {problems}. {consequence}"
    ),
    remediation=(
        "Offer STARTTLS on each MX host with a certificate for its name from a public CA; "
        "until then, switch the policy to mode: testing."
    ),
    references=("RFC 8461 §4.2", "RFC 8461 §5.1"),
)

MX_TLS_NOT_VERIFIED = FindingSpec(
    code="mta_sts.mx_tls_not_verified",
    severity=Severity.INFO,
    check=_C,
    title="MX certificates not verified against the MTA-STS policy",
    detail="The policy is in mode enforce, but the MX hosts' TLS was not verified: {reason}.",
    remediation="Run the starttls check with probes enabled to verify it.",
    references=("RFC 8461 §4.2",),
)
