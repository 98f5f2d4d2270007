"""Fetching what an SPF tree names (RFC 7208 §4.6.4 lookups), breadth-first, once per name.

Every name is asked at most once per run (through the run memo) and at most
`Limits.max_spf_nodes` records and as many a/mx/exists probes are asked per domain. An `mx`
term also looks up the addresses of its MX hosts (at most 10 of them, §4.6.4), and each host
without one is a void lookup as receivers count them; those hosts are looked up after the tree,
at most `Limits.max_spf_mx_hosts` distinct names per domain (ten `mx` terms of ten hosts,
what a receiver evaluating within the 10-lookup limit may ask at most).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from ...fastinit import fast_init
from ...findings.clip import json_cost
from ...records.errors import RecordSyntaxError
from ...records.spf import (
    LOOKUP_MECHANISMS,
    SpfRecord,
    expand_domain_macros,
    is_spf_record,
    parse_spf,
)
from ...resolver.base import Answer, RRType, TxtRecord
from ..base import CheckContext
from .nodes import SpfNodeKind

MX_NAMES_LIMIT = 10  # §4.6.4: an `mx` term with more MX names is a permerror


@fast_init
@dataclass(frozen=True)
class TxtFetch:
    """A name's TXT answer, reduced to what SPF needs; shared by every domain of a run."""

    name: str
    nxdomain: bool
    txt: tuple[TxtRecord, ...]
    spf_texts: tuple[str, ...]
    record: SpfRecord | None  # exactly one SPF record and it parses
    error: RecordSyntaxError | None  # exactly one SPF record and it does not parse
    # json_cost(record.text) (0 without a record), worked out once as `targets` below: every
    # tree drawing this record counts it against its text budget
    record_cost: int
    ttl: int | None = None  # the TTL the answer carried
    # lookup_targets(record, name), worked out once: the fetch is shared by every domain
    # whose tree includes this name, and each of them walks its targets
    targets: tuple[tuple[SpfNodeKind, str], ...] = ()
    server: str = ""  # who answered (the answer's provenance)

    @property
    def void(self) -> bool:
        return not self.txt


@fast_init
@dataclass(frozen=True)
class Probe:
    """An a/mx/exists target's answer: whether it is void, and MX names for mx."""

    void: bool
    nxdomain: bool
    mx_names: int | None = None
    # mx: the MX host names receivers look up, by preference (RFC 7208 §5.4); () when the
    # MX answer holds more than 10 names, where receivers stop with permerror instead
    mx_hosts: tuple[str, ...] = ()


def lower_name(name: str) -> str:
    return name.rstrip(".").lower()


def target_name(spec: str | None, own: str) -> str | None:
    """The name a term looks up in the record of `own`; None when macros need a message."""
    if spec is None:
        return own
    if "%" not in spec:
        return lower_name(spec)
    expanded = expand_domain_macros(spec, own)
    if not expanded or any(not 0 < len(label) <= 63 for label in expanded.split(".")):
        return None  # needs the message, or expands to a name DNS cannot carry: not asked
    return lower_name(expanded)


NODE_KIND_OF = {k: SpfNodeKind(k.value) for k in LOOKUP_MECHANISMS}
# the run memo's namespace of each kind of probe
_PROBE_MEMO = {k: f"spf.{k.value}" for k in SpfNodeKind}


def lookup_targets(record: SpfRecord, own: str) -> Iterator[tuple[SpfNodeKind, str]]:
    """The (kind, name) lookups a record's evaluated terms make; message-macro targets
    excluded."""
    for mech in record.lookup_mechanisms:
        kind = NODE_KIND_OF[mech.kind]
        if kind is SpfNodeKind.PTR:
            continue
        target = target_name(mech.domain_spec, own)
        if target is not None:
            yield kind, target
    redirect = record.effective_redirect
    target = target_name(redirect.value, own) if redirect is not None else None
    if target is not None:
        yield SpfNodeKind.REDIRECT, target


async def fetch_txt(ctx: CheckContext, name: str) -> TxtFetch:
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
    targets: tuple[tuple[SpfNodeKind, str], ...] = ()
    cost = 0
    if record is not None:
        targets = tuple(lookup_targets(record, name))
        cost = json_cost(record.text)
    return TxtFetch(
        name,
        answer.nxdomain,
        txt,
        texts,
        record,
        error,
        cost,
        answer.ttl,
        targets,
        answer.server,
    )


async def probe(ctx: CheckContext, kind: SpfNodeKind, name: str) -> Probe:
    if kind is SpfNodeKind.MX:
        answer = await ctx.resolver.resolve(name, RRType.MX)
        mx = sorted((r.preference, r.exchange) for r in answer.mx())
        hosts = tuple(host for _pref, host in mx) if len(mx) <= MX_NAMES_LIMIT else ()
        return Probe(answer.empty, answer.nxdomain, len(mx), hosts)
    a: Answer = await ctx.resolver.resolve(name, RRType.A)
    if a.records or a.nxdomain or kind is SpfNodeKind.EXISTS:
        return Probe(a.empty, a.nxdomain)
    # `a` matches on AAAA too: a name with only IPv6 addresses is not void for every sender
    aaaa = await ctx.resolver.resolve(name, RRType.AAAA)
    return Probe(aaaa.empty, False)


async def fetch_tree(
    ctx: CheckContext, root: TxtFetch, max_depth: int, max_records: int, max_hosts: int
) -> tuple[dict[str, TxtFetch], dict[tuple[SpfNodeKind, str], Probe]]:
    """Breadth-first, one concurrent batch per level, every name at most once; then the
    addresses of the MX hosts the `mx` terms found, as `a` probes of those hosts (the same
    A-then-AAAA lookup, shared with any `a:` term naming the host)."""
    fetched = {root.name: root}
    probes: dict[tuple[SpfNodeKind, str], Probe] = {}
    level = [root]
    for _depth in range(max_depth + 1):
        want_records: list[str] = []
        want_probes: list[tuple[SpfNodeKind, str]] = []
        seen_records: set[str] = set()
        seen_probes: set[tuple[SpfNodeKind, str]] = set()
        for fetch in level:
            for kind, name in fetch.targets:
                if kind in (SpfNodeKind.INCLUDE, SpfNodeKind.REDIRECT):
                    if name not in fetched and name not in seen_records:
                        seen_records.add(name)
                        want_records.append(name)
                elif (kind, name) not in probes and (kind, name) not in seen_probes:
                    seen_probes.add((kind, name))
                    want_probes.append((kind, name))
        want_records = want_records[: max(0, max_records - len(fetched))]
        want_probes = want_probes[: max(0, max_records - len(probes))]
        if not want_records and not want_probes:
            break
        values = await ctx.memo.get_many(
            [("spf", n, partial(fetch_txt, ctx, n)) for n in want_records]
            + [(_PROBE_MEMO[k], n, partial(probe, ctx, k, n)) for k, n in want_probes]
        )
        records = values[: len(want_records)]
        probed = values[len(want_records) :]
        fetched.update(zip(want_records, records, strict=True))
        probes.update(zip(want_probes, probed, strict=True))
        level = list(records)
    await _probe_mx_hosts(ctx, probes, max_hosts)
    return fetched, probes


async def _probe_mx_hosts(
    ctx: CheckContext, probes: dict[tuple[SpfNodeKind, str], Probe], max_hosts: int
) -> None:
    """Look up the addresses of up to `max_hosts` distinct MX hosts, into `probes`."""
    hosts: dict[str, None] = {}
    for (kind, _name), found in list(probes.items()):
        if kind is SpfNodeKind.MX:
            hosts.update((h, None) for h in found.mx_hosts if h)  # "" is the null MX: no lookup
    want = [h for h in hosts if (SpfNodeKind.A, h) not in probes][:max_hosts]
    if not want:
        return
    values = await ctx.memo.get_many(
        [("spf.a", h, partial(probe, ctx, SpfNodeKind.A, h)) for h in want]
    )
    probes.update(((SpfNodeKind.A, h), v) for h, v in zip(want, values, strict=True))


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
    rdata = sum(sum(map(len, r.strings)) + len(r.strings) for r in txt)
    return 12 + question + 12 * len(txt) + rdata


_SPF_LOOKALIKE = re.compile(r"""[\s"']*v\s*=\s*spf\s*1""", re.IGNORECASE)


def looks_like_spf(text: str) -> bool:
    """`v=spf1` with a tab, a leading space, quotes or spaces around `=`: meant as SPF, but
    §4.5 makes receivers skip it. (`v=spf2.0/pra`, Sender ID, is something else.)"""
    return bool(_SPF_LOOKALIKE.match(text)) and not is_spf_record(text)
