"""The SPF tree's node type: one lookup-costing term (or the root record) and what it found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from ...fastinit import fast_init


class SpfNodeKind(StrEnum):
    ROOT = "root"
    INCLUDE = "include"
    REDIRECT = "redirect"
    A = "a"
    MX = "mx"
    PTR = "ptr"
    EXISTS = "exists"


class SpfNodeStatus(StrEnum):
    OK = "ok"  # resolved (and, for root/include/redirect, one valid record found)
    VOID = "void"  # a/mx/exists: NXDOMAIN or no records
    NO_RECORD = "no_record"  # include/redirect/root: no v=spf1 record at the name
    MULTIPLE_RECORDS = "multiple_records"
    SYNTAX_ERROR = "syntax_error"
    LOOP = "loop"  # the target is already on the path from the root: not followed again
    MACRO = "macro"  # the target contains macros: counted, not queried
    NOT_QUERIED = "not_queried"  # ptr: needs the connecting IP address
    TRUNCATED = "truncated"  # not followed: Limits.max_spf_depth / max_spf_nodes reached


@fast_init
@dataclass(frozen=True)
class SpfNode:
    """One lookup-costing term of the tree (or the root record) and what it found."""

    kind: SpfNodeKind
    domain: str  # the name looked up; the domain-spec as written when it has macros
    term: str | None  # the term that led here, as written; None at the root
    term_position: int | None  # its offset in the parent's record; None at the root
    status: SpfNodeStatus
    record: str | None  # root/include/redirect: the one SPF record at `domain`, when found
    records_found: tuple[str, ...]  # root/include/redirect: every v=spf1 record at `domain`
    lookups: int  # lookup-costing terms in this node's own record
    total_lookups: int  # this term (1, 0 at the root) plus everything below it
    void: bool  # this term's DNS answer was NXDOMAIN or empty (a void lookup, §4.6.4)
    nxdomain: bool  # set with `void` when the answer was NXDOMAIN
    mx_names: int | None  # mx nodes: how many MX names the target has, when queried
    # mx nodes: the MX hosts (at most 10, by preference) whose address lookup found neither A
    # nor AAAA; each is one more void lookup (§4.6.4)
    void_hosts: tuple[str, ...]
    hosts_not_checked: int  # mx nodes: MX hosts not looked up (Limits.max_spf_mx_hosts)
    syntax_error: str | None  # status syntax_error: the parser's message
    syntax_error_position: int | None  # status syntax_error: 0-based offset in `record`
    children: tuple[SpfNode, ...]

    @property
    def void_lookups(self) -> int:
        """Void lookups this node's own term made: the term's lookup and its MX hosts'."""
        return int(self.void) + len(self.void_hosts)

    def walk(self) -> Iterator[SpfNode]:
        """Every node, each before its children, children in term order. One generator with a
        stack of the nodes still to visit, not one nested generator per node."""
        todo = [self]
        while todo:
            node = todo.pop()
            yield node
            if node.children:
                todo += reversed(node.children)
