"""Collecting MTA-STS facts: the TXT record, then the policy over HTTPS (RFC 8461 §3).

The policy host is resolved through the audit's resolver (one cache, one set of limits);
each address is checked against the run's address rule before anything connects to it.
The addresses are tried in turn, as a sender would, until one gives an HTTP answer.

What a failure means, decided here once:
- a DNS failure (SERVFAIL, timeout) for `_mta-sts` or the policy host propagates: the check
  could not be completed (error, the domain is not graded);
- NXDOMAIN or no address for the policy host is the domain's fact: `unreachable`;
- a refused connection, a failed TLS handshake or a reply that is not HTTP is the server's
  answer to every sender: `unreachable`;
- a probe timeout or a network error on every address tried, with no answer from any, says
  nothing about the server (it may be our network): the ProbeError propagates and the check
  ends in error (probe_timeout / network_unreachable), never a finding;
- an address the rule forbids (loopback, private...) is `not_probed`, with the reason: a
  statement about this run, not an error, so the domain keeps its grade.
"""

from __future__ import annotations

from dataclasses import replace

from ...errors import ProbeError, ProbeNetworkError, ProbeTimeout
from ...options import audit_date
from ...probes.results import HttpsFetchResult
from ...records.errors import RecordSyntaxError
from ...records.mta_sts import (
    MtaStsPolicyTooLarge,
    looks_like_mta_sts,
    parse_mta_sts_policy,
    select_mta_sts_record,
)
from ...resolver.base import RRType
from ..base import CheckContext
from ..concurrent import gather
from .result import (
    MtaStsResult,
    PolicyAttempt,
    PolicyFetch,
    PolicyFetchState,
    PolicyProblem,
)

POLICY_PATH = "/.well-known/mta-sts.txt"
_VERSION = "v=STSv1"
_LINE_SHOWN = 200


def policy_url(host: str, port: int) -> str:
    return f"https://{host}{'' if port == 443 else f':{port}'}{POLICY_PATH}"


async def mail_hosts(ctx: CheckContext) -> tuple[tuple[str, ...], bool]:
    """(the names senders deliver to, null MX). The MX RRset is asked here rather than read
    from the MX check, so that the policy fetch starts at once instead of waiting for the MX
    hosts' addresses; the run's resolver answers both askers with one query. With no MX the
    domain itself is the implicit MX (RFC 5321 §5.1)."""
    answer = await ctx.resolver.resolve(ctx.domain, RRType.MX)
    if answer.nxdomain:
        return (), False
    records = sorted(answer.mx(), key=lambda r: (r.preference, r.exchange))
    if not records:
        return (ctx.domain,), False
    hosts = [r.exchange.rstrip(".").lower() for r in records if r.exchange]
    return tuple(dict.fromkeys(hosts)), len(hosts) < len(records)


async def collect_mta_sts(ctx: CheckContext) -> MtaStsResult:
    domain = ctx.domain
    txt_name = f"_mta-sts.{domain}"
    answer = await ctx.resolver.resolve(txt_name, RRType.TXT)
    hosts, null_mx = await mail_hosts(ctx)
    texts = [t.text for t in answer.txt()]
    found = tuple(t for t in texts if t.startswith(_VERSION))
    lookalikes = tuple(t for t in texts if looks_like_mta_sts(t) and not t.startswith(_VERSION))
    record = None
    error: RecordSyntaxError | None = None
    try:
        record = select_mta_sts_record(texts)
    except RecordSyntaxError as exc:
        error = exc
    base = MtaStsResult(
        txt_name=txt_name,
        records_found=found,
        lookalikes=lookalikes,
        record=record,
        record_text=found[0] if record is not None else None,
        syntax_error=error.message if error is not None else None,
        syntax_error_position=error.position if error is not None else None,
        mx_hosts=hosts,
        null_mx=null_mx,
        probes_enabled=ctx.options.probes.enabled,
        audit_date=audit_date(ctx.options.today).isoformat(),
    )
    if not found:
        return base
    policy = await fetch_policy(ctx, f"mta-sts.{domain}")
    return replace(base, policy=policy)


async def fetch_policy(ctx: CheckContext, host: str) -> PolicyFetch:
    options = ctx.options.probes
    url = policy_url(host, options.https_port)
    if not options.enabled:
        return PolicyFetch(url, host, PolicyFetchState.SKIPPED, "not fetched: --no-probes")
    a, aaaa = await gather(
        [ctx.resolver.resolve(host, RRType.A), ctx.resolver.resolve(host, RRType.AAAA)]
    )
    addresses = tuple(dict.fromkeys([*a.texts(), *aaaa.texts()]))
    if not addresses:
        why = "does not exist (NXDOMAIN)" if a.nxdomain and aaaa.nxdomain else "has no address"
        return PolicyFetch(url, host, PolicyFetchState.UNREACHABLE, f"{host} {why}")
    cap = ctx.options.limits.max_mta_sts_policy_addresses
    attempts: list[PolicyAttempt] = []
    lost: ProbeError | None = None  # a failure that says nothing about the server
    answered: HttpsFetchResult | None = None
    for index, address in enumerate(addresses):
        if answered is not None or index >= cap:
            why = "an earlier address answered" if answered else f"past the cap of {cap}"
            attempts.append(PolicyAttempt(address, "not_tried", why))
            continue
        refusal = ctx.probes.refusal(address)
        if refusal is not None:
            attempts.append(PolicyAttempt(address, "not_probed", refusal))
            continue
        try:
            answered = await ctx.probes.https.fetch(host, address, POLICY_PATH, options.https_port)
        except ProbeError as exc:
            attempts.append(PolicyAttempt(address, exc.failure.value, str(exc)))
            if isinstance(exc, ProbeTimeout | ProbeNetworkError):
                lost = lost or exc
            continue
        attempts.append(PolicyAttempt(address, "http"))
    done = tuple(attempts)
    if answered is None:
        if lost is not None:
            raise lost.with_traceback(None)
        not_probed = [t for t in done if t.outcome == "not_probed"]
        if not_probed:
            return PolicyFetch(
                url, host, PolicyFetchState.NOT_PROBED, not_probed[0].detail, addresses, done
            )
        failures = "; ".join(f"{t.address}: {t.detail}" for t in done if t.outcome != "not_tried")
        return PolicyFetch(
            url, host, PolicyFetchState.UNREACHABLE, failures or None, addresses, done
        )
    return judge_answer(ctx, url, host, addresses, done, answered)


def _problem(answer: HttpsFetchResult) -> tuple[PolicyProblem, str] | None:
    """The first reason a sender refuses this answer (RFC 8461 §3.3), or None."""
    tls = answer.tls
    if not tls.trusted or not tls.hostname_matches:
        why = tls.trust_error if not tls.trusted else f"not valid for the name {answer.host}"
        return PolicyProblem.CERTIFICATE, f"certificate refused: {why}"
    if answer.is_redirect:
        where = f" to {answer.location}" if answer.location else ""
        return PolicyProblem.REDIRECT, f"HTTP {answer.status} redirect{where} (not followed)"
    if answer.status != 200:
        return PolicyProblem.HTTP_STATUS, f"HTTP {answer.status} {answer.reason}".rstrip()
    if answer.media_type != "text/plain":
        shown = answer.content_type if answer.content_type is not None else "none"
        return PolicyProblem.CONTENT_TYPE, f"Content-Type {shown!r}, not text/plain"
    if answer.truncated:
        return PolicyProblem.TOO_LARGE, f"body larger than {len(answer.body)} bytes"
    return None


def judge_answer(
    ctx: CheckContext,
    url: str,
    host: str,
    addresses: tuple[str, ...],
    attempts: tuple[PolicyAttempt, ...],
    answer: HttpsFetchResult,
) -> PolicyFetch:
    """The facts of one HTTP answer: refused for the first RFC 8461 §3.3 reason, or parsed."""
    tls = answer.tls
    facts = PolicyFetch(
        url=url,
        host=host,
        state=PolicyFetchState.FETCHED,
        reason=None,
        addresses=addresses,
        attempts=attempts,
        address=answer.address,
        status=answer.status,
        content_type=answer.content_type,
        location=answer.location,
        body_bytes=len(answer.body),
        truncated=answer.truncated,
        certificate_trusted=tls.trusted,
        certificate_name_matches=tls.hostname_matches,
        certificate_error=tls.trust_error,
        tls_version=tls.version,
        tls_cipher=tls.cipher,
        tls_group=tls.group,
        tls_group_bits=tls.group_bits,
    )
    problem = _problem(answer)
    if problem is not None:
        kind, why = problem
        return replace(facts, state=PolicyFetchState.REJECTED, reason=why, problem=kind)
    try:
        policy = parse_mta_sts_policy(answer.body, limits=ctx.options.limits)
    except MtaStsPolicyTooLarge as exc:
        return replace(facts, reason=exc.message, parser_limit=exc.limit)
    except RecordSyntaxError as exc:
        return replace(
            facts,
            reason=exc.message,
            syntax_error=exc.message,
            syntax_error_position=exc.position,
            syntax_error_line=_line_at(answer.body, exc.position),
        )
    return replace(facts, policy=policy)


def _line_at(body: bytes, position: int) -> str:
    text = body.decode("utf-8", "replace")
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : len(text) if end < 0 else end].rstrip("\r")
    return line if len(line) <= _LINE_SHOWN else line[:_LINE_SHOWN] + "…"
