"""The SPF tree of one domain, drawn within bounds from the records already fetched.

Records are fetched breadth-first through the run memo (`spf_fetch.fetch_tree`); the tree is then
drawn from them without I/O by `TreeBuilder`, so loops and caps are decided per domain. What a
tree may cost is bounded three ways, each counted over the whole tree, not per record:
records followed (`Limits.max_spf_nodes`), nodes drawn (`Limits.max_spf_terms`: every
lookup-costing term is a node, and one record included 200 times would otherwise be drawn
200 times) and text copied into it (`Limits.max_spf_tree_chars`, with each text clipped at
`Limits.max_spf_text_chars`). Past a cap the tree stops: a record's remaining terms are not
drawn but still counted (its `lookups` exceeds its number of children), `complete` is False and
the evaluation says so (`spf.tree_truncated`).
"""

from __future__ import annotations

from ...findings.clip import clip_text, json_cost, marker, more_records
from ...options import Limits
from ...records.spf import SpfMechanism, SpfRecord
from .collect import NODE_KIND_OF, Probe, TxtFetch, target_name
from .nodes import SpfNode, SpfNodeKind, SpfNodeStatus


class TreeBuilder:
    """Draws one domain's tree from fetched records: loops, caps and counts, without I/O."""

    def __init__(
        self,
        fetched: dict[str, TxtFetch],
        probes: dict[tuple[SpfNodeKind, str], Probe],
        limits: Limits,
    ) -> None:
        self.fetched = fetched
        self.probes = probes
        self.max_depth = limits.max_spf_depth
        self.records_left = limits.max_spf_nodes
        self.terms_left = limits.max_spf_terms
        self.text_left = limits.max_spf_tree_chars
        self.text_limit = limits.max_spf_text_chars
        self.complete = True
        # the tree's void lookups (the sum of its nodes' `void_lookups`), counted as each node
        # that can have one is drawn: every node drawn is in the tree
        self.void_lookups = 0

    @property
    def full(self) -> bool:
        """No further node may be drawn: the term cap or the text budget is spent."""
        return self.terms_left <= 0 or self.text_left <= 0

    def _text(self, text: str) -> str:
        clipped = clip_text(text, self.text_limit)
        self.text_left -= json_cost(clipped)
        return clipped

    def _texts(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        """Records at one name (one answer can hold thousands): each clipped, and those past
        the text budget replaced by one `more_records` line saying how many there were."""
        out: list[str] = []
        for i, text in enumerate(texts):
            if self.text_left <= 0 and i >= 2:
                out.append(more_records(len(texts) - i))
                break
            out.append(self._text(text))
        return tuple(out)

    def _make(
        self,
        kind: SpfNodeKind,
        domain: str,
        term: str | None,
        position: int | None,
        status: SpfNodeStatus,
        **kw: object,
    ) -> SpfNode:
        """Every node is made here, so every node counts against the caps."""
        self.terms_left -= 1
        domain = self._text(domain)
        term = self._text(term) if term is not None else None
        return _node(kind, domain, term, position, status, **kw)  # type: ignore[arg-type]

    def leaf(
        self,
        kind: SpfNodeKind,
        name: str,
        term: str | None,
        position: int | None,
        status: SpfNodeStatus,
    ) -> SpfNode:
        """A node not followed further (loop, macro, cap, ptr): its term still costs a lookup."""
        total = 0 if kind is SpfNodeKind.ROOT else 1
        return self._make(kind, name, term, position, status, total_lookups=total)

    def record_node(
        self,
        kind: SpfNodeKind,
        name: str,
        mech_term: str | None,
        position: int | None,
        path: tuple[str, ...],
    ) -> SpfNode:
        base = 0 if kind is SpfNodeKind.ROOT else 1
        if name in path:
            return self.leaf(kind, name, mech_term, position, SpfNodeStatus.LOOP)
        fetch = self.fetched.get(name)
        if fetch is None or len(path) > self.max_depth or self.records_left <= 0:
            self.complete = False
            return self.leaf(kind, name, mech_term, position, SpfNodeStatus.TRUNCATED)
        self.records_left -= 1
        void = kind is not SpfNodeKind.ROOT and fetch.void
        nxdomain = void and fetch.nxdomain
        if void:
            self.void_lookups += 1
        if fetch.record is None:
            if not fetch.spf_texts:
                status = SpfNodeStatus.NO_RECORD
            elif len(fetch.spf_texts) > 1:
                status = SpfNodeStatus.MULTIPLE_RECORDS
            else:
                status = SpfNodeStatus.SYNTAX_ERROR
            err = fetch.error
            found = self._texts(fetch.spf_texts)
            return self._make(
                kind,
                name,
                mech_term,
                position,
                status,
                record=found[0] if len(found) == 1 else None,
                records_found=found,
                total_lookups=base,
                void=void,
                nxdomain=nxdomain,
                syntax_error=self._text(err.message) if err else None,
                syntax_error_position=err.position if err else None,
            )
        record = fetch.record
        # this node is counted before its children, which are then drawn while the caps
        # allow; the terms left over are counted, not drawn
        self.terms_left -= 1
        shown_name = self._text(name)
        shown_term = self._text(mech_term) if mech_term is not None else None
        text = clip_record(record.text, record, self.text_limit)
        # the fetch has the cost of the whole text (shared by every tree that draws it)
        cost = fetch.record_cost if text is record.text else json_cost(text)
        self.text_left -= 2 * cost  # written twice: `record` and `records_found`
        inner = (*path, name)
        terms = record.lookup_mechanisms
        redirect = record.effective_redirect
        lookups = len(terms) + (redirect is not None)
        children: list[SpfNode] = []
        total = base
        for mech in terms:
            if self.full:
                break
            child = self.term_node(mech, name, inner)
            children.append(child)
            total += child.total_lookups
        if redirect is not None and not self.full:
            target = target_name(redirect.value, name)
            kind_r = SpfNodeKind.REDIRECT
            child = (
                self.leaf(
                    kind_r, redirect.value, redirect.text, redirect.position, SpfNodeStatus.MACRO
                )
                if target is None
                else self.record_node(kind_r, target, redirect.text, redirect.position, inner)
            )
            children.append(child)
            total += child.total_lookups
        if len(children) < lookups:
            self.complete = False
        return _node(
            kind,
            shown_name,
            shown_term,
            position,
            SpfNodeStatus.OK,
            record=text,
            records_found=(text,),
            lookups=lookups,
            total_lookups=total + lookups - len(children),
            void=void,
            nxdomain=nxdomain,
            children=tuple(children),
        )

    def term_node(self, mech: SpfMechanism, own: str, path: tuple[str, ...]) -> SpfNode:
        kind = NODE_KIND_OF.get(mech.kind) or SpfNodeKind(mech.kind.value)
        target = target_name(mech.domain_spec, own)
        if target is None:
            spec = mech.domain_spec or own
            return self.leaf(kind, spec, mech.text, mech.position, SpfNodeStatus.MACRO)
        if kind is SpfNodeKind.INCLUDE:
            return self.record_node(kind, target, mech.text, mech.position, path)
        if kind is SpfNodeKind.PTR:
            return self.leaf(kind, target, mech.text, mech.position, SpfNodeStatus.NOT_QUERIED)
        probe = self.probes.get((kind, target))
        if probe is None:
            self.complete = False
            return self.leaf(kind, target, mech.text, mech.position, SpfNodeStatus.TRUNCATED)
        status = SpfNodeStatus.VOID if probe.void else SpfNodeStatus.OK
        void_hosts, not_checked = self._void_hosts(probe)
        self.void_lookups += int(probe.void) + len(void_hosts)
        return self._make(
            kind,
            target,
            mech.text,
            mech.position,
            status,
            total_lookups=1,
            void=probe.void,
            nxdomain=probe.nxdomain,
            mx_names=probe.mx_names,
            void_hosts=void_hosts,
            hosts_not_checked=not_checked,
        )

    def _void_hosts(self, probe: Probe) -> tuple[tuple[str, ...], int]:
        """An mx probe's hosts without any address (each a void lookup, §4.6.4), and how many
        were not looked up (`Limits.max_spf_mx_hosts`): the count is then a lower bound."""
        void: list[str] = []
        not_checked = 0
        for host in probe.mx_hosts:
            if not host:  # null MX (RFC 7505): receivers look nothing up for it
                continue
            found = self.probes.get((SpfNodeKind.A, host))
            if found is None:
                not_checked += 1
            elif found.void:
                void.append(self._text(host))
        if not_checked:
            self.complete = False
        return tuple(void), not_checked


def clip_record(text: str, record: SpfRecord | None, limit: int) -> str:
    """A record text cut to about `limit` characters at a term boundary, with a marker; its
    first `all` kept after the marker when it was cut off, so that the evaluation (which
    strips the marker and parses what is left) still finds the `all` that decides."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    cut = cut if cut > 0 else limit
    head = text[:cut].rstrip(" ")
    tail = ""
    if record is not None and record.all is not None and record.all.position >= cut:
        tail = " " + record.all.text
    return f"{head} {marker(len(text) - len(head) - len(tail))}{tail}"


def _node(
    kind: SpfNodeKind,
    domain: str,
    term: str | None,
    position: int | None,
    status: SpfNodeStatus,
    *,
    record: str | None = None,
    records_found: tuple[str, ...] = (),
    lookups: int = 0,
    total_lookups: int = 0,
    void: bool = False,
    nxdomain: bool = False,
    mx_names: int | None = None,
    void_hosts: tuple[str, ...] = (),
    hosts_not_checked: int = 0,
    syntax_error: str | None = None,
    syntax_error_position: int | None = None,
    children: tuple[SpfNode, ...] = (),
) -> SpfNode:
    """SpfNode with defaults: the dataclass keeps every field required so the JSON schema
    lists them all, and call sites name only what differs."""
    return SpfNode(
        kind=kind,
        domain=domain,
        term=term,
        term_position=position,
        status=status,
        record=record,
        records_found=records_found,
        lookups=lookups,
        total_lookups=total_lookups,
        void=void,
        nxdomain=nxdomain,
        mx_names=mx_names,
        void_hosts=void_hosts,
        hosts_not_checked=hosts_not_checked,
        syntax_error=syntax_error,
        syntax_error_position=syntax_error_position,
        children=children,
    )
