"""SPF check (RFC 7208): the record, its whole include/redirect tree, and what it costs.

`collect` fetches every record of the tree breadth-first, each level concurrently, through the
run memo (a provider's include used by thousands of domains is fetched and parsed once per
run), then draws the tree from those records without further I/O, so loop detection and the
caps (`Limits.max_spf_depth`, `Limits.max_spf_nodes`) are decided per domain and do not depend
on which domain happened to fetch a shared record first.

Lookups are counted as RFC 7208 §4.6.4 counts them: `include`, `a`, `mx`, `ptr`, `exists` and
`redirect` one each; `ip4`, `ip6`, `all` and `exp` none. Terms after the first `all` are never
evaluated (§5.1) and `redirect` is ignored when `all` is present (§6.1), so neither is
counted. The count is the worst case (no mechanism matches) and keeps going past 10 so the
report says by how much the limit is exceeded.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from ..findings import spf as F
from ..model import CheckId, Finding, Severity
from ..records.errors import RecordSyntaxError
from ..records.spf import (
    SpfMechanism,
    SpfMechanismKind,
    SpfModifier,
    SpfQualifier,
    SpfRecord,
    expand_domain_macros,
    is_spf_record,
    parse_spf,
)
from ..resolver.base import Answer, RRType, TxtRecord
from .base import Check, CheckContext, EvaluationContext

RFC_LOOKUP_LIMIT = 10  # §4.6.4
RFC_VOID_LIMIT = 2  # §4.6.4
RFC_MX_NAMES_LIMIT = 10  # §4.6.4
UDP_ANSWER_LIMIT = 512  # §3.4
TXT_STRING_LIMIT = 255  # RFC 1035 §3.3


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
    syntax_error: str | None  # status syntax_error: the parser's message
    syntax_error_position: int | None  # status syntax_error: 0-based offset in `record`
    children: tuple[SpfNode, ...]

    def walk(self) -> Iterator[SpfNode]:
        yield self
        for child in self.children:
            yield from child.walk()


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
    void_lookups: int  # lookups in the tree that returned NXDOMAIN or nothing
    tree: SpfNode | None  # set when `record` is set
    complete: bool  # False when a cap stopped the tree: counts are then lower bounds
    txt_records: int  # TXT records at the domain
    txt_answer_bytes: int  # estimated size of the DNS answer holding them (§3.4: keep < 512)
    longest_txt_string: int  # longest character-string at the domain, in bytes (max 255)


# ---------------------------------------------------------------------------------------------
# collect


@dataclass(frozen=True)
class _TxtFetch:
    """A name's TXT answer, reduced to what SPF needs; shared by every domain of a run."""

    name: str
    nxdomain: bool
    txt: tuple[TxtRecord, ...]
    spf_texts: tuple[str, ...]
    record: SpfRecord | None  # exactly one SPF record and it parses
    error: RecordSyntaxError | None  # exactly one SPF record and it does not parse

    @property
    def void(self) -> bool:
        return not self.txt


@dataclass(frozen=True)
class _Probe:
    """An a/mx/exists target's answer: whether it is void, and MX names for mx."""

    void: bool
    nxdomain: bool
    mx_names: int | None = None


def _lower(name: str) -> str:
    return name.rstrip(".").lower()


def _target(spec: str | None, own: str) -> str | None:
    """The name a term looks up in the record of `own`; None when macros need a message."""
    if spec is None:
        return own
    if "%" not in spec:
        return _lower(spec)
    expanded = expand_domain_macros(spec, own)
    if not expanded or any(not 0 < len(label) <= 63 for label in expanded.split(".")):
        return None  # needs the message, or expands to a name DNS cannot carry: not asked
    return _lower(expanded)


def _targets(record: SpfRecord, own: str) -> Iterator[tuple[SpfNodeKind, str]]:
    """The (kind, name) lookups a record's evaluated terms make; message-macro targets
    excluded."""
    for mech in record.evaluated_mechanisms:
        kind = SpfNodeKind(mech.kind.value) if mech.counts_lookup else None
        target = _target(mech.domain_spec, own)
        if kind is None or kind is SpfNodeKind.PTR or target is None:
            continue
        yield kind, target
    redirect = record.effective_redirect
    target = _target(redirect.value, own) if redirect is not None else None
    if target is not None:
        yield SpfNodeKind.REDIRECT, target


async def _fetch_txt(ctx: CheckContext, name: str) -> _TxtFetch:
    answer = await ctx.resolver.resolve(name, RRType.TXT)
    txt = tuple(answer.txt())
    texts = tuple(t.text for t in txt if is_spf_record(t.text))
    record: SpfRecord | None = None
    error: RecordSyntaxError | None = None
    if len(texts) == 1:
        try:
            record = parse_spf(texts[0])
        except RecordSyntaxError as exc:
            error = exc
    return _TxtFetch(name, answer.nxdomain, txt, texts, record, error)


async def _probe(ctx: CheckContext, kind: SpfNodeKind, name: str) -> _Probe:
    if kind is SpfNodeKind.MX:
        answer = await ctx.resolver.resolve(name, RRType.MX)
        return _Probe(answer.empty, answer.nxdomain, len(answer.mx()))
    a: Answer = await ctx.resolver.resolve(name, RRType.A)
    if a.records or a.nxdomain or kind is SpfNodeKind.EXISTS:
        return _Probe(a.empty, a.nxdomain)
    # `a` matches on AAAA too: a name with only IPv6 addresses is not void for every sender
    aaaa = await ctx.resolver.resolve(name, RRType.AAAA)
    return _Probe(aaaa.empty, False)


class _TreeBuilder:
    """Draws one domain's tree from fetched records: loops, caps and counts, without I/O."""

    def __init__(
        self,
        fetched: dict[str, _TxtFetch],
        probes: dict[tuple[SpfNodeKind, str], _Probe],
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.fetched = fetched
        self.probes = probes
        self.max_depth = max_depth
        self.nodes_left = max_nodes
        self.complete = True

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
            return _leaf(kind, name, mech_term, position, SpfNodeStatus.LOOP)
        fetch = self.fetched.get(name)
        if fetch is None or len(path) > self.max_depth or self.nodes_left <= 0:
            self.complete = False
            return _leaf(kind, name, mech_term, position, SpfNodeStatus.TRUNCATED)
        self.nodes_left -= 1
        void = kind is not SpfNodeKind.ROOT and fetch.void
        nxdomain = void and fetch.nxdomain
        if fetch.record is None:
            if not fetch.spf_texts:
                status = SpfNodeStatus.NO_RECORD
            elif len(fetch.spf_texts) > 1:
                status = SpfNodeStatus.MULTIPLE_RECORDS
            else:
                status = SpfNodeStatus.SYNTAX_ERROR
            err = fetch.error
            return _node(
                kind,
                name,
                mech_term,
                position,
                status,
                record=fetch.spf_texts[0] if len(fetch.spf_texts) == 1 else None,
                records_found=fetch.spf_texts,
                total_lookups=base,
                void=void,
                nxdomain=nxdomain,
                syntax_error=err.message if err else None,
                syntax_error_position=err.position if err else None,
            )
        record = fetch.record
        inner = (*path, name)
        children: list[SpfNode] = []
        for mech in record.evaluated_mechanisms:
            if mech.counts_lookup:
                children.append(self.term_node(mech, name, inner))
        redirect = record.effective_redirect
        if redirect is not None:
            target = _target(redirect.value, name)
            kind_r = SpfNodeKind.REDIRECT
            children.append(
                _leaf(kind_r, redirect.value, redirect.text, redirect.position, SpfNodeStatus.MACRO)
                if target is None
                else self.record_node(kind_r, target, redirect.text, redirect.position, inner)
            )
        lookups = len(children)
        total = base + sum(c.total_lookups for c in children)
        return _node(
            kind,
            name,
            mech_term,
            position,
            SpfNodeStatus.OK,
            record=record.text,
            records_found=fetch.spf_texts,
            lookups=lookups,
            total_lookups=total,
            void=void,
            nxdomain=nxdomain,
            children=tuple(children),
        )

    def term_node(self, mech: SpfMechanism, own: str, path: tuple[str, ...]) -> SpfNode:
        kind = SpfNodeKind(mech.kind.value)
        target = _target(mech.domain_spec, own)
        if target is None:
            spec = mech.domain_spec or own
            return _leaf(kind, spec, mech.text, mech.position, SpfNodeStatus.MACRO)
        if kind is SpfNodeKind.INCLUDE:
            return self.record_node(kind, target, mech.text, mech.position, path)
        if kind is SpfNodeKind.PTR:
            return _leaf(kind, target, mech.text, mech.position, SpfNodeStatus.NOT_QUERIED)
        probe = self.probes.get((kind, target))
        if probe is None:
            self.complete = False
            return _leaf(kind, target, mech.text, mech.position, SpfNodeStatus.TRUNCATED)
        status = SpfNodeStatus.VOID if probe.void else SpfNodeStatus.OK
        return _node(
            kind,
            target,
            mech.text,
            mech.position,
            status,
            total_lookups=1,
            void=probe.void,
            nxdomain=probe.nxdomain,
            mx_names=probe.mx_names,
        )


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
        syntax_error=syntax_error,
        syntax_error_position=syntax_error_position,
        children=children,
    )


def _leaf(
    kind: SpfNodeKind, name: str, term: str | None, position: int | None, status: SpfNodeStatus
) -> SpfNode:
    """A node not followed further (loop, macro, cap, ptr): its term still costs a lookup."""
    total = 0 if kind is SpfNodeKind.ROOT else 1
    return _node(kind, name, term, position, status, total_lookups=total)


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
_GLUED_TERM = re.compile(
    r"[+\-~?]?(?:all|include|a|mx|ptr|ip4|ip6|exists)(?:[:/]|$)|(?:redirect|exp)=", re.IGNORECASE
)


def _looks_like_spf(text: str) -> bool:
    """`v=spf1` with a tab, a leading space, quotes or spaces around `=`: meant as SPF, but
    §4.5 makes receivers skip it. (`v=spf2.0/pra`, Sender ID, is something else.)"""
    return bool(_SPF_LOOKALIKE.match(text)) and not is_spf_record(text)


def _glued_joins(text: str, strings: tuple[str, ...]) -> list[int]:
    """Offsets where two TXT strings were joined with no space into something that reads as
    two terms (§3.3 joins them without adding one): `"…a.example" "include:…"`."""
    out: list[int] = []
    at = 0
    for piece in strings[:-1]:
        at += len(piece)
        if not (0 < at < len(text)) or text[at - 1] == " " or text[at] == " ":
            continue
        end = text.find(" ", at)
        if _GLUED_TERM.match(text[at : end if end >= 0 else len(text)]):
            out.append(at)
    return out


class SpfCheck(Check[SpfResult]):
    """RFC 7208: one SPF record, valid, within 10 DNS lookups and 2 void lookups, ending in a
    restrictive `all`."""

    id = CheckId.SPF
    result_type = SpfResult
    standard = "RFC 7208"

    async def collect(self, ctx: CheckContext) -> SpfResult:
        domain = _lower(ctx.domain)
        limits = ctx.options.limits
        root = await ctx.memo.get_or_compute("spf", domain, lambda: _fetch_txt(ctx, domain))
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
            fetched, probes = await self._fetch_tree(
                ctx, root, limits.max_spf_depth, limits.max_spf_nodes
            )
            builder = _TreeBuilder(fetched, probes, limits.max_spf_depth, limits.max_spf_nodes)
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
            void_lookups=sum(1 for n in nodes if n.void),
            tree=tree,
            complete=complete,
            txt_records=len(root.txt),
            txt_answer_bytes=size,
            longest_txt_string=longest,
        )

    async def _fetch_tree(
        self, ctx: CheckContext, root: _TxtFetch, max_depth: int, max_nodes: int
    ) -> tuple[dict[str, _TxtFetch], dict[tuple[SpfNodeKind, str], _Probe]]:
        """Breadth-first, one concurrent batch per level, every name at most once."""
        fetched = {root.name: root}
        probes: dict[tuple[SpfNodeKind, str], _Probe] = {}
        level = [root]
        for _depth in range(max_depth + 1):
            want_records: list[str] = []
            want_probes: list[tuple[SpfNodeKind, str]] = []
            for fetch in level:
                if fetch.record is None:
                    continue
                for kind, name in _targets(fetch.record, fetch.name):
                    if kind in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT):
                        if name not in fetched and name not in want_records:
                            want_records.append(name)
                    elif (kind, name) not in probes and (kind, name) not in want_probes:
                        want_probes.append((kind, name))
            want_records = want_records[: max(0, max_nodes - len(fetched))]
            want_probes = want_probes[: max(0, max_nodes - len(probes))]
            if not want_records and not want_probes:
                break
            values = await ctx.memo.get_many(
                [("spf", n, lambda n=n: _fetch_txt(ctx, n)) for n in want_records]
                + [
                    (f"spf.{k.value}", n, lambda k=k, n=n: _probe(ctx, k, n))
                    for k, n in want_probes
                ]
            )
            records = values[: len(want_records)]
            probed = values[len(want_records) :]
            fetched.update(zip(want_records, records, strict=True))
            probes.update(zip(want_probes, probed, strict=True))
            level = list(records)
        return fetched, probes

    def evaluate(self, facts: SpfResult, ctx: EvaluationContext) -> list[Finding]:
        return _evaluate(facts)


# ---------------------------------------------------------------------------------------------
# evaluate


def zone_txt_line(owner: str, text: str, ttl: int = 3600) -> str:
    """The zone-file line publishing `text`, split into strings of at most 255 bytes."""
    data = text.encode("utf-8")
    chunks = [data[i : i + TXT_STRING_LIMIT] for i in range(0, len(data), TXT_STRING_LIMIT)]
    quoted = " ".join(
        '"' + c.decode("utf-8", "replace").replace("\\", "\\\\").replace('"', '\\"') + '"'
        for c in chunks or [b""]
    )
    return f"{owner.rstrip('.')}. {ttl} IN TXT {quoted}"


def _valid(text: str) -> bool:
    try:
        parse_spf(text)
    except RecordSyntaxError:
        return False
    return True


def _proposal(owner: str, text: str) -> str:
    """A "Corrected record: …" sentence when `text` is a valid record, else nothing: we
    never propose a record that would itself be a syntax error."""
    return f" Corrected record: `{zone_txt_line(owner, text)}`" if _valid(text) else ""


def _replace_term(text: str, position: int, old: str, new: str) -> str:
    """Replace one term in place; with `new` empty, also drop the space before it."""
    if new:
        return text[:position] + new + text[position + len(old) :]
    start = position
    while start > 0 and text[start - 1] == " ":
        start -= 1
    return text[:start] + text[position + len(old) :]


def _context(text: str, position: int) -> str:
    start = max(0, position - 10)
    end = min(len(text), position + 20)
    snippet = text[start:end]
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


def _with_all(record: SpfRecord, qualifier: str) -> str:
    """The record with its first `all` replaced, or `all` appended when it has none."""
    mech = record.all
    if mech is None:
        return record.text.rstrip(" ") + f" {qualifier}all"
    return _replace_term(record.text, mech.position, mech.text, f"{qualifier}all")


def _typo_fix(text: str, position: int, message: str) -> str | None:
    """For `unknown mechanism 'inclde'`, the record with the closest mechanism name."""
    if not message.startswith("unknown mechanism"):
        return None
    end = text.find(" ", position)
    term = text[position : end if end >= 0 else len(text)]
    qualifier = term[0] if term[:1] in "+-~?" else ""
    body = term[len(qualifier) :]
    name = body.split(":", 1)[0].split("/", 1)[0]
    names = [k.value for k in SpfMechanismKind]
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    if not close:
        return None
    fixed = _replace_term(text, position, term, qualifier + close[0] + body[len(name) :])
    return fixed if _valid(fixed) else None


def _merge(records: tuple[str, ...]) -> str | None:
    """One record holding the terms of several, or None when a term makes that unsafe."""
    terms: list[str] = []
    final = "-all"
    for text in records:
        try:
            rec = parse_spf(text)
        except RecordSyntaxError:
            return None
        for t in rec.terms:
            if isinstance(t, SpfModifier):
                if t.name in ("redirect", "exp"):
                    return None
                continue
            if t.kind is SpfMechanismKind.ALL:
                continue
            if t.text.lower() not in (x.lower() for x in terms):
                terms.append(t.text)
    merged = " ".join(["v=spf1", *terms, final])
    return merged if _valid(merged) else None


def _parsed(text: str | None) -> SpfRecord | None:
    if text is None:
        return None
    try:
        return parse_spf(text)
    except RecordSyntaxError:
        return None


def _owner_of(tree: SpfNode) -> dict[int, str]:
    """id(node) -> the domain whose record contains the term that led to it."""
    owners: dict[int, str] = {}
    for node in tree.walk():
        for child in node.children:
            owners[id(child)] = node.domain
    return owners


def _path_to(tree: SpfNode, target: SpfNode) -> list[SpfNode]:
    def go(node: SpfNode, acc: list[SpfNode]) -> list[SpfNode] | None:
        acc = [*acc, node]
        if node is target:
            return acc
        for child in node.children:
            found = go(child, acc)
            if found:
                return found
        return None

    return go(tree, []) or [target]


def _depth(node: SpfNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=-1)


def _evaluate(facts: SpfResult) -> list[Finding]:
    domain = facts.domain
    out: list[Finding] = []
    if facts.ignored_records:
        out.append(
            F.VERSION_MALFORMED(
                domain=domain,
                count=len(facts.ignored_records),
                records="; ".join(f"`{r}`" for r in facts.ignored_records),
                evidence=facts.ignored_records,
                severity=Severity.HIGH if not facts.records_found else None,
            )
        )
    if facts.longest_txt_string > TXT_STRING_LIMIT:
        out.append(
            F.STRING_TOO_LONG(
                domain=domain,
                length=facts.longest_txt_string,
                fix=_proposal(domain, facts.record or ""),
                evidence=facts.records_found,
            )
        )
    if facts.txt_answer_bytes > UDP_ANSWER_LIMIT:
        out.append(
            F.ANSWER_TOO_LARGE(
                domain=domain,
                count=facts.txt_records,
                size=facts.txt_answer_bytes,
                evidence=facts.records_found,
            )
        )
    if not facts.records_found:
        note = (
            " (A record that looks like SPF is ignored; see spf.version_malformed.)"
            if facts.ignored_records
            else ""
        )
        out.append(
            F.MISSING(
                domain=domain,
                ignored=note,
                mx_line=zone_txt_line(domain, "v=spf1 mx -all"),
                none_line=zone_txt_line(domain, "v=spf1 -all"),
            )
        )
        return out
    if len(facts.records_found) > 1:
        merged = _merge(facts.records_found)
        hint = f" For example: `{zone_txt_line(domain, merged)}`" if merged else ""
        out.append(
            F.MULTIPLE_RECORDS(
                domain=domain,
                count=len(facts.records_found),
                merged=hint,
                evidence=facts.records_found,
            )
        )
        return out
    text = facts.record or ""
    glued = _glued_joins(text, facts.record_strings)
    if glued:
        fixed = text
        for at in reversed(glued):
            fixed = fixed[:at] + " " + fixed[at:]
        out.append(
            F.STRINGS_JOINED_WITHOUT_SPACE(
                domain=domain,
                count=len(facts.record_strings),
                joins=", ".join(f"`{_context(text, at)}` (position {at})" for at in glued),
                fix=_proposal(domain, fixed),
                evidence=(*facts.record_strings, text),
            )
        )
    if facts.syntax_error is not None:
        pos = facts.syntax_error_position or 0
        fixed = _typo_fix(text, pos, facts.syntax_error)
        suggestion = f" Corrected record: `{zone_txt_line(domain, fixed)}`" if fixed else ""
        out.append(
            F.SYNTAX_ERROR(
                domain=domain,
                position=pos,
                message=facts.syntax_error,
                context=_context(text, pos),
                suggestion=suggestion,
                evidence=(text,),
            )
        )
        return out
    record = _parsed(text)
    if record is None or facts.tree is None:  # saved facts from an older parser; judge nothing
        return out
    out.extend(_record_findings(domain, record, glued=bool(glued)))
    out.extend(_tree_findings(facts, record))
    return out


def _record_findings(domain: str, record: SpfRecord, *, glued: bool) -> list[Finding]:
    """Findings about the domain's own record text. With strings glued together the text is
    not what the author wrote, so no `all` may only mean it was glued to the term before."""
    out: list[Finding] = []
    all_mech = record.all
    if all_mech is not None:
        after = record.terms[record.terms.index(all_mech) + 1 :]
        dead = [t for t in after if isinstance(t, SpfMechanism)]
        if dead:
            moved = _replace_term(record.text, all_mech.position, all_mech.text, "")
            moved = moved.rstrip(" ") + " " + all_mech.text
            out.append(
                F.TERMS_AFTER_ALL(
                    domain=domain,
                    terms=", ".join(f"`{t.text}`" for t in dead),
                    all_term=all_mech.text,
                    fix=_proposal(domain, moved),
                    evidence=(record.text,),
                )
            )
        if record.redirect is not None:
            out.append(
                F.REDIRECT_IGNORED(
                    domain=domain,
                    all_term=all_mech.text,
                    redirect_term=record.redirect.text,
                    target=record.redirect.value,
                    evidence=(record.text,),
                )
            )
    elif record.redirect is None and not glued:
        out.append(
            F.NO_ALL(
                domain=domain,
                line=zone_txt_line(domain, _with_all(record, "-")),
                evidence=(record.text,),
            )
        )
    mech_names = {k.value for k in SpfMechanismKind}
    misused = [
        m for m in record.modifiers if m.name in mech_names and m.name not in ("redirect", "exp")
    ]
    if misused:
        fixed = record.text
        for m in sorted(misused, key=lambda m: -m.position):
            fixed = _replace_term(fixed, m.position, m.text, m.text.replace("=", ":", 1))
        out.append(
            F.MECHANISM_AS_MODIFIER(
                domain=domain,
                terms=", ".join(f"`{m.text}`" for m in misused),
                fix=_proposal(domain, fixed),
                evidence=(record.text,),
            )
        )
    return out


_ALL_SPECS = {
    SpfQualifier.PASS: F.PLUS_ALL,
    SpfQualifier.NEUTRAL: F.NEUTRAL_ALL,
    SpfQualifier.SOFTFAIL: F.SOFTFAIL_ALL,
}


def _tree_findings(facts: SpfResult, record: SpfRecord) -> list[Finding]:
    domain = facts.domain
    tree = facts.tree
    assert tree is not None
    out: list[Finding] = []
    owners = _owner_of(tree)
    nodes = list(tree.walk())

    # the `all` that decides: the root's, or the end of its redirect chain (§6.1)
    decider: SpfNode = tree
    while True:
        rec = _parsed(decider.record)
        if rec is None or rec.all is not None:
            break
        nxt = next((c for c in decider.children if c.kind is SpfNodeKind.REDIRECT), None)
        if nxt is None or nxt.status is not SpfNodeStatus.OK:
            break
        decider = nxt
    decider_rec = _parsed(decider.record)
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
            fixed_text = _with_all(decider_rec, "-")
            line = zone_txt_line(decider.domain, fixed_text)
            fix = f"Replace `{all_mech.text}` by `-all`: `{line}`"
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
                )
            )

    # an included record that passes everything makes the include match everything
    for node in nodes:
        if node.kind is not SpfNodeKind.INCLUDE or node.status is not SpfNodeStatus.OK:
            continue
        inc = _parsed(node.record)
        if inc is None or inc.all is None or inc.all.qualifier is not SpfQualifier.PASS:
            continue
        top = _path_to(tree, node)[1]
        top_mech = next((m for m in record.mechanisms if m.position == top.term_position), None)
        if top_mech is not None and top_mech.qualifier is not SpfQualifier.PASS:
            continue  # `-include:` of a +all record fails everything instead; not a pass-all
        without = _replace_term(record.text, top.term_position or 0, top.term or "", "")
        fix = f"Remove `{top.term}` from the record of {domain}"
        if _valid(without):
            fix += f": `{zone_txt_line(domain, without)}`"
        out.append(
            F.PLUS_ALL(
                domain=domain,
                where=f"The record of {node.domain}, included by `{node.term}` in the tree of "
                f"{domain},",
                term=inc.all.text,
                fix=fix + ".",
                evidence=(record.text, inc.text),
            )
        )

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
    voids = [n for n in nodes if n.void]
    if voids:
        terms = ", ".join(f"`{n.term}` in {owners.get(id(n), domain)}" for n in voids)
        leaf_voids = [n for n in voids if n.kind not in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT)]
        if len(voids) > RFC_VOID_LIMIT:
            out.append(
                F.VOID_LOOKUP_LIMIT_EXCEEDED(
                    domain=domain, count=len(voids), terms=terms, evidence=(record.text,)
                )
            )
        elif leaf_voids:
            leaf_terms = ", ".join(f"`{n.term}` in {owners.get(id(n), domain)}" for n in leaf_voids)
            out.append(F.VOID_LOOKUP(domain=domain, terms=leaf_terms, evidence=(record.text,)))

    for node in nodes:
        owner = owners.get(id(node), domain)
        owner_record = next((n.record for n in nodes if n.domain == owner and n.record), None)
        evidence = tuple(x for x in (owner_record, *node.records_found) if x)
        if node.kind is SpfNodeKind.MX and (node.mx_names or 0) > RFC_MX_NAMES_LIMIT:
            out.append(
                F.MX_TOO_MANY_NAMES(
                    term=node.term,
                    owner=owner,
                    count=node.mx_names,
                    target=node.domain,
                    evidence=evidence,
                )
            )
        if node.kind not in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT):
            continue
        common = {"term": node.term, "owner": owner, "target": node.domain}
        if node.status is SpfNodeStatus.LOOP:
            path = " → ".join(n.domain for n in _path_to(tree, node))
            out.append(F.INCLUDE_LOOP(path=path, evidence=evidence, **common))
        elif node.status is SpfNodeStatus.NO_RECORD:
            why = (
                "does not exist (NXDOMAIN)"
                if node.nxdomain
                else "has no TXT records"
                if node.void
                else "has TXT records but none starting with v=spf1"
            )
            corrected = ""
            if owner == domain:
                without = _replace_term(record.text, node.term_position or 0, node.term or "", "")
                if _valid(without):
                    corrected = f" Without it: `{zone_txt_line(domain, without)}`"
            out.append(
                F.INCLUDE_MISSING_RECORD(why=why, corrected=corrected, evidence=evidence, **common)
            )
        elif node.status is SpfNodeStatus.MULTIPLE_RECORDS:
            out.append(
                F.INCLUDE_MULTIPLE_RECORDS(
                    count=len(node.records_found), evidence=evidence, **common
                )
            )
        elif node.status is SpfNodeStatus.SYNTAX_ERROR:
            out.append(
                F.INCLUDE_SYNTAX_ERROR(
                    position=node.syntax_error_position,
                    message=node.syntax_error,
                    evidence=evidence,
                    **common,
                )
            )

    ptrs = [n for n in nodes if n.kind is SpfNodeKind.PTR]
    if ptrs:
        terms = ", ".join(f"`{n.term}` in the record of {owners.get(id(n), domain)}" for n in ptrs)
        fix = ""
        own_ptrs = [m for m in record.mechanisms if m.kind is SpfMechanismKind.PTR]
        if own_ptrs:
            without = record.text
            for m in sorted(own_ptrs, key=lambda m: -m.position):
                without = _replace_term(without, m.position, m.text, "")
            if _valid(without):
                fix = (
                    " Without `ptr` (add the hosts it stood for first): "
                    f"`{zone_txt_line(domain, without)}`"
                )
        out.append(F.PTR_DEPRECATED(terms=terms, fix=fix, evidence=(record.text,)))

    macros = [n for n in nodes if n.status is SpfNodeStatus.MACRO]
    if macros:
        out.append(
            F.MACRO_UNRESOLVED(
                terms=", ".join(f"`{n.term}`" for n in macros), evidence=(record.text,)
            )
        )
    if not facts.complete:
        depth = _depth(tree)
        records = sum(1 for n in nodes if n.record)
        out.append(F.TREE_TRUNCATED(domain=domain, depth=depth, nodes=records))
    return out


__all__ = [
    "SpfCheck",
    "SpfNode",
    "SpfNodeKind",
    "SpfNodeStatus",
    "SpfResult",
    "estimate_txt_answer_size",
    "zone_txt_line",
]
