"""Every default of the tool lives here, so the CLI, the API and the docs cannot disagree."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    # Extended DNS Errors (RFC 8914) kept from one answer, and the characters kept of each
    # one's text (a longer one is cut and ends in "…"); the rest are counted in WireStats
    max_extended_errors: int = 4
    max_extended_error_text: int = 200

    def __post_init__(self) -> None:
        check_domain_timeout(self.domain_timeout)
        for name in ("max_report_authorizations", "max_mx_hosts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("max_extended_errors", "max_extended_error_text"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True)
class AuditOptions:
    checks: frozenset[CheckId] = field(default_factory=lambda: frozenset(CheckId))
    selectors: tuple[str, ...] = ()  # extra DKIM selectors given by the user, probed first
    use_default_selectors: bool = True
    nameservers: tuple[str, ...] = ()  # "HOST" or "HOST:PORT" or "[V6]:PORT"; () = system
    limits: Limits = field(default_factory=Limits)
    debug: bool = False  # keep tracebacks of unexpected errors in the report

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
