"""SPF findings about single terms of the include/redirect tree (RFC 7208 §4.6.4, §5):
each built only when `tree_findings` first meets its term (then deduplicated and capped
there); pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...changes import RecordChange
from ...findings import spf as F
from ...findings.clip import records_count
from ...model import Finding
from ...records.spf import SpfRecord
from .nodes import SpfNode, SpfNodeStatus
from .remediation import change, replace_term, valid, zone_txt_line

if TYPE_CHECKING:
    from .tree_findings import _TreeIndex


def _void_term(node: SpfNode, owner: str) -> str:
    """A void term as the findings name it, with the MX hosts that had no address."""
    text = f"`{node.term}` in {owner}"
    if node.void_hosts:
        hosts = ", ".join(node.void_hosts)
        text += f" (MX host{'s' if len(node.void_hosts) > 1 else ''} without an address: {hosts})"
    return text


def _distinct(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _node_evidence(index: _TreeIndex, node: SpfNode, owner: str) -> tuple[str, ...]:
    owner_record = index.record_of.get(owner)
    return tuple(x for x in (owner_record, *node.records_found) if x)


def _included_plus_all(
    domain: str, record: SpfRecord, node: SpfNode, top: SpfNode, inc: SpfRecord
) -> Finding:
    without = replace_term(record.text, top.term_position or 0, top.term or "", "")
    fix = f"Remove `{top.term}` from the record of {domain}"
    if valid(without):
        fix += f": `{zone_txt_line(domain, without)}`"
    assert inc.all is not None
    return F.PLUS_ALL(
        domain=domain,
        where=f"The record of {node.domain}, included by `{node.term}` in the tree of {domain},",
        term=inc.all.text,
        fix=fix + ".",
        evidence=(record.text, inc.text),
        changes=change(domain, record.text, without),
    )


_INCLUDE_SPECS = {
    SpfNodeStatus.LOOP: F.INCLUDE_LOOP,
    SpfNodeStatus.NO_RECORD: F.INCLUDE_MISSING_RECORD,
    SpfNodeStatus.MULTIPLE_RECORDS: F.INCLUDE_MULTIPLE_RECORDS,
    SpfNodeStatus.SYNTAX_ERROR: F.INCLUDE_SYNTAX_ERROR,
}


def _mx_too_many_names(index: _TreeIndex, node: SpfNode, owner: str) -> Finding:
    return F.MX_TOO_MANY_NAMES(
        term=node.term,
        owner=owner,
        count=node.mx_names,
        target=node.domain,
        evidence=_node_evidence(index, node, owner),
    )


def _include_problem(
    domain: str, record: SpfRecord, index: _TreeIndex, node: SpfNode, owner: str
) -> Finding:
    """The finding for an include or redirect whose target cannot be used (or loops)."""
    evidence = _node_evidence(index, node, owner)
    common = {"term": node.term, "owner": owner, "target": node.domain}
    if node.status is SpfNodeStatus.LOOP:
        path = " → ".join(n.domain for n in index.path(node))
        return F.INCLUDE_LOOP(common, path=path, evidence=evidence)
    if node.status is SpfNodeStatus.NO_RECORD:
        why = (
            "does not exist (NXDOMAIN)"
            if node.nxdomain
            else "has no TXT records"
            if node.void
            else "has TXT records but none starting with v=spf1"
        )
        corrected = ""
        changes: tuple[RecordChange, ...] = ()
        if owner == domain:
            without = replace_term(record.text, node.term_position or 0, node.term or "", "")
            if valid(without):
                corrected = f" Without it: `{zone_txt_line(domain, without)}`"
                changes = change(domain, record.text, without)
        return F.INCLUDE_MISSING_RECORD(
            common, why=why, corrected=corrected, evidence=evidence, changes=changes
        )
    if node.status is SpfNodeStatus.MULTIPLE_RECORDS:
        return F.INCLUDE_MULTIPLE_RECORDS(
            common, count=records_count(node.records_found), evidence=evidence
        )
    return F.INCLUDE_SYNTAX_ERROR(
        common, position=node.syntax_error_position, message=node.syntax_error, evidence=evidence
    )
