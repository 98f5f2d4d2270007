"""SPF findings about the include/redirect tree (RFC 7208 §4.6.4, §5, §6): pure.

Each pass is linear in the tree's nodes (at most `Limits.max_spf_terms`); findings about
single nodes are deduplicated (a record included 200 times is one finding) and capped per
code (`Limits.max_findings_per_code`, with `spf.findings_limited` saying what was left out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ...changes import RecordChange
from ...findings import spf as F
from ...findings.clip import is_clipped, listed
from ...model import Finding
from ...options import Limits
from ...records.spf import SpfMechanismKind, SpfQualifier, SpfRecord
from .collect import MX_NAMES_LIMIT
from .node_findings import (
    _INCLUDE_SPECS,
    _distinct,
    _include_problem,
    _included_plus_all,
    _mx_too_many_names,
    _void_term,
)
from .nodes import SpfNode, SpfNodeKind, SpfNodeStatus
from .remediation import change, parsed, replace_term, valid, with_all, zone_txt_line

if TYPE_CHECKING:
    from .result import SpfResult

RFC_LOOKUP_LIMIT = 10  # §4.6.4
RFC_VOID_LIMIT = 2  # §4.6.4
RFC_MX_NAMES_LIMIT = MX_NAMES_LIMIT  # §4.6.4


class _TreeIndex:
    """Parents and records of a tree's nodes, found in one pass: the findings below ask for
    owners and paths of many nodes, and a search from the root for each would be quadratic."""

    def __init__(self, tree: SpfNode) -> None:
        self.tree = tree
        self.nodes = list(tree.walk())
        self.parent: dict[int, SpfNode] = {}
        self.record_of: dict[str, str] = {}
        for node in self.nodes:
            if node.record and node.domain not in self.record_of:
                self.record_of[node.domain] = node.record
            for child in node.children:
                self.parent[id(child)] = node

    def owner(self, node: SpfNode, default: str) -> str:
        """The domain whose record holds the term that led to `node`."""
        parent = self.parent.get(id(node))
        return parent.domain if parent is not None else default

    def path(self, node: SpfNode) -> list[SpfNode]:
        """The nodes from the root down to `node`."""
        out = [node]
        while id(out[-1]) in self.parent:
            out.append(self.parent[id(out[-1])])
        return out[::-1]


class _Capped:
    """Findings about tree nodes: the same term drawn many times (one record included over
    and over) is one finding, and one code yields at most `limit` findings per domain."""

    def __init__(self, limit: int, out: list[Finding]) -> None:
        self.limit = limit
        self.seen: set[tuple[str | None, ...]] = set()
        self.count: dict[str, int] = {}
        self.out = out

    def add(self, key: tuple[str | None, ...], make: Callable[[], Finding], code: str) -> None:
        """Append the finding `make` builds, unless (code, *key) was seen or `code` is full."""
        full_key = (code, *key)
        if full_key in self.seen:
            return
        self.seen.add(full_key)
        n = self.count.get(code, 0) + 1
        self.count[code] = n
        if n <= self.limit:
            self.out.append(make())

    def left_out(self, domain: str) -> list[Finding]:
        over = {c: n - self.limit for c, n in self.count.items() if n > self.limit}
        if not over:
            return []
        codes = listed([f"{c} ({n:,} more)" for c, n in over.items()])
        return [F.FINDINGS_LIMITED(domain=domain, limit=self.limit, codes=codes)]


def _depth(node: SpfNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=-1)


_ALL_SPECS = {
    SpfQualifier.PASS: F.PLUS_ALL,
    SpfQualifier.NEUTRAL: F.NEUTRAL_ALL,
    SpfQualifier.SOFTFAIL: F.SOFTFAIL_ALL,
}


@dataclass
class _Walk:
    """What every part of the tree's judgement reads, built once per domain."""

    facts: SpfResult
    record: SpfRecord
    domain: str
    tree: SpfNode
    index: _TreeIndex
    nodes: list[SpfNode]
    out: list[Finding]  # the findings so far, in the order they are reported
    per_node: _Capped


def tree_findings(facts: SpfResult, record: SpfRecord, limits: Limits) -> list[Finding]:
    """Findings about the whole include/redirect tree, in a fixed order."""
    tree = facts.tree
    assert tree is not None
    out: list[Finding] = []
    index = _TreeIndex(tree)
    w = _Walk(
        facts,
        record,
        facts.domain,
        tree,
        index,
        index.nodes,
        out,
        _Capped(limits.max_findings_per_code, out),
    )
    for part in _PARTS:
        part(w)
    return out


def _decider_findings(w: _Walk) -> None:
    """The finding about the `all` that decides: the root's, or the end of its redirect chain."""
    record, domain, tree, out = w.record, w.domain, w.tree, w.out
    # the `all` that decides: the root's, or the end of its redirect chain (§6.1). The root's
    # record is parsed from the facts, where it is whole; a node's may be clipped.
    decider: SpfNode = tree
    while True:
        rec = record if decider is tree else parsed(decider.record)
        if rec is None or rec.all is not None:
            break
        nxt = next((c for c in decider.children if c.kind is SpfNodeKind.REDIRECT), None)
        if nxt is None or nxt.status is not SpfNodeStatus.OK:
            break
        decider = nxt
    decider_rec = record if decider is tree else parsed(decider.record)
    if decider_rec is not None and decider_rec.all is not None:
        all_mech = decider_rec.all
        spec = _ALL_SPECS.get(all_mech.qualifier)
        if spec is not None:
            own = decider is tree
            where = (
                f"The SPF record of {domain}"
                if own
                else f"The SPF record of {decider.domain} (reached by redirect from {domain})"
            )
            if own or not is_clipped(decider.record):
                line = zone_txt_line(decider.domain, with_all(decider_rec, "-"))
                fix = f"Replace `{all_mech.text}` by `-all`: `{line}`"
            else:  # too long to quote whole, so no corrected record can be quoted either
                line = f"(the record of {decider.domain} with `-all`)"
                fix = f"Replace `{all_mech.text}` by `-all` in the record of {decider.domain}"
            if not own:
                fix = f"Ask the owner of {decider.domain} to {fix[0].lower()}{fix[1:]}"
            out.append(
                spec(
                    domain=domain,
                    where=where,
                    term=all_mech.text,
                    line=line,
                    fix=fix,
                    evidence=(decider_rec.text,),
                    # the domain's own record only: another domain's is not ours to change
                    changes=change(domain, record.text, with_all(record, "-")) if own else (),
                )
            )


def _included_pass_all(w: _Walk) -> None:
    """Includes whose record ends in `+all` (each makes the include match everything)."""
    record, domain, index, nodes, per_node = w.record, w.domain, w.index, w.nodes, w.per_node
    # an included record that passes everything makes the include match everything
    for node in nodes:
        if node.kind is not SpfNodeKind.INCLUDE or node.status is not SpfNodeStatus.OK:
            continue
        inc = parsed(node.record)
        if inc is None or inc.all is None or inc.all.qualifier is not SpfQualifier.PASS:
            continue
        top = index.path(node)[1]
        top_mech = next((m for m in record.mechanisms if m.position == top.term_position), None)
        if top_mech is not None and top_mech.qualifier is not SpfQualifier.PASS:
            continue  # `-include:` of a +all record fails everything instead; not a pass-all
        per_node.add(
            (node.domain, top.term),
            partial(_included_plus_all, domain, record, node, top, inc),
            F.PLUS_ALL.code,
        )


def _lookup_findings(w: _Walk) -> None:
    """The lookup and void-lookup limits of §4.6.4."""
    facts, record, domain, tree = w.facts, w.record, w.domain, w.tree
    index, nodes, out = w.index, w.nodes, w.out
    # lookups
    if facts.dns_lookups > RFC_LOOKUP_LIMIT:
        heavy = sorted(tree.children, key=lambda n: -n.total_lookups)[:5]
        heaviest = ", ".join(f"`{n.term}` ({n.total_lookups})" for n in heavy)
        out.append(
            F.LOOKUP_LIMIT_EXCEEDED(
                domain=domain,
                count=facts.dns_lookups,
                bound="" if facts.complete else " at least",
                over=facts.dns_lookups - RFC_LOOKUP_LIMIT,
                heaviest=heaviest,
                evidence=tuple(dict.fromkeys(n.record for n in nodes if n.record)),
            )
        )
    voids = [n for n in nodes if n.void or n.void_hosts]  # those with void_lookups
    if voids:
        count = sum(n.void_lookups for n in voids)
        terms = listed(_distinct(_void_term(n, index.owner(n, domain)) for n in voids))
        leaf_voids = [n for n in voids if n.kind not in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT)]
        if count > RFC_VOID_LIMIT:
            out.append(
                F.VOID_LOOKUP_LIMIT_EXCEEDED(
                    domain=domain,
                    count=count,
                    bound="" if facts.complete else " at least",
                    terms=terms,
                    evidence=(record.text,),
                )
            )
        elif leaf_voids:
            leaf_terms = listed(
                _distinct(_void_term(n, index.owner(n, domain)) for n in leaf_voids)
            )
            out.append(F.VOID_LOOKUP(domain=domain, terms=leaf_terms, evidence=(record.text,)))


def _node_findings(w: _Walk) -> None:
    """Per-node problems: `mx` with too many names, includes and redirects that cannot be used."""
    record, domain, index, nodes, per_node = w.record, w.domain, w.index, w.nodes, w.per_node
    for node in nodes:
        if node.kind is SpfNodeKind.MX and (node.mx_names or 0) > RFC_MX_NAMES_LIMIT:
            owner = index.owner(node, domain)
            per_node.add(
                (owner, node.term),
                partial(_mx_too_many_names, index, node, owner),
                F.MX_TOO_MANY_NAMES.code,
            )
        if node.kind in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT):
            spec = _INCLUDE_SPECS.get(node.status)
            if spec is not None:
                owner = index.owner(node, domain)
                per_node.add(
                    (owner, node.term),
                    partial(_include_problem, domain, record, index, node, owner),
                    spec.code,
                )


def _ptr_findings(w: _Walk) -> None:
    """`ptr` anywhere in the tree (§5.5: do not use)."""
    record, domain, index, nodes, out = w.record, w.domain, w.index, w.nodes, w.out
    ptrs = [n for n in nodes if n.kind is SpfNodeKind.PTR]
    if ptrs:
        terms = listed(
            _distinct(f"`{n.term}` in the record of {index.owner(n, domain)}" for n in ptrs)
        )
        fix = ""
        ptr_changes: tuple[RecordChange, ...] = ()
        own_ptrs = [m for m in record.mechanisms if m.kind is SpfMechanismKind.PTR]
        if own_ptrs:
            without = record.text
            for m in sorted(own_ptrs, key=lambda m: -m.position):
                without = replace_term(without, m.position, m.text, "")
            if valid(without):
                fix = (
                    " Without `ptr` (add the hosts it stood for first): "
                    f"`{zone_txt_line(domain, without)}`"
                )
                ptr_changes = change(domain, record.text, without)
        out.append(
            F.PTR_DEPRECATED(terms=terms, fix=fix, evidence=(record.text,), changes=ptr_changes)
        )


def _macro_findings(w: _Walk) -> None:
    """Macros that cannot be expanded without a message, and the findings the cap left out."""
    record, domain, nodes, out, per_node = w.record, w.domain, w.nodes, w.out, w.per_node
    macros = [n for n in nodes if n.status is SpfNodeStatus.MACRO]
    if macros:
        out.append(
            F.MACRO_UNRESOLVED(
                terms=listed(_distinct(f"`{n.term}`" for n in macros)), evidence=(record.text,)
            )
        )
    out.extend(per_node.left_out(domain))


def _truncation_finding(w: _Walk) -> None:
    """The tree a cap cut short: its counts are lower bounds."""
    facts, domain, tree, nodes, out = w.facts, w.domain, w.tree, w.nodes, w.out
    if not facts.complete:
        records = sum(1 for n in nodes if n.record)
        capped = sum(1 for n in nodes if n.status is SpfNodeStatus.TRUNCATED)
        undrawn = sum(n.lookups - len(n.children) for n in nodes if n.lookups > len(n.children))
        hosts = sum(n.hosts_not_checked for n in nodes)
        out.append(
            F.TREE_TRUNCATED(
                domain=domain,
                depth=_depth(tree),
                nodes=records,
                terms=len(nodes),
                not_followed=capped,
                not_drawn=undrawn,
                hosts=f", and {hosts} MX hosts' addresses not looked up" if hosts else "",
            )
        )


_PARTS: tuple[Callable[[_Walk], None], ...] = (
    _decider_findings,
    _included_pass_all,
    _lookup_findings,
    _node_findings,
    _ptr_findings,
    _macro_findings,
    _truncation_finding,
)
