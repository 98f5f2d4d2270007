"""Every default of the tool lives here, so the CLI, the API and the docs cannot disagree."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .model import CheckId, Severity

# The big providers' selectors and the usual generic names. Kept short on purpose: each
# selector costs one query per domain, and the RFC 8020 shortcut (no `_domainkey` node means
# no selector) already spares most of them on domains without DKIM.
DEFAULT_DKIM_SELECTORS: tuple[str, ...] = (
    "google",  # Google Workspace
    "selector1",  # Microsoft 365
    "selector2",  # Microsoft 365
    "default",
    "k1",  # Mailchimp / Mandrill
    "s1",
    "s2",
    "dkim",
    "mail",
    "smtp",
)

# Date-style selectors: what `dkim keygen` and every DKIM remediation suggest (s2026 for an RSA
# key, ed2026 for an ed25519 one), so `check` probes them for this year and the previous one,
# and following the advice is never reported as "no selector found".
DKIM_DATE_SELECTOR_PREFIXES: tuple[str, ...] = ("s", "ed")  # RSA first, then ed25519
DKIM_DATE_SELECTOR_YEARS: int = 2  # this year and the previous one (a key made last winter)


def audit_date(today: date | None = None) -> date:
    """The audit's calendar date: `today` when given (tests, re-runs), else today in UTC."""
    return today if today is not None else datetime.now(UTC).date()


def fact_date(saved: str) -> date:
    """The audit's date as saved facts give it (ISO 8601)."""
    return date.fromisoformat(saved)


def dkim_date_selectors(today: date | None = None) -> tuple[str, ...]:
    """The date-style selectors probed by `check`: s2026, s2025, ed2026, ed2025 in 2026."""
    year = audit_date(today).year
    return tuple(
        f"{prefix}{year - back}"
        for prefix in DKIM_DATE_SELECTOR_PREFIXES
        for back in range(DKIM_DATE_SELECTOR_YEARS)
    )


def suggested_dkim_selector(today: date | None = None, *, ed25519: bool = False) -> str:
    """The selector the tool suggests for a new key: always among `dkim_date_selectors`."""
    prefix = DKIM_DATE_SELECTOR_PREFIXES[1 if ed25519 else 0]
    return f"{prefix}{audit_date(today).year}"


def check_domain_timeout(seconds: float) -> float:
    """The value, when it is a usable per-domain budget: finite and above zero (a NaN or an
    infinite budget would silently mean "no bound at all")."""
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"domain_timeout must be a finite number of seconds above 0: {seconds!r}")
    return float(seconds)


@dataclass(frozen=True)
class Limits:
    """Named bounds on concurrency and on how far we follow what strangers publish."""

    max_concurrent_domains: int = 200
    max_dns_in_flight: int = 512
    dns_timeout: float = 2.0  # seconds per attempt
    dns_attempts: int = 3  # tries per nameserver before DnsTimeout
    max_cname_hops: int = 8
    max_spf_depth: int = 20  # include/redirect nesting followed to draw the tree
    max_spf_nodes: int = 200  # records fetched for one domain's SPF tree
    # wall-clock seconds for one domain's whole audit; checks still running then end as
    # error: domain_deadline (what a hostile zone's slow answers can cost, at most)
    domain_timeout: float = 60.0
    # DMARC report addresses outside the policy's domain whose authorisation record is asked
    # for (concurrently), per domain; the rest are reported as not checked
    max_report_authorizations: int = 10
    max_mx_hosts: int = 20  # distinct MX host names resolved per domain; the rest reported
    max_zone_file_bytes: int = 64 * 1024 * 1024  # a larger --zone-file is refused unread
    # nodes (terms) drawn in one domain's SPF tree, root included: one record can hold
    # thousands of lookup terms and be included hundreds of times
    max_spf_terms: int = 2000
    max_spf_text_chars: int = 1024  # longest record text quoted in a tree node or a finding
    max_spf_tree_chars: int = 65536  # text (as JSON bytes) drawn into one tree before it stops
    max_findings_per_code: int = 20  # findings of one code about tree nodes, per domain
    max_dkim_text_chars: int = 4096  # longest DKIM record or key text kept in a result
    # --authoritative: addresses of one zone's NS hosts asked (in order); the rest are named
    # in the report's provenance note
    max_authoritative_servers: int = 8
    # DKIM selectors asked per domain (given, provider, date-style and built-in lists
    # together, in that order); the rest are reported as not probed (dkim.selectors_not_probed)
    max_dkim_selectors: int = 40
    max_selectors_file_bytes: int = 64 * 1024  # a larger --selectors-file is refused unread

    # MX hosts of `mx` terms whose addresses one domain's SPF tree looks up (void lookups,
    # RFC 7208 §4.6.4): ten `mx` terms of ten hosts, the most a receiver asks within 10 lookups
    max_spf_mx_hosts: int = 100
    # MTA-STS policy text (RFC 8461 §3.2) read by the pure parser; a longer text, more lines
    # or more mx patterns are refused as MtaStsPolicyTooLarge (reported, never truncated).
    # RFC 8461 §3.3 suggests 64 KiB for the body; a real policy has a handful of lines.
    max_mta_sts_policy_chars: int = 64 * 1024
    max_mta_sts_policy_lines: int = 10_000
    max_mta_sts_mx_patterns: int = 1000
    # addresses of mta-sts.<domain> tried in turn (A then AAAA) until one gives an HTTP
    # answer; the rest are named in the result as not tried
    max_mta_sts_policy_addresses: int = 4
    # Extended DNS Errors (RFC 8914) kept from one answer, and the characters kept of each
    # one's text (a longer one is cut and ends in "…"); the rest are counted in WireStats
    max_extended_errors: int = 4
    max_extended_error_text: int = 200
    # values of work shared by every domain (RunMemo: SPF includes, MX hosts, report
    # authorisation records) kept by one Auditor or AuditSession, least recently used dropped
    # first; a dropped value is worked out again when asked, never reported missing
    max_memo_entries: int = 100_000
    # DNS answers kept by the run cache of an Auditor or AuditSession built from options
    # (least recently used dropped first, asked again when needed)
    max_cache_entries: int = 250_000
    # TLSA records of one MX host matched against its certificate chain (RFC 7672); a
    # hostile RRset can hold hundreds, each hashed against every certificate. The rest are
    # named in dane.records_not_checked
    max_tlsa_records: int = 16
    # PTR names of one MX address whose A/AAAA are asked to confirm it (forward-confirmed
    # reverse DNS); a PTR RRset is written by the address owner and may list many names
    max_ptr_names_confirmed: int = 4

    def __post_init__(self) -> None:
        check_domain_timeout(self.domain_timeout)
        for name in _AT_LEAST_ONE:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")
        for name in ("max_extended_errors", "max_extended_error_text"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


# Limits whose zero would silently turn a check off rather than bound it
_AT_LEAST_ONE = (
    "max_report_authorizations",
    "max_mx_hosts",
    "max_authoritative_servers",
    "max_spf_mx_hosts",
    "max_dkim_selectors",
    "max_selectors_file_bytes",
    "max_mta_sts_policy_chars",
    "max_mta_sts_policy_lines",
    "max_mta_sts_mx_patterns",
    "max_memo_entries",
    "max_cache_entries",
    "max_mta_sts_policy_addresses",
    "max_tlsa_records",
    "max_ptr_names_confirmed",
)


def _string_tuple(name: str, value: object) -> tuple[str, ...]:
    """A sequence of strings as a tuple; one string is split at commas and whitespace
    ("127.0.0.1:5502", "192.0.2.1, 192.0.2.2"). Anything else is a TypeError that says what
    was expected."""
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    expected = f"{name} must be a string or a sequence of strings"
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise TypeError(f"{expected}, not {type(value).__name__}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{expected}; got an item of type {type(item).__name__}: {item!r}")
    return items


@dataclass(frozen=True)
class ProbeOptions:
    """How checks that connect to servers (STARTTLS, MTA-STS policy, DANE) may do so.

    Probes connect only to globally routable addresses unless `allow_private_targets` is set
    (probes/targets.py holds the rule): a domain's DNS may point anywhere, including at the
    auditor's own network. The ports and CA file exist for test setups."""

    enabled: bool = True  # False (--no-probes): probe-based results are `skipped`
    allow_private_targets: bool = False  # --allow-private-targets
    smtp_port: int = 25  # --smtp-port
    https_port: int = 443  # --https-port
    ca_file: str | None = None  # --ca-file: replaces the system trust store
    # --dnssec-resolver: a validating resolver asked for DNSSEC verdicts; () = the audit's own
    dnssec_resolvers: tuple[str, ...] = ()
    limits: ProbeLimits = field(default_factory=lambda: ProbeLimits())

    def __post_init__(self) -> None:
        for name in ("smtp_port", "https_port"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
                raise ValueError(f"{name} must be a port number from 1 to 65535: {value!r}")
        object.__setattr__(
            self, "dnssec_resolvers", _string_tuple("dnssec_resolvers", self.dnssec_resolvers)
        )


@dataclass(frozen=True)
class AuditOptions:
    checks: frozenset[CheckId] = field(default_factory=lambda: frozenset(CheckId))
    selectors: tuple[str, ...] = ()  # extra DKIM selectors given by the user, probed first
    use_default_selectors: bool = True
    # "HOST", "HOST:PORT", "HOST#PORT" or "[V6]:PORT"; () = system. One string is accepted
    # as well: "192.0.2.1:5300" or "192.0.2.1, 192.0.2.2" (split at commas and whitespace)
    nameservers: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    debug: bool = False  # keep tracebacks of unexpected errors in the report
    # the audit's date, for the date-style DKIM selectors (s2026...); None: today in UTC
    today: date | None = None
    probes: ProbeOptions = field(default_factory=lambda: ProbeOptions())

    def __post_init__(self) -> None:
        # a lone string is iterable too: "127.0.0.1:5502" would become eleven one-character
        # "nameservers" ("invalid nameserver '1'"), "s1" two selectors "s" and "1"
        for name in ("nameservers", "selectors"):
            object.__setattr__(self, name, _string_tuple(name, getattr(self, name)))

    @property
    def dkim_selectors(self) -> tuple[str, ...]:
        extra = tuple(s.lower() for s in self.selectors)
        base = DEFAULT_DKIM_SELECTORS if self.use_default_selectors else ()
        return tuple(dict.fromkeys(extra + base))


DEFAULT_FAIL_ON: Severity | None = None  # `check` exits 1 only when --fail-on is given


@dataclass(frozen=True)
class BulkRunLimits:
    """Bounds on a bulk run's own bookkeeping (its output folder and worker processes)."""

    max_manifest_bytes: int = 64 * 1024  # run.json read by --resume (a real one is < 1 kB)
    # where neither PR_SET_PDEATHSIG nor a parent sentinel pipe exists, a worker polls its
    # parent's pid this often and exits once the parent is gone
    parent_poll_seconds: float = 0.5


@dataclass(frozen=True)
class SmtpSendLimits:
    """Bounds on one `send`: the SMTP server it talks to is not trusted to ever finish a reply,
    keep a reply small, or let a conversation end. Every bound that cuts an attempt short is
    reported in the transcript and the error, never skipped silently."""

    max_reply_lines: int = 100  # lines in one reply (an EHLO lists ~15 extensions)
    max_reply_bytes: int = 64 * 1024  # bytes in one reply, line ends included
    reply_timeout: float = 30.0  # seconds for the connection, and for each whole reply
    attempt_timeout: float = 120.0  # seconds for one attempt, connect to QUIT
    total_timeout: float = 300.0  # seconds for the whole send, retries and waits included


# `verify --max-size` / `receive`'s size limit: a larger message is reported, not parsed
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class MessageLimits:
    """Bounds on the work one message can cause in `verify` and `receive`: its author is a
    stranger, and everything past a bound is reported as not verified, never as a pass."""

    max_header_fields: int = 1000  # more header fields: the message is refused
    max_header_bytes: int = 1024 * 1024  # a larger header section: the message is refused
    max_dkim_signatures: int = 10  # DKIM-Signatures verified per message; the rest: policy
    max_arc_sets: int = 10  # a longer ARC chain is not validated
    max_rsa_key_bits: int = 4096  # RFC 8301 §3.2: larger keys are permerror, no arithmetic
    max_rsa_exponent_bits: int = 17  # 65537 has 17 bits; larger exponents are permerror
    max_key_record_bytes: int = 8192  # a 4096-bit key record is under 1 KB
    verify_seconds: float = 10.0  # time budget of one message's DKIM and ARC verification
    # lines of a message walked by the MIME-structure check; a longer message is reported as
    # "MIME structure not checked" (the parser costs a few microseconds per line)
    max_mime_scan_lines: int = 250_000
    # From domains DMARC is evaluated for when one From header names several (RFC 7489
    # §6.6.1: each is evaluated, the strictest applies); the rest are reported as not evaluated
    max_from_domains: int = 10


@dataclass(frozen=True)
class ReceiveLimits:
    """Bounds on what SMTP clients of `receive` can hold: sessions, time, commands, lines."""

    max_sessions: int = 100  # open sessions in all; more are answered 421 and closed
    max_sessions_per_ip: int = 10  # open sessions from one client address
    max_session_seconds: float = 300.0  # a session's whole life, however active
    max_commands: int = 200  # SMTP commands in one session
    max_line_bytes: int = 1001  # one line, CRLF included (RFC 5321 §4.5.3.1.6); longer: dropped
    idle_seconds: float = 60.0  # without a command, the client is dropped
    max_concurrent_verifications: int = 2  # messages verified at once; others wait their turn
    accept_backoff_max: float = 2.0  # longest pause after accept() fails (no descriptors)
    fd_reserve: int = 64  # descriptors kept free for DNS, reports, TLS under RLIMIT_NOFILE


@dataclass(frozen=True)
class ProbeLimits:
    """Bounds on every SMTP or HTTPS probe of a stranger's server: time per stage and in
    total, bytes and lines read, connections per address, probes remembered per run."""

    connect_timeout: float = 10.0  # seconds to open the TCP connection
    # seconds for the SMTP greeting; RFC 5321 §4.5.3.2 allows 5 minutes, but greet-pause
    # defences (postscreen) wait a few seconds and a probe cannot hold a run for minutes
    smtp_banner_timeout: float = 30.0
    smtp_command_timeout: float = 15.0  # seconds for the reply to EHLO, STARTTLS, QUIT
    tls_handshake_timeout: float = 15.0
    smtp_total_timeout: float = 60.0  # one SMTP probe, connect to QUIT
    https_timeout: float = 10.0  # seconds per HTTPS stage: connect, TLS, each read
    https_total_timeout: float = 20.0  # one HTTPS fetch, connect to the last body byte
    max_reply_line_bytes: int = 2048  # one SMTP reply line; RFC 5321 §4.5.3.1.5 says 512
    max_reply_lines: int = 100  # lines of one multi-line SMTP reply (an EHLO has ~10)
    max_reply_bytes: int = 32 * 1024  # one SMTP reply, all lines
    max_body_bytes: int = 64 * 1024  # HTTPS body kept; RFC 8461 §3.3 caps a policy at 64 KiB
    max_chain_certificates: int = 10  # certificates of a presented chain kept and checked
    max_connections_per_address: int = 1  # concurrent probes of one IP address
    max_cached_probes: int = 100_000  # probe results remembered per run (LRU beyond)
    # MX addresses (host, address pairs) one domain's STARTTLS check probes, in preference
    # order (20 MX hosts with several addresses each would be 50+ connections); the rest are
    # reported as not probed (starttls.addresses_not_probed)
    max_mx_addresses_probed: int = 16

    def __post_init__(self) -> None:
        for name in (
            "connect_timeout",
            "smtp_banner_timeout",
            "smtp_command_timeout",
            "tls_handshake_timeout",
            "smtp_total_timeout",
            "https_timeout",
            "https_total_timeout",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number of seconds above 0: {value!r}")
        for name in (
            "max_reply_line_bytes",
            "max_reply_lines",
            "max_reply_bytes",
            "max_body_bytes",
            "max_chain_certificates",
            "max_connections_per_address",
            "max_cached_probes",
            "max_mx_addresses_probed",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")


@dataclass(frozen=True)
class CheckInputLimits:
    """Bounds on the names `check` reads from a file or stdin (`--domains-file`, `-`): it
    keeps every report in memory to print them; `bulk` is the command for long lists."""

    max_domains_file_bytes: int = 1024 * 1024  # a larger list is refused, not truncated
    max_domains: int = 10_000  # distinct names per `check` run, arguments and files together


@dataclass(frozen=True)
class StoreLimits:
    """Bounds of the audit history store (`--store`) and of alert delivery.

    A store that does not answer must not hold an audit up: connecting and waiting for a
    lock are bounded, and a bulk run that loses its store goes on without it."""

    connect_timeout: float = 10.0  # seconds to reach a PostgreSQL server
    # seconds a writer waits for another writer's lock (SQLite busy timeout, PostgreSQL
    # lock_timeout): two bulk runs recording into one store take turns within this
    lock_timeout: float = 30.0
    webhook_timeout: float = 10.0  # seconds for one webhook POST, connect to reply
    webhook_attempts: int = 3  # POSTs per event before the delivery is recorded as failed
    webhook_backoff: float = 1.0  # seconds before the 2nd attempt, doubled for each next one
    max_events_per_delivery: int = 1000  # events one `alerts --deliver` sends at most
    # bytes a stored report may decompress to: a larger one is damaged or planted, refused
    max_stored_report_bytes: int = 16 * 1024 * 1024
    # changed domains `diff --run A --run B` shows in detail in text (worse first); the rest
    # are counted in a closing line. JSON and HTML hold every one (`--details`, `--full`)
    run_diff_details: int = 50
    # batches of results lines `bulk --store` lets wait for the recording thread (256 lines
    # each at most): past them the run waits for the store instead of holding more lines
    max_pending_record_batches: int = 8
    # processes that decode a run diff's shown domains when there are hundreds (1: in the
    # calling process only)
    run_diff_processes: int = 2

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "lock_timeout", "webhook_timeout", "webhook_backoff"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number of seconds above 0: {value!r}")
        for name in (
            "webhook_attempts",
            "max_events_per_delivery",
            "max_stored_report_bytes",
            "run_diff_details",
            "max_pending_record_batches",
            "run_diff_processes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")


@dataclass(frozen=True)
class ServiceLimits:
    """Bounds of `serve` (the HTTP API): what one caller can make the service hold or do.

    A request is refused whole (413/422 with the reason) rather than cut: a caller told
    "first 1,000 audited" would take the rest as audited."""

    max_domains_per_request: int = 1000  # names in one POST /v1/audits; more: 422, nothing run
    max_request_bytes: int = 4 * 1024 * 1024  # body of one request, read at most this far: 413
    max_running_jobs: int = 2  # jobs audited at once; the others wait, status "queued"
    max_pending_jobs: int = 100  # jobs queued or running; more: 503 until one finishes
    # per-token token bucket in the store, shared by every `serve` process on it
    rate_per_second: float = 10.0  # requests a token may make per second, sustained; more: 429
    rate_burst: int = 50  # requests a token may make at once after being idle
    scheduler_interval: float = 5.0  # seconds between the scheduler's looks at due schedules
    max_schedules: int = 1000  # schedules in the store; creating more: 422
    max_alert_targets: int = 10  # webhooks + email addresses of one schedule
    max_events_per_response: int = 1000  # GET /v1/alerts and /history list at most this many
    max_metrics_audits: int = 10_000  # new audits one /metrics scrape reads; the rest next time
    # pages for people (/ui/) and the run report
    session_seconds: int = 8 * 3600  # a login's cookie expires after this; then log in again
    max_form_bytes: int = 4096  # body of a form POST (login, logout), read this far: 413
    max_page_domains: int = 1000  # domains the overview lists; it says when there are more
    max_history_points: int = 200  # latest audits drawn on a domain page; it says so beyond
    max_report_domains: int = 20_000  # audits one run report page counts; more: 422
    # a fired schedule's drift events to its webhooks and email addresses, after its job
    alert_attempts: int = 4  # tries of a fired schedule's deliveries; failures stay recorded
    alert_backoff: float = 30.0  # seconds before the 2nd delivery, doubled for each next one

    def __post_init__(self) -> None:
        for name in (
            "max_domains_per_request",
            "max_request_bytes",
            "max_running_jobs",
            "max_pending_jobs",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")
        for name in (
            "rate_burst",
            "max_schedules",
            "max_alert_targets",
            "max_events_per_response",
            "max_metrics_audits",
            "session_seconds",
            "max_form_bytes",
            "max_page_domains",
            "max_history_points",
            "max_report_domains",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")
        for name in ("rate_per_second", "scheduler_interval"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number above 0: {value!r}")
        attempts, backoff = self.alert_attempts, self.alert_backoff
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
            raise ValueError(f"alert_attempts must be a whole number of at least 1: {attempts!r}")
        if not (isinstance(backoff, int | float) and math.isfinite(backoff) and backoff >= 0):
            raise ValueError(f"alert_backoff must be a finite number, 0 or more: {backoff!r}")


@dataclass(frozen=True)
class QueueLimits:
    """Bounds of jobs run by `worker` processes over the PostgreSQL task queue (and of the
    same job code run in-process by `serve` on SQLite).

    A job of N domains becomes ceil(N / chunk_size) queued chunks; a worker that stops
    sending heartbeats for `stalled_after` seconds (killed, machine lost) has its chunks put
    back in the queue by the next recovery sweep of any live worker."""

    # domains per queued chunk: the unit a worker takes and retries. A quarter of the default
    # max_domains_per_request, so one request spreads over two workers' two chunk slots, and
    # the last chunks of a job, when one worker may hold two while another has none, are short
    chunk_size: int = 250
    concurrency: int = 2  # chunks one worker process audits at once (one shared DNS cache)
    heartbeat_interval: float = 10.0  # seconds between a worker's heartbeats
    stalled_after: float = 30.0  # seconds without a heartbeat before a worker's chunks go back
    recovery_interval: float = 10.0  # seconds between a worker's sweeps for stalled chunks
    shutdown_timeout: float = 60.0  # SIGTERM: seconds to finish running chunks, then release
    chunk_attempts: int = 5  # runs of a chunk that fails (not stalls) before the job fails
    write_attempts: int = 6  # tries of one batch of results against an unreachable store
    reconnect_delay: float = 1.0  # seconds before reconnecting to the queue, doubled up to 30
    cancel_poll_interval: float = 2.0  # seconds between a running chunk's looks for a cancel
    # --qps across all workers: a PostgreSQL token bucket hands out tokens in leases of
    # qps * budget_lease seconds, each usable for budget_lease seconds
    budget_lease: float = 0.1
    # a chunk's reports are recorded once this many are waiting, or record_interval seconds
    # after the first of them: a few statements per batch, not per handful of reports
    record_batch: int = 200
    record_interval: float = 0.5
    # `serve` on SQLite runs a job's chunks in a child process and reads the job's progress
    # (recorded audits) from the store this often while the child runs
    progress_interval: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "chunk_size",
            "concurrency",
            "chunk_attempts",
            "write_attempts",
            "record_batch",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1: {value!r}")
        for name in (
            "heartbeat_interval",
            "stalled_after",
            "recovery_interval",
            "shutdown_timeout",
            "reconnect_delay",
            "cancel_poll_interval",
            "budget_lease",
            "record_interval",
            "progress_interval",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number of seconds above 0: {value!r}")
        if self.stalled_after <= self.heartbeat_interval:
            raise ValueError(
                f"stalled_after ({self.stalled_after}) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval}): a live worker would look stalled"
            )
