"""SPF check (RFC 7208): the record, its whole include/redirect tree, and what it costs.

`collect` fetches every record of the tree breadth-first, each level concurrently, through the
run memo (a provider's include used by thousands of domains is fetched and parsed once per
run), then draws the tree from those records without further I/O, so loop detection and the
caps (`Limits.max_spf_depth`, `max_spf_nodes`, `max_spf_terms`, `max_spf_tree_chars`) are
decided per domain and do not depend on which domain happened to fetch a shared record first.
The fetches live in `collect`, the tree in `tree`, the facts in `result`, the judgement in
`evaluate` and `tree_findings`, corrected records in `remediation`; this module keeps the check
and the public names.

Lookups are counted as RFC 7208 §4.6.4 counts them: `include`, `a`, `mx`, `ptr`, `exists` and
`redirect` one each; `ip4`, `ip6`, `all` and `exp` none. Terms after the first `all` are never
evaluated (§5.1) and `redirect` is ignored when `all` is present (§6.1), so neither is
counted. The count is the worst case (no mechanism matches) and keeps going past 10 so the
report says by how much the limit is exceeded. Void lookups (§4.6.4, limit 2) are counted as
receivers count them, including the address lookup of each MX host an `mx` term finds; a host
with only IPv6 (or only IPv4) addresses is not void here, though it is for a receiver asking
only for the client's address family, so the count is what every sender meets at least.
"""

from __future__ import annotations

from ...findings import spf as F
from ...model import CheckId, Finding
from ...records.spf import is_spf_record
from ..base import Check, CheckContext, EvaluationContext, catalogue_of, record_summary
from .collect import (
    estimate_txt_answer_size,
    fetch_tree,
    fetch_txt,
    looks_like_spf,
    lower_name,
)
from .evaluate import UDP_ANSWER_LIMIT, evaluate_spf
from .nodes import SpfNode, SpfNodeKind, SpfNodeStatus
from .remediation import TXT_STRING_LIMIT, zone_txt_line
from .result import SpfResult
from .tree import TreeBuilder
from .tree_findings import RFC_LOOKUP_LIMIT, RFC_MX_NAMES_LIMIT, RFC_VOID_LIMIT


class SpfCheck(Check[SpfResult]):
    """RFC 7208: one SPF record, valid, within 10 DNS lookups and 2 void lookups, ending in a
    restrictive `all`."""

    id = CheckId.SPF
    title = "SPF (who may send as the domain)"
    result_type = SpfResult
    catalogue = catalogue_of(F)
    standard = "RFC 7208"

    @classmethod
    def summary(cls, result: SpfResult | None) -> str:
        return "" if result is None else record_summary(result.record, result.records_found)

    @classmethod
    def record_ttl(cls, result: SpfResult | None) -> int | None:
        return None if result is None else result.record_ttl

    @classmethod
    def whole_record(cls, result: SpfResult | None) -> str | None:
        return None if result is None else result.record

    async def collect(self, ctx: CheckContext) -> SpfResult:
        domain = lower_name(ctx.domain)
        limits = ctx.options.limits
        root = await ctx.memo.get_or_compute("spf", domain, lambda: fetch_txt(ctx, domain))
        strings: tuple[str, ...] = ()
        if len(root.spf_texts) == 1:
            one = next(t for t in root.txt if is_spf_record(t.text))
            strings = tuple(s.decode("utf-8", "replace") for s in one.strings)
        ignored = tuple(t.text for t in root.txt if looks_like_spf(t.text))
        longest = max((max(map(len, t.strings), default=0) for t in root.txt), default=0)
        size = estimate_txt_answer_size(domain, root.txt) if root.txt else 0

        tree: SpfNode | None = None
        complete = True
        void_lookups = 0
        if len(root.spf_texts) == 1:
            fetched, probes = await fetch_tree(
                ctx, root, limits.max_spf_depth, limits.max_spf_nodes, limits.max_spf_mx_hosts
            )
            builder = TreeBuilder(fetched, probes, limits)
            tree = builder.record_node(SpfNodeKind.ROOT, domain, None, None, ())
            complete = builder.complete
            void_lookups = builder.void_lookups
        return SpfResult(
            domain=domain,
            record=root.spf_texts[0] if len(root.spf_texts) == 1 else None,
            records_found=root.spf_texts,
            record_strings=strings,
            ignored_records=ignored,
            syntax_error=root.error.message if root.error else None,
            syntax_error_position=root.error.position if root.error else None,
            dns_lookups=tree.total_lookups if tree else 0,
            void_lookups=void_lookups,
            tree=tree,
            complete=complete,
            txt_records=len(root.txt),
            txt_answer_bytes=size,
            longest_txt_string=longest,
            record_ttl=root.ttl if root.spf_texts else None,
            server=root.server or None,
        )

    def evaluate(self, facts: SpfResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_spf(facts, ctx.options.limits)


__all__ = [
    "RFC_LOOKUP_LIMIT",
    "RFC_MX_NAMES_LIMIT",
    "RFC_VOID_LIMIT",
    "TXT_STRING_LIMIT",
    "UDP_ANSWER_LIMIT",
    "SpfCheck",
    "SpfNode",
    "SpfNodeKind",
    "SpfNodeStatus",
    "SpfResult",
    "estimate_txt_answer_size",
    "zone_txt_line",
]
