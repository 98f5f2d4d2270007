"""The DKIM check's I/O, and the pure classification of what one selector holds.

It first asks for `_domainkey.<domain>` itself: NXDOMAIN there means nothing exists below it
(RFC 8020), which spares the selector queries (and the provider detection) on every domain
without DKIM. The MX and TXT questions that recognise a provider are the ones the MX and SPF
checks ask too: the run's shared cache answers them (or joins the same question in flight).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

from ...errors import DnsCnameLoop, ResolverError
from ...findings.clip import clip_text, more_records
from ...options import Limits, audit_date
from ...records.dkim import looks_like_dkim_key, parse_dkim_key
from ...records.errors import RecordSyntaxError
from ...resolver.base import Answer, RRType
from ..base import CheckContext
from ..concurrent import gather, settle
from .providers import DetectedProvider, detect_providers
from .result import DkimResult, DkimSelectorResult, DkimSelectorStatus, selector_result
from .selectors import plan_selectors

__all__ = ["collect_dkim", "judge_txt"]

# One parse per distinct key record: the key itself is loaded to measure it, and the same
# record recurs wherever selectors are CNAMEd to a provider's shared key. Safe to share: the
# parser is pure, its result frozen; a RecordSyntaxError is not cached, it is raised again.
_parse_key = functools.lru_cache(maxsize=2048)(parse_dkim_key)


def judge_txt(
    selector: str,
    name: str,
    texts: list[str],
    cname_target: str | None,
    text_limit: int = Limits().max_dkim_text_chars,
    ttl: int | None = None,
) -> DkimSelectorResult:
    """Classify and parse the TXT records found at one selector. Pure. The record is parsed
    whole; what the result keeps of it (and of the other records) is clipped at
    `text_limit` characters, at most 8 other records, so a name holding a 64 KB record or
    thousands of records cannot make a report of megabytes."""
    candidates = [t for t in texts if looks_like_dkim_key(t)]
    record = candidates[0] if candidates else texts[0]
    at = texts.index(record)
    others = [clip_text(t, text_limit) for i, t in enumerate(texts[:9]) if i != at][:8]
    if len(texts) > 9:
        others.append(more_records(len(texts) - 1 - len(others)))
    common = {
        "record": clip_text(record, text_limit),
        "other_records": tuple(others),
        "cname_target": cname_target,
        "ttl": ttl,
    }
    if not candidates:
        return selector_result(selector, name, DkimSelectorStatus.NOT_A_KEY, **common)
    try:
        key = _parse_key(record)
    except RecordSyntaxError as exc:
        return selector_result(
            selector,
            name,
            DkimSelectorStatus.INVALID,
            error=exc.message,
            error_position=exc.position,
            **common,
        )
    return selector_result(
        selector,
        name,
        DkimSelectorStatus.KEY,
        key_type=key.key_type,
        key_bits=key.key_bits,
        key_format=key.key_format,
        key_exponent=_exponent_text(key.rsa_exponent),
        public_key=clip_text(key.public_key_b64, text_limit),
        revoked=key.revoked,
        testing=key.testing,
        strict_subdomains=key.strict_subdomains,
        hash_algorithms=key.hash_algorithms,
        service_types=key.service_types,
        error=key.key_error,
        **common,
    )


def _exponent_text(exponent: int | None) -> str | None:
    if exponent is None:
        return None
    if exponent.bit_length() > 64:
        return f"<{exponent.bit_length()}-bit number>"
    return str(exponent)


async def _detect_providers(ctx: CheckContext) -> tuple[tuple[DetectedProvider, ...], str | None]:
    """The providers the domain's MX hosts and SPF record name, and what could not be read.
    A failed question is noted, not raised: the MX and SPF checks report it as their own
    error, and the selectors of the other lists can still be probed."""
    mx, txt = await gather(
        [
            settle(ctx.resolver.resolve(ctx.domain, RRType.MX)),
            settle(ctx.resolver.resolve(ctx.domain, RRType.TXT)),
        ]
    )
    failed = []
    for label, answer in (("MX", mx), ("TXT", txt)):
        if isinstance(answer, ResolverError):
            failed.append(f"{label}: {answer.reason.value}")
        elif isinstance(answer, Exception):
            raise answer
    hosts = [r.exchange for r in mx.mx() if r.exchange] if isinstance(mx, Answer) else []
    texts = [t.text for t in txt.txt()] if isinstance(txt, Answer) else []
    return detect_providers(hosts, texts), "; ".join(failed) or None


async def collect_dkim(ctx: CheckContext) -> DkimResult:
    """Ask `_domainkey.<domain>`, then every planned selector, concurrently; judge each
    answer without I/O. The first failure is raised after every probe has finished."""
    opts = ctx.options
    cap = opts.limits.max_dkim_selectors
    builtin = opts.use_default_selectors
    top = await ctx.resolver.resolve(f"_domainkey.{ctx.domain}", RRType.TXT)
    if top.nxdomain:
        # nothing below: every planned name is known absent, none is left unasked
        plan = plan_selectors(opts.selectors, today=opts.today, builtin=builtin, cap=cap)
        return DkimResult(
            selectors=(),
            selectors_probed=plan.selectors,
            domainkey_nxdomain=True,
            selector_lists=plan.lists,
            audit_date=audit_date(opts.today).isoformat(),
            server=top.server or None,
        )
    providers: tuple[DetectedProvider, ...] = ()
    lookup_error = None
    if builtin:
        providers, lookup_error = await _detect_providers(ctx)
    plan = plan_selectors(opts.selectors, providers, today=opts.today, builtin=builtin, cap=cap)
    selectors = plan.selectors
    names = [f"{s}._domainkey.{ctx.domain}" for s in selectors]
    # the questions run concurrently; each answer is then judged without I/O
    answers = await gather([settle(ctx.resolver.resolve(n, RRType.TXT)) for n in names])
    for answer in answers:
        if isinstance(answer, Exception) and not isinstance(answer, DnsCnameLoop):
            raise answer  # the first failure, after every probe has finished
    limit = opts.limits.max_dkim_text_chars
    results = [_judge(s, n, a, limit) for s, n, a in zip(selectors, names, answers, strict=True)]
    found = tuple(r for r in results if r is not None)
    found, server = _answered_by(found, results, answers, top.server)
    return DkimResult(
        selectors=found,
        selectors_probed=selectors,
        domainkey_nxdomain=False,
        selector_lists=plan.lists,
        providers=providers,
        selectors_not_probed=plan.not_probed,
        selectors_not_probed_count=plan.not_probed_count,
        provider_lookup_error=lookup_error,
        audit_date=audit_date(opts.today).isoformat(),
        server=server,
    )


def _answered_by(
    found: tuple[DkimSelectorResult, ...],
    results: Sequence[DkimSelectorResult | None],
    answers: Sequence[object],
    domainkey_server: str,
) -> tuple[tuple[DkimSelectorResult, ...], str | None]:
    """Who answered the selectors found: one server for the result when one answered them
    all (the usual case: the check carries one string, not one per selector), else each
    selector says its own and the result none. With no selector found, who answered
    `_domainkey.<domain>`."""
    pairs = [
        (r.name, a.server)
        for r, a in zip(results, answers, strict=True)
        if r is not None and isinstance(a, Answer)
    ]
    servers = {server for _, server in pairs}
    if len(servers) <= 1:
        return found, next(iter(servers), domainkey_server) or None
    by_name = dict(pairs)
    return tuple(replace(r, server=by_name.get(r.name)) for r in found), None


def _judge(
    selector: str, name: str, answer: Answer | Exception, text_limit: int
) -> DkimSelectorResult | None:
    if isinstance(answer, DnsCnameLoop):
        # a fact about this selector's records, not about the path to the domain
        return selector_result(
            selector, name, DkimSelectorStatus.CNAME_LOOP, error=answer.detail or str(answer)
        )
    assert isinstance(answer, Answer)  # other exceptions were raised by collect
    target = answer.cname_chain[-1] if answer.cname_chain else None
    # most selectors probed hold nothing: no records, no lists to build
    texts = [t.text for t in answer.txt()] if answer.records else []
    if not texts:
        if target is None:
            return None
        return selector_result(
            selector, name, DkimSelectorStatus.DANGLING_CNAME, cname_target=target
        )
    return judge_txt(selector, name, texts, target, text_limit, answer.ttl)
