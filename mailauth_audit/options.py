"""Every default of the tool lives here, so the CLI, the API and the docs cannot disagree."""

from __future__ import annotations

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
    # nodes (terms) drawn in one domain's SPF tree, root included: one record can hold
    # thousands of lookup terms and be included hundreds of times
    max_spf_terms: int = 2000
    max_spf_text_chars: int = 1024  # longest record text quoted in a tree node or a finding
    max_spf_tree_chars: int = 65536  # text (as JSON bytes) drawn into one tree before it stops
    max_findings_per_code: int = 20  # findings of one code about tree nodes, per domain
    max_dkim_text_chars: int = 4096  # longest DKIM record or key text kept in a result


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
