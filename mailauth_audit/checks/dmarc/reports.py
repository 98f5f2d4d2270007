"""Report-address authorisation (RFC 9990, RFC 7489 §7.1), with bounded work per domain.

A destination outside the policy's Organizational Domain must publish
`<policy-domain>._report._dmarc.<host>` starting v=DMARC1. The names asked are chosen by
the record's author, and one 64 KB record can list thousands of them, each perhaps answered
just under the resolver's timeout by the author's own server. So at most
`Limits.max_report_authorizations` distinct names are asked per domain, all at once; the
destinations past that cap are kept in the result as not checked (never as unauthorised),
and the check reports them. A lookup that gets no answer (SERVFAIL, REFUSED, timeout) leaves
its destination not checked too, with the error: it cannot change the policy, so the check
still completes. Answers (and failures) are memoised per run: a report provider serves
thousands of domains.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ...errors import ResolverError
from ...records.dmarc import DmarcReportUri, looks_like_dmarc
from ...records.orgdomain import psl_organizational_domain
from ...resolver.base import RRType
from ..base import CheckContext
from .parsing import valid_records
from .result import DmarcLookupFailure, DmarcReportDestination

__all__ = ["report_destinations"]

_MEMO = "dmarc.report_authorization"


def _authorization_name(policy_domain: str, host: str) -> str:
    return f"{policy_domain}._report._dmarc.{host}"


async def report_destinations(
    ctx: CheckContext, policy_domain: str, uris: Sequence[DmarcReportUri]
) -> tuple[tuple[DmarcReportDestination, ...], int, list[DmarcLookupFailure]]:
    """Each URI as a destination, how many external ones were left unchecked by the cap, and
    the authorisation lookups that got no answer (their destinations are not checked).

    Organizational Domains are compared by the PSL: no extra queries, and what RFC 7489
    receivers (the ones that verify today) do."""
    policy_org = psl_organizational_domain(policy_domain)
    cap = ctx.options.limits.max_report_authorizations
    wanted: dict[str, None] = {}  # distinct names to ask, in record order, at most `cap`
    for uri in uris:
        if uri.domain is None or psl_organizational_domain(uri.domain) == policy_org:
            continue
        name = _authorization_name(policy_domain, uri.domain)
        if len(name) <= 253 and len(wanted) < cap:
            wanted[name] = None

    async def ask(name: str) -> tuple[str, ...] | ResolverError:
        try:
            answer = await ctx.resolver.resolve(name, RRType.TXT)
        except ResolverError as exc:  # not an answer: that destination is "not checked"
            return exc
        return tuple(t.text for t in answer.txt())

    names = list(wanted)
    answers = await ctx.memo.get_many([(_MEMO, n, functools.partial(ask, n)) for n in names])
    found: dict[str, tuple[str, ...] | ResolverError] = dict(zip(names, answers, strict=True))
    failures = [
        DmarcLookupFailure("report_authorization", n, "TXT", a.reason.value, str(a))
        for n, a in found.items()
        if isinstance(a, ResolverError)
    ]

    out: list[DmarcReportDestination] = []
    unchecked = 0
    for uri in uris:
        tag, text, address, domain = uri.tag, uri.uri, uri.address, uri.domain
        if domain is None:
            out.append(
                DmarcReportDestination(tag, text, address, None, None, False, None, (), None)
            )
            continue
        dest_org = psl_organizational_domain(domain)
        if dest_org == policy_org:
            out.append(
                DmarcReportDestination(tag, text, address, domain, dest_org, False, None, (), None)
            )
            continue
        name = _authorization_name(policy_domain, domain)
        if len(name) > 253:  # cannot exist in DNS, so cannot authorise anything
            out.append(
                DmarcReportDestination(
                    tag, text, address, domain, dest_org, True, name, (), False, True
                )
            )
            continue
        texts = found.get(name)
        if texts is None:  # past the cap: not asked, so neither authorised nor not
            unchecked += 1
            out.append(
                DmarcReportDestination(
                    tag, text, address, domain, dest_org, True, name, (), None, False
                )
            )
            continue
        if isinstance(texts, ResolverError):  # asked, no answer: neither authorised nor not
            out.append(
                DmarcReportDestination(
                    tag, text, address, domain, dest_org, True, name, (), None, False, str(texts)
                )
            )
            continue
        authorized = bool(valid_records(tuple(t for t in texts if looks_like_dmarc(t))))
        out.append(
            DmarcReportDestination(
                tag, text, address, domain, dest_org, True, name, texts, authorized, True
            )
        )
    return tuple(out), unchecked, failures
