"""The facts the DMARC check collects: frozen, so saved facts can be re-judged later."""

from __future__ import annotations

from dataclasses import dataclass

from ...fastinit import fast_init

__all__ = [
    "DmarcLookup",
    "DmarcLookupFailure",
    "DmarcRecordIssue",
    "DmarcReportDestination",
    "DmarcResult",
]


@fast_init
@dataclass(frozen=True)
class DmarcLookup:
    """One `_dmarc` name asked during discovery, and what it held."""

    name: str  # "_dmarc.example.com"
    nxdomain: bool
    records: tuple[str, ...]  # TXT strings that look like DMARC records, valid or not
    valid_count: int  # how many start with a correct v=DMARC1 (receivers discard all if > 1)
    record: str | None  # set when exactly one valid record: the one receivers use here
    psd: str | None  # set when `record` is: its psd tag ("y", "n", "u"), None when absent
    # set when the question got no answer (an ErrorReason value, e.g. "dns_servfail"); the
    # other fields then say nothing about the name. Only a lookup whose answer could not
    # change the policy is kept like this; any other failure makes the check an error.
    error_reason: str | None = None
    error: str | None = None  # set with error_reason: the resolver's message
    ttl: int | None = None  # set when answered: the TTL the answer carried (seconds)


@dataclass(frozen=True)
class DmarcLookupFailure:
    """An optional question that got no answer, and why it could not change the verdict."""

    kind: str  # "tree_walk" (a `_dmarc` name above the domain), "existence" (SOA) or
    # "report_authorization" (`<policy-domain>._report._dmarc.<host>`)
    name: str  # the name asked
    rdtype: str  # "TXT" or "SOA"
    reason: str  # an ErrorReason value: "dns_servfail", "dns_refused", "dns_timeout", ...
    message: str  # the resolver's message


@dataclass(frozen=True)
class DmarcRecordIssue:
    """A syntax problem in a record that matters for this domain."""

    record_name: str  # "_dmarc.example.com"
    record: str
    message: str
    position: int  # 0-based character offset into `record`
    tag: str | None  # the tag whose value receivers discard; None for list-level problems
    fatal: bool  # receivers ignore all of it: no v=DMARC1 start, or a repeated tag (then `tag`)


@fast_init
@dataclass(frozen=True)
class DmarcReportDestination:
    """A valid report URI and, when outside the policy's domain, whether it is authorised."""

    tag: str  # "rua" or "ruf"
    uri: str
    address: str | None  # set for mailto: URIs
    domain: str | None  # the mailbox's domain or the URI's host; None when it has none
    organizational_domain: str | None  # PSL Organizational Domain of `domain`
    external: bool  # outside the Organizational Domain of the policy domain
    authorization_name: str | None  # set when external: the name asked for authorisation
    authorization_records: tuple[str, ...]  # set when external: TXT found there
    authorized: bool | None  # set when external and checked: a v=DMARC1 record authorises
    # external and its authorisation was looked at; False when the per-domain cap
    # (Limits.max_report_authorizations) left it unasked, and then `authorized` is None
    authorization_checked: bool = False
    # set when external and the authorisation lookup got no answer (the resolver's message):
    # then `authorized` is None and `authorization_checked` False, never "unauthorised"
    authorization_error: str | None = None


@fast_init
@dataclass(frozen=True)
class DmarcResult:
    """What receivers find for the domain and which policy they apply."""

    domain: str
    record: str | None  # the record receivers apply (own or inherited); None when none applies
    record_domain: str | None  # set with `record`: where it was found, "_dmarc.example.com"
    policy_domain: str | None  # set with `record`: the domain that publishes it
    inherited: bool  # the record is a parent's (organizational or public suffix domain)
    records_found: tuple[str, ...]  # DMARC-like TXT strings at _dmarc.<domain> itself
    organizational_domain: str  # by the RFC 9989 DNS tree walk (§4.10.2)
    psl_organizational_domain: str  # by the Public Suffix List (RFC 7489 §3.2)
    policy: str | None  # p of `record`, when valid
    subdomain_policy: str | None  # sp of `record`, when present and valid
    nonexistent_subdomain_policy: str | None  # np of `record`, when present and valid
    effective_policy: str | None  # what receivers apply to this domain; None: no DMARC at all
    effective_policy_source: str | None  # "p", "sp", "np", or "default" (RFC 9989 §4.10.1)
    domain_exists: bool | None  # set when inherited: False means NXDOMAIN, so np applies
    adkim: str  # "r" or "s", default applied
    aspf: str  # "r" or "s", default applied
    testing: bool  # t=y
    psd: str | None  # psd tag of `record`, when present
    percentage: int | None  # pct of `record`, when present (removed in RFC 9989)
    removed_tags: tuple[str, ...]  # of pct/rf/ri, those in `record`
    unknown_tags: tuple[str, ...]  # tag names of `record` that DMARC does not define
    syntax_error: str | None  # the first of `syntax_issues`, for a quick look
    syntax_error_position: int | None  # set with syntax_error
    syntax_issues: tuple[DmarcRecordIssue, ...]
    report_destinations: tuple[DmarcReportDestination, ...]  # valid rua then ruf URIs
    discovery_path: tuple[str, ...]  # `_dmarc` names queried, in order
    lookups: tuple[DmarcLookup, ...]  # what each of those names held
    # external destinations whose authorisation was not asked: past the per-domain cap
    report_authorizations_unchecked: int = 0
    # False when a failed tree-walk lookup could have made another name the Organizational
    # Domain: `organizational_domain` is then the walk's choice from the answers it got
    organizational_domain_complete: bool = True
    # questions that got no answer but could not change the policy that applies (a failure
    # that could is an error of the whole check instead); see check.py for the rule
    failed_lookups: tuple[DmarcLookupFailure, ...] = ()
    record_ttl: int | None = None  # set with `record`: the TTL it was answered with
    # who answered `_dmarc.<domain>`, whose records `records_found` holds ("127.0.0.1:53",
    # "zone-file:PATH"); None in facts saved before it was kept
    server: str | None = None
