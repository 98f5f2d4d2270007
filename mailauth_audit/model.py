"""The typed vocabulary every layer shares: severities, statuses, findings, outcomes, reports.

Results are frozen dataclasses so that a report, once built, can be handed to renderers,
observers and other threads without anyone changing it underneath them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .changes import RecordChange
from .fastinit import cached_once, fast_init

if TYPE_CHECKING:
    from .verdicts.checklist import ProviderChecklist
    from .verdicts.score import DomainScore


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; lets callers compare severities without a lookup table."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}
_HIGH_RANK = _SEVERITY_RANK[Severity.HIGH]
_severity_of = operator.attrgetter("severity")
_LOW_RANK = _SEVERITY_RANK[Severity.LOW]


class CheckId(StrEnum):
    MX = "mx"
    SPF = "spf"
    DKIM = "dkim"
    DMARC = "dmarc"
    MTA_STS = "mta_sts"
    TLS_RPT = "tls_rpt"
    DNSSEC = "dnssec"
    DANE = "dane"
    STARTTLS = "starttls"  # TLS on every MX address (needs MX)
    MX_IDENTITY = "mx_identity"  # PTR, forward-confirmed, banner name of every MX address


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class ErrorReason(StrEnum):
    """Why a check could not be completed. Never a statement about the domain's records."""

    DNS_TIMEOUT = "dns_timeout"
    DNS_SERVFAIL = "dns_servfail"
    DNS_REFUSED = "dns_refused"
    DNS_CNAME_LOOP = "dns_cname_loop"
    DNS_PROTOCOL_ERROR = "dns_protocol_error"
    NETWORK_UNREACHABLE = "network_unreachable"
    PROTOCOL_ERROR = "protocol_error"
    BUG = "bug"
    DOMAIN_DEADLINE = "domain_deadline"  # the domain's wall-clock budget ran out first
    # a probe of a server (SMTP, HTTPS) could not be completed: "could not test", never
    # "the server lacks the feature" (errors.ProbeFailure spells the same values)
    CONNECTION_REFUSED = "connection_refused"
    PROBE_TIMEOUT = "probe_timeout"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    REPLY_TOO_LARGE = "reply_too_large"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    REJECTED = "rejected"
    # --zone-file: a name the check needed lies outside every loaded zone (and no
    # --nameserver was given to ask instead): not checked, never "no record"
    OUTSIDE_ZONE_FILE = "outside_zone_file"
    # --authoritative: no zone cut or no address for any of the zone's servers was found
    NO_AUTHORITATIVE_SERVER = "no_authoritative_server"
    # a check this one depends on (Check.depends_on) could not be completed: nothing to
    # build on, so this one was not run; the message names the dependency and its reason
    DEPENDENCY_FAILED = "dependency_failed"
    # signed answers came back without the AD bit: the resolver asked does not validate, so
    # secure and insecure cannot be told apart (--dnssec-resolver names one that does)
    RESOLVER_NOT_VALIDATING = "resolver_not_validating"


class DomainStatus(StrEnum):
    COMPLETED = "completed"
    INVALID = "invalid"


@fast_init
@dataclass(frozen=True)
class Finding:
    code: str  # stable, e.g. "spf.lookup_limit_exceeded"; never reworded once released
    severity: Severity
    check: CheckId
    title: str
    detail: str
    remediation: str
    evidence: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # the remediation as typed record changes (empty when no record can be proposed)
    changes: tuple[RecordChange, ...] = ()
    # the values the catalogue's templates were filled with, (name, text) in template order:
    # with the code they give back detail and remediation (a results line stores these
    # instead of the sentences). Empty when the texts are not the templates' (e.g. clipped).
    params: tuple[tuple[str, str], ...] = ()

    def with_changes(self, changes: tuple[RecordChange, ...]) -> Finding:
        """This finding with other changes (dataclasses.replace costs ~5x more on a hot path)."""
        return Finding(
            self.code,
            self.severity,
            self.check,
            self.title,
            self.detail,
            self.remediation,
            self.evidence,
            self.references,
            changes,
            self.params,
        )


@dataclass(frozen=True)
class CheckError:
    reason: ErrorReason
    message: str  # one line for people: "could not check: DNS timeout for TXT example.com"
    trace: str | None = None  # set only in debug mode, for reason=bug


if TYPE_CHECKING:
    # PEP 696 default: a bare `CheckOutcome` means any check's outcome, as before it was
    # generic (typing_extensions is read by type checkers only; nothing imports it at run time)
    from typing_extensions import TypeVar as DefaultTypeVar

    ResultT = DefaultTypeVar("ResultT", default=Any)
else:
    ResultT = TypeVar("ResultT")


@fast_init
@dataclass(frozen=True)
class CheckOutcome(Generic[ResultT]):
    """What one check concluded. Generic in the check's result type, so a caller holding an
    `CheckOutcome[MxResult]` reads typed facts (a bare `CheckOutcome` is any check's)."""

    check: CheckId
    status: CheckStatus
    result: ResultT | None = None  # the check's typed facts; None when status is error or skipped
    findings: tuple[Finding, ...] = ()
    error: CheckError | None = None  # set when status is error
    skip_reason: str | None = None  # set when status is skipped


def status_from_findings(findings: tuple[Finding, ...] | list[Finding]) -> CheckStatus:
    """DESIGN: fail on critical/high, warn on medium/low, pass when only info remains."""
    # a dict lookup per finding, not a property call, and the loop in C: a bulk hot path
    worst = max(map(_SEVERITY_RANK.__getitem__, map(_severity_of, findings)), default=0)
    if worst >= _HIGH_RANK:
        return CheckStatus.FAIL
    if worst >= _LOW_RANK:
        return CheckStatus.WARN
    return CheckStatus.PASS


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    if len(findings) < 2:
        return tuple(findings)
    rank = _SEVERITY_RANK
    return tuple(sorted(findings, key=lambda f: (-rank[f.severity], f.check, f.code)))


@dataclass(frozen=True)
class ResolverNote:
    """Something about the DNS server, not the domain, that explains a domain's errors.

    Said once per domain instead of once per failed lookup: when the configured server
    answers REFUSED for every name outside its own zones (an authoritative-only server
    given as --nameserver), each check's "could not check" has the same cause."""

    code: str  # stable: "resolver.refuses_recursion"
    servers: tuple[str, ...]  # "127.0.0.1:5503"; empty when the resolver names none
    refused_checks: tuple[CheckId, ...]  # the checks in error because of it
    message: str  # one plain sentence for people


@fast_init
@dataclass(frozen=True)
class DomainReport:
    domain: str  # normalised A-label form; the raw input when status is invalid
    status: DomainStatus
    checks: Mapping[CheckId, CheckOutcome] = field(default_factory=dict)
    input: str | None = None  # what the user typed, when it differs from domain
    error: str | None = None  # set when status is invalid
    dns_queries: int = 0  # queries this domain caused that were not answered from the cache
    # set when every check in error failed for the same resolver reason (see ResolverNote)
    resolver_notes: tuple[ResolverNote, ...] = ()

    @cached_once
    def findings(self) -> tuple[Finding, ...]:
        # cached: the JSON, the score, the checklist and the bulk summary each read it, and
        # sorting is not free in a bulk run (the report is frozen)
        return sort_findings([f for o in self.checks.values() for f in o.findings])

    @property
    def worst_severity(self) -> Severity | None:
        fs = self.findings
        return fs[0].severity if fs else None

    @property
    def has_errors(self) -> bool:
        return any(o.status is CheckStatus.ERROR for o in self.checks.values())

    @cached_once
    def verdict(self) -> DomainScore:
        """The domain's score and grade, judged once; every output format reads this.

        No grade without evidence: with any check in error, `verdict.grade` is None and
        `verdict.grade_status` is "not_graded" (see mailauth_audit.verdicts.score).
        """
        from .verdicts.score import score_domain  # the judgement lives with its formula

        return score_domain(self)

    @cached_once
    def checklist(self) -> ProviderChecklist:
        """The mailbox providers' bulk-sender requirements against this domain's evidence,
        judged once (see mailauth_audit.verdicts.checklist); every output format reads this."""
        from .verdicts.checklist import provider_checklist

        return provider_checklist(self)

    @property
    def grade(self) -> str | None:
        """The letter A-F; None when the domain is not graded (a check in error) or invalid."""
        return self.verdict.grade


class SourceMode(StrEnum):
    """Where a report's answers came from, as its reader must be told first."""

    LIVE = "live"  # DNS servers on the network (a resolver, or the zones' own servers)
    DRAFT = "draft"  # zone file(s) or zone text: what may be published, not what is
    SAMPLE = "sample"  # the bundled demo zone: made-up data


class SourceKind(StrEnum):
    RESOLVER = "resolver"  # a recursive resolver (--nameserver or /etc/resolv.conf)
    AUTHORITATIVE = "authoritative"  # a zone's own server, asked directly (--authoritative)
    ZONE_FILE = "zone_file"  # a --zone-file
    ZONE_TEXT = "zone_text"  # zone text handed to the API (tests, the demo)


@dataclass(frozen=True)
class DnsSource:
    """One place answers came from."""

    kind: SourceKind
    address: str | None = None  # "IP:PORT" ("[IPv6]:PORT"); set for resolver, authoritative
    path: str | None = None  # set for zone_file
    sha256: str | None = None  # of the zone file's bytes; set for zone_file
    zones: tuple[str, ...] = ()  # zone_file: the zones it defines; authoritative: its zone
    answers: int | None = None  # authoritative: questions this server answered


@dataclass(frozen=True)
class Provenance:
    """Where a run's answers came from, when, and which tool judged them."""

    mode: SourceMode
    sources: tuple[DnsSource, ...]
    collected_at: str  # ISO 8601, UTC: when the run started asking
    tool_version: str
    note: str | None = None  # e.g. how names outside the zone files were answered


@dataclass(frozen=True)
class AuditRun:
    started_at: str  # ISO 8601, UTC
    finished_at: str
    domains: tuple[DomainReport, ...]
    dns_queries: int = 0
    tool_version: str = ""
    provenance: Provenance | None = None  # None only for runs built by hand (tests)
