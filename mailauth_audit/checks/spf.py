"""SPF check (RFC 7208): the record, its whole include/redirect tree, and what it costs.

`collect` fetches every record of the tree breadth-first, each level concurrently, through the
run memo (a provider's include used by thousands of domains is fetched and parsed once per
run), then draws the tree from those records without further I/O, so loop detection and the
caps (`Limits.max_spf_depth`, `max_spf_nodes`, `max_spf_terms`, `max_spf_tree_chars`) are
decided per domain and do not depend on which domain happened to fetch a shared record first.
The tree lives in `spf_tree`, the judgement in `spf_evaluate`, corrected records in
`spf_remedy`; this module keeps the result type, the check and the public names.

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

import re
from dataclasses import dataclass

from ..findings import spf as F
from ..model import CheckId, Finding
from ..records.spf import is_spf_record
from ..resolver.base import TxtRecord
from .base import Check, CheckContext, EvaluationContext, catalogue_of, record_summary
from .spf_evaluate import UDP_ANSWER_LIMIT, evaluate_spf
from .spf_fetch import fetch_tree, fetch_txt, lower_name
from .spf_nodes import SpfNode, SpfNodeKind, SpfNodeStatus
from .spf_remedy import TXT_STRING_LIMIT, zone_txt_line
from .spf_tree import TreeBuilder
from .spf_tree_findings import RFC_LOOKUP_LIMIT, RFC_MX_NAMES_LIMIT, RFC_VOID_LIMIT


@dataclass(frozen=True)
class SpfResult:
    """Facts about a domain's SPF: the record, the tree it builds, and what it costs in DNS."""

    domain: str
    record: str | None  # the one SPF record; None when there is none or more than one
    records_found: tuple[str, ...]  # every TXT record at the domain starting with v=spf1
    record_strings: tuple[str, ...]  # the one record's character-strings, as published
    ignored_records: tuple[str, ...]  # TXT records that look like SPF but fail §4.5's test
    syntax_error: str | None  # set when `record` does not parse
    syntax_error_position: int | None  # 0-based offset in `record`, with `syntax_error`
    dns_lookups: int  # §4.6.4 lookups over the whole tree (can exceed 10)
    # lookups in the tree that returned NXDOMAIN or nothing, MX hosts' address lookups included
    void_lookups: int
    tree: SpfNode | None  # set when `record` is set
    complete: bool  # False when a cap stopped the tree: counts are then lower bounds
    txt_records: int  # TXT records at the domain
    txt_answer_bytes: int  # estimated size of the DNS answer holding them (§3.4: keep < 512)
    longest_txt_string: int  # longest character-string at the domain, in bytes (max 255)
    record_ttl: int | None = None  # set when records_found: the TTL of their answer


def _wire_name_length(name: str) -> int:
    labels = [x for x in name.split(".") if x]
    return sum(len(x.encode("utf-8", "replace")) + 1 for x in labels) + 1


def estimate_txt_answer_size(name: str, txt: tuple[TxtRecord, ...] | list[TxtRecord]) -> int:
    """Bytes of a DNS answer carrying these TXT records (no EDNS, compressed owner names).

    12-byte header, the question (name + type + class), then per record a 2-byte compression
    pointer, type, class, TTL and RDLENGTH (12 bytes) plus the RDATA (each string and its
    length byte). What §3.4 means by keeping the answer within 512 bytes.
    """
    question = _wire_name_length(name) + 4
    rdata = sum(sum(len(s) + 1 for s in r.strings) for r in txt)
    return 12 + question + 12 * len(txt) + rdata


_SPF_LOOKALIKE = re.compile(r"""[\s"']*v\s*=\s*spf\s*1""", re.IGNORECASE)


def _looks_like_spf(text: str) -> bool:
    """`v=spf1` with a tab, a leading space, quotes or spaces around `=`: meant as SPF, but
    §4.5 makes receivers skip it. (`v=spf2.0/pra`, Sender ID, is something else.)"""
    return bool(_SPF_LOOKALIKE.match(text)) and not is_spf_record(text)


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

    async def collect(self, ctx: CheckContext) -> SpfResult:
        domain = lower_name(ctx.domain)
        limits = ctx.options.limits
        root = await ctx.memo.get_or_compute("spf", domain, lambda: fetch_txt(ctx, domain))
        strings: tuple[str, ...] = ()
        if len(root.spf_texts) == 1:
            one = next(t for t in root.txt if is_spf_record(t.text))
            strings = tuple(s.decode("utf-8", "replace") for s in one.strings)
        ignored = tuple(t.text for t in root.txt if _looks_like_spf(t.text))
        longest = max((len(s) for t in root.txt for s in t.strings), default=0)
        size = estimate_txt_answer_size(domain, root.txt) if root.txt else 0

        tree: SpfNode | None = None
        complete = True
        if len(root.spf_texts) == 1:
            fetched, probes = await fetch_tree(
                ctx, root, limits.max_spf_depth, limits.max_spf_nodes, limits.max_spf_mx_hosts
            )
            builder = TreeBuilder(fetched, probes, limits)
            tree = builder.record_node(SpfNodeKind.ROOT, domain, None, None, ())
            complete = builder.complete
        nodes = list(tree.walk()) if tree else []
        return SpfResult(
            domain=domain,
            record=root.spf_texts[0] if len(root.spf_texts) == 1 else None,
            records_found=root.spf_texts,
            record_strings=strings,
            ignored_records=ignored,
            syntax_error=root.error.message if root.error else None,
            syntax_error_position=root.error.position if root.error else None,
            dns_lookups=tree.total_lookups if tree else 0,
            void_lookups=sum(n.void_lookups for n in nodes),
            tree=tree,
            complete=complete,
            txt_records=len(root.txt),
            txt_answer_bytes=size,
            longest_txt_string=longest,
            record_ttl=root.ttl if root.spf_texts else None,
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
