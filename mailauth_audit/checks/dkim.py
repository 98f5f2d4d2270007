"""DKIM check: the key records published at guessed selectors (RFC 6376, RFC 8301, RFC 8463).

DKIM keys cannot be listed, only guessed: `collect` asks for `<selector>._domainkey.<domain>`
for the selectors the user gave, the names published by the mail providers its MX hosts and
SPF record point to, the date-style names this tool suggests (s2026...), and a short built-in
list (`dkim_selectors.plan_selectors`, capped per domain). It first asks for
`_domainkey.<domain>` itself: NXDOMAIN there means nothing exists below it (RFC 8020), which
spares the selector queries (and the provider detection) on every domain without DKIM. The
MX and TXT questions that recognise a provider are the ones the MX and SPF checks ask too:
the run's shared cache answers them (or joins the same question in flight), so they cost no
extra query in a full audit. `evaluate` judges the keys, and reads the MX, SPF and DMARC
outcomes so that a domain that sends no mail is not told to add DKIM.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from ..errors import DnsCnameLoop, ResolverError
from ..findings import dkim as F
from ..findings.clip import clip_finding, clip_text, more_records
from ..model import CheckId, Finding
from ..options import Limits, suggested_dkim_selector
from ..records.dkim import looks_like_dkim_key, parse_dkim_key
from ..records.errors import RecordSyntaxError
from ..resolver.base import Answer, RRType
from .base import Check, CheckContext, EvaluationContext, catalogue_of
from .concurrent import gather, settle
from .crosscheck import sends_no_mail
from .dkim_judge import new_key_change, selector_findings, usable
from .dkim_model import DkimResult, DkimSelectorResult, DkimSelectorStatus, selector_result
from .dkim_providers import DetectedProvider, detect_providers
from .dkim_selectors import describe_lists, plan_selectors

__all__ = [
    "DkimCheck",
    "DkimResult",
    "DkimSelectorResult",
    "DkimSelectorStatus",
    "judge_txt",
]

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


class DkimCheck(Check[DkimResult]):
    """DKIM key records at guessed selectors, per RFC 6376, RFC 8301 and RFC 8463."""

    id = CheckId.DKIM
    title = "DKIM (signing keys)"
    result_type = DkimResult
    catalogue = catalogue_of(F)
    standard = "RFC 6376, RFC 8301, RFC 8463"
    evaluate_after = (CheckId.MX, CheckId.SPF, CheckId.DMARC)

    @classmethod
    def summary(cls, result: DkimResult | None) -> str:
        sels = result.selectors if result is not None else ()
        found = [f"{s.selector} ({_key_phrase(s)})" for s in sels]
        return ", ".join(found) or "no selector found"

    async def collect(self, ctx: CheckContext) -> DkimResult:
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
        results = [
            self._judge(s, n, a, limit) for s, n, a in zip(selectors, names, answers, strict=True)
        ]
        found = tuple(r for r in results if r is not None)
        return DkimResult(
            selectors=found,
            selectors_probed=selectors,
            domainkey_nxdomain=False,
            selector_lists=plan.lists,
            providers=providers,
            selectors_not_probed=plan.not_probed,
            selectors_not_probed_count=plan.not_probed_count,
            provider_lookup_error=lookup_error,
        )

    @staticmethod
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
        texts = [t.text for t in answer.txt()]
        if not texts:
            if target is None:
                return None
            return selector_result(
                selector, name, DkimSelectorStatus.DANGLING_CNAME, cname_target=target
            )
        return replace(judge_txt(selector, name, texts, target, text_limit), ttl=answer.ttl)

    def evaluate(self, facts: DkimResult, ctx: EvaluationContext) -> list[Finding]:
        domain = ctx.domain
        findings: list[Finding] = []
        sels = facts.selectors
        keys = [s for s in sels if s.status is DkimSelectorStatus.KEY]
        attempted = keys + [s for s in sels if s.status is DkimSelectorStatus.INVALID]
        no_mail = sends_no_mail(ctx.outcomes)
        new_selector = suggested_dkim_selector(ctx.options.today)

        if not attempted:
            probed = ", ".join(facts.selectors_probed) or "none"
            if no_mail:
                findings.append(
                    F.NOT_NEEDED_NO_MAIL(domain=domain, selectors=probed, new_selector=new_selector)
                )
            else:
                findings.append(_no_selector_found(facts, domain, probed, new_selector))
        if facts.selectors_not_probed_count:
            shown = facts.selectors_not_probed
            rest = facts.selectors_not_probed_count - len(shown)
            findings.append(
                F.SELECTORS_NOT_PROBED(
                    domain=domain,
                    count=facts.selectors_not_probed_count,
                    limit=len(facts.selectors_probed),
                    selectors=", ".join(shown) + (f" and {rest} more" if rest > 0 else ""),
                )
            )

        usable_keys = [s for s in keys if usable(s)]
        for s in sels:
            findings += selector_findings(s, domain, usable_keys, no_mail, new_selector)

        not_keys = [s for s in sels if s.status is DkimSelectorStatus.NOT_A_KEY]
        if not_keys:
            findings.append(
                F.NOT_A_KEY_RECORD(
                    domain=domain,
                    selectors=", ".join(s.selector for s in not_keys),
                    name=not_keys[0].name,
                    evidence=tuple(dict.fromkeys(s.record or "" for s in not_keys)),
                )
            )

        ed = [s for s in usable_keys if s.key_type == "ed25519"]
        if ed and not any(s.key_type == "rsa" for s in usable_keys):
            findings.append(
                F.ED25519_WITHOUT_RSA(
                    domain=domain,
                    selectors=", ".join(s.selector for s in ed),
                    new_selector=new_selector,
                    evidence=tuple(s.record or "" for s in ed),
                )
            )
        limit = ctx.options.limits.max_dkim_text_chars
        return [clip_finding(f, limit, limit + 2048) for f in findings]


def _no_selector_found(facts: DkimResult, domain: str, probed: str, new_selector: str) -> Finding:
    """dkim.no_selector_found, saying which lists were probed and what may be missing."""
    lists = describe_lists(facts.selector_lists, facts.providers) or probed
    notes = []
    if facts.domainkey_nxdomain:
        notes.append(
            f"_domainkey.{domain} does not exist (NXDOMAIN), so no selector can exist below it "
            "(RFC 8020)."
        )
    for p in facts.providers:
        if not p.selectors:
            notes.append(f"{p.title} was detected ({p.matched}): {p.note}")
    if facts.provider_lookup_error:
        notes.append(
            f"The MX or SPF record could not be read ({facts.provider_lookup_error}), so the "
            "selectors of a mail provider named there may not have been probed."
        )
    if facts.selectors_not_probed_count:
        notes.append(
            f"{facts.selectors_not_probed_count} more selector names were not probed (at most "
            f"{len(facts.selectors_probed)} per domain)."
        )
    return F.NO_SELECTOR_FOUND(
        domain=domain,
        count=len(facts.selectors_probed),
        selectors=probed,
        lists=lists,
        nxdomain_note="".join(" " + n for n in notes),
        new_selector=new_selector,
        changes=[new_key_change(f"{new_selector}._domainkey.{domain}")],
    )


def _key_phrase(sel: DkimSelectorResult) -> str:
    """A selector in one phrase: never "rsa ? bits" when the key could not be measured."""
    if sel.revoked:
        return "revoked"
    if sel.key_bits and not sel.error:
        return f"{sel.key_type or 'rsa'} {sel.key_bits} bits"
    return f"unusable: {sel.error or str(sel.status.value).replace('_', ' ')}"
