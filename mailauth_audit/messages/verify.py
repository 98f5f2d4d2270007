"""Verify one received message: every DKIM signature, SPF for the delivery, DMARC for the
From domain, the ARC chain, and header hygiene; then findings and an Authentication-Results
header field (RFC 8601).

The async function is the original (the `receive` server calls it per message on its loop);
`verify_message_sync` mirrors it. DNS goes through the caller's `Resolver` only: DMARC
discovery is the domain audit's own (`checks.dmarc.discovery`), and parsing, hygiene and the
blocking verifiers (dkimpy, pyspf) run in a worker thread whose lookups are bridged back to
the loop (`dnsbridge.SyncDns`). A message is untrusted input: nothing in here raises for bad
bytes; a size limit is checked before anything is parsed, header limits while parsing, and
`MessageLimits` bounds the signatures, ARC sets, keys and time spent verifying.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ..checks.dmarc.discovery import discover_policy
from ..domain import normalize_domain
from ..errors import InvalidDomainError, ResolverError
from ..model import CheckStatus, Severity
from ..options import MAX_MESSAGE_BYTES, MessageLimits
from ..resolver.base import Resolver
from . import catalogue as F
from .alignment import aligned, disposition, dmarc_result, strictest
from .arc import verify_arc
from .authresults import DEFAULT_AUTHSERV_ID, authentication_results
from .bounds import Deadline
from .dkim_verify import MIN_KEY_BITS, verify_dkim_signatures
from .dnsbridge import SyncDns
from .findings import (
    arc_findings,
    dkim_findings,
    dmarc_findings,
    hygiene_findings,
    spf_findings,
)
from .headers import HeaderLimitError, HeaderSyntaxError, parse_message
from .hygiene import check_hygiene
from .model import (
    ArcResult,
    AuthResult,
    DkimSignatureResult,
    DmarcDisposition,
    DmarcEvaluation,
    Envelope,
    EnvelopeSource,
    HygieneResult,
    MessageFinding,
    MessageReport,
    SpfEvaluation,
)
from .spf_eval import envelope_from_headers, evaluate_spf

__all__ = [
    "DEFAULT_MAX_SIZE",
    "VerifyOptions",
    "read_message",
    "verify_message",
    "verify_message_sync",
]

DEFAULT_MAX_SIZE = MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class VerifyOptions:
    max_size: int = DEFAULT_MAX_SIZE  # bytes; a larger message is reported, not parsed
    authserv_id: str = DEFAULT_AUTHSERV_ID  # the authserv-id of Authentication-Results
    min_key_bits: int = MIN_KEY_BITS  # RSA keys below this are permerror (RFC 8301)
    dns_timeout: float = 30.0  # bound on one bridged lookup, over the resolver's own timeouts
    limits: MessageLimits = field(default_factory=MessageLimits)  # header caps, time budget


def read_message(path: str | Path, max_size: int = DEFAULT_MAX_SIZE) -> tuple[bytes, int]:
    """(the first max_size + 1 bytes at most, the file's size): a 30 MB file costs no 30 MB."""
    p = Path(path)
    size = p.stat().st_size
    with p.open("rb") as fh:
        data = fh.read(max_size + 1)
    return data, max(size, len(data))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for n, v in headers:
        if n.lower() == name:
            return " ".join(v.decode("utf-8", "replace").split())[:998]
    return None


def _status(findings: list[MessageFinding]) -> CheckStatus:
    worst = max((f.severity.rank for f in findings), default=0)
    if worst >= Severity.HIGH.rank:
        return CheckStatus.FAIL
    if worst >= Severity.LOW.rank:
        return CheckStatus.WARN
    return CheckStatus.PASS


def _sorted(findings: list[MessageFinding]) -> tuple[MessageFinding, ...]:
    return tuple(sorted(findings, key=lambda f: (-f.severity.rank, f.check.value, f.code)))


@dataclass(frozen=True)
class _Verified:
    """What the worker thread found; DMARC (DNS on the loop) and the findings come after."""

    env: Envelope
    headers: list[tuple[bytes, bytes]]
    signatures: tuple[DkimSignatureResult, ...]
    arc: ArcResult
    spf: SpfEvaluation
    hygiene: HygieneResult


async def verify_message(
    raw: bytes,
    resolver: Resolver,
    envelope: Envelope | None = None,
    options: VerifyOptions | None = None,
    *,
    size: int | None = None,
) -> MessageReport:
    """Verify `raw` (the message as received). `envelope` holds the SMTP facts when known
    (given on the command line or by `receive`); otherwise the topmost Received header is
    used. `size` is the real size when `raw` was read truncated (see `read_message`).

    Parsing and verification run in a worker thread, never on the event loop; the message
    is parsed once (`headers.parse_message`, linear, within the header limits) and that
    parse is handed to every verifier."""
    opts = options or VerifyOptions()
    total = len(raw) if size is None else size
    given = envelope or Envelope(None, None, None, EnvelopeSource.NONE)
    if total > opts.max_size:
        return _unverified(opts, total, given, [F.TOO_LARGE(size=total, limit=opts.max_size)])
    loop = asyncio.get_running_loop()
    bridge = SyncDns(resolver, loop, opts.dns_timeout)
    limits = opts.limits

    def blocking() -> _Verified | MessageReport:
        deadline = Deadline(limits.verify_seconds)
        try:
            parsed = parse_message(raw, limits.max_header_fields, limits.max_header_bytes)
        except HeaderLimitError as exc:
            finding = F.HEADER_LIMIT(what=exc.what)
            return _unverified(opts, total, given, [finding], parsed=False)
        except HeaderSyntaxError as exc:
            finding = F.UNPARSABLE(error=str(exc)[:200])
            return _unverified(opts, total, given, [finding], parsed=False)
        headers = parsed.header_pairs()
        if envelope is None or envelope.source is EnvelopeSource.NONE:
            env = envelope_from_headers(headers)
        else:
            env = envelope
        sigs = verify_dkim_signatures(
            parsed, bridge, min_key_bits=opts.min_key_bits, limits=limits, deadline=deadline
        )
        arc = verify_arc(parsed, bridge, limits, deadline)
        spf_eval = evaluate_spf(env, bridge)
        hygiene = check_hygiene(raw, headers, sigs, limits.max_mime_scan_lines)
        return _Verified(env, headers, sigs, arc, spf_eval, hygiene)

    stage = await asyncio.to_thread(blocking)
    if isinstance(stage, MessageReport):
        return stage
    signatures, arc, spf_eval, hygiene = stage.signatures, stage.arc, stage.spf, stage.hygiene
    dmarc = await _evaluate_dmarc(resolver, hygiene, signatures, spf_eval, limits.max_from_domains)

    findings = [
        *hygiene_findings(hygiene, signatures, opts.limits.max_mime_scan_lines),
        *dkim_findings(signatures),
        *spf_findings(spf_eval),
        *dmarc_findings(dmarc, hygiene),
        *arc_findings(arc),
    ]
    return MessageReport(
        verified_at=_now(),
        size=total,
        size_limit=opts.max_size,
        too_large=False,
        parsed=True,
        subject=_header(stage.headers, b"subject"),
        message_id=_header(stage.headers, b"message-id"),
        envelope=stage.env,
        dkim=signatures,
        spf=spf_eval,
        dmarc=dmarc,
        arc=arc,
        hygiene=hygiene,
        authentication_results=authentication_results(
            opts.authserv_id, signatures, spf_eval, dmarc, arc
        ),
        status=_status(findings),
        findings=_sorted(findings),
        dns_queries=bridge.queries,
    )


def verify_message_sync(
    raw: bytes,
    resolver: Resolver,
    envelope: Envelope | None = None,
    options: VerifyOptions | None = None,
    *,
    size: int | None = None,
) -> MessageReport:
    """See `verify_message`."""
    return asyncio.run(verify_message(raw, resolver, envelope, options, size=size))


def _unverified(
    opts: VerifyOptions,
    size: int,
    envelope: Envelope,
    findings: list[MessageFinding],
    *,
    parsed: bool = True,
) -> MessageReport:
    return MessageReport(
        verified_at=_now(),
        size=size,
        size_limit=opts.max_size,
        too_large=size > opts.max_size,
        parsed=parsed and size <= opts.max_size,
        subject=None,
        message_id=None,
        envelope=envelope,
        dkim=(),
        spf=None,
        dmarc=None,
        arc=None,
        hygiene=None,
        authentication_results=f"Authentication-Results: {opts.authserv_id}; none",
        status=_status(findings),
        findings=_sorted(findings),
    )


# --- DMARC ------------------------------------------------------------------------------------


def _no_dmarc(
    from_domain: str | None, result: AuthResult, reason: str | None, **facts: object
) -> DmarcEvaluation:
    base = DmarcEvaluation(
        from_domain=from_domain,
        result=result,
        reason=reason,
        disposition=DmarcDisposition.NONE,
        record=None,
        record_domain=None,
        organizational_domain=None,
        policy=None,
        testing=False,
        adkim="r",
        aspf="r",
        spf_domain=None,
        spf_aligned=False,
        spf_aligned_strict=False,
        dkim_domains=(),
        dkim_aligned=False,
        dkim_aligned_strict=False,
        dkim_aligned_domain=None,
    )
    return replace(base, **facts)  # type: ignore[arg-type]


async def _evaluate_dmarc(
    resolver: Resolver,
    hygiene: HygieneResult,
    signatures: tuple[DkimSignatureResult, ...],
    spf_eval: SpfEvaluation,
    max_domains: int,
) -> DmarcEvaluation:
    """RFC 7489 §6.6: discover the policy of the From domain, then check alignment. A From
    header naming several domains has each evaluated (at most `max_domains`, concurrently)
    and the strictest applied (§6.6.1)."""
    domains = hygiene.from_domains
    if hygiene.from_domain is not None or len(domains) == 1:
        return await _evaluate_domain(
            resolver, hygiene.from_domain or domains[0], signatures, spf_eval
        )
    if not domains:
        return _no_dmarc(None, AuthResult.PERMERROR, "the message has no single From domain")
    evaluated = await asyncio.gather(
        *(_evaluate_domain(resolver, d, signatures, spf_eval) for d in domains[:max_domains])
    )
    return strictest(list(evaluated), len(domains))


async def _evaluate_domain(
    resolver: Resolver,
    domain: str,
    signatures: tuple[DkimSignatureResult, ...],
    spf_eval: SpfEvaluation,
) -> DmarcEvaluation:
    """DMARC for one From domain."""
    try:
        from_domain = normalize_domain(domain)
    except InvalidDomainError:
        return _no_dmarc(domain, AuthResult.PERMERROR, "the From domain is not a domain name")
    spf_domain = None
    if spf_eval.mail_from is not None and spf_eval.mail_from.result is AuthResult.PASS:
        spf_domain = spf_eval.mail_from.domain
    dkim_domains = tuple(
        dict.fromkeys(s.domain for s in signatures if s.result is AuthResult.PASS and s.domain)
    )
    alignment = {
        "spf_domain": spf_domain,
        "spf_aligned_strict": bool(spf_domain) and aligned(spf_domain or "", from_domain, "s"),
        "dkim_domains": dkim_domains,
        "dkim_aligned_strict": any(aligned(d, from_domain, "s") for d in dkim_domains),
    }
    try:
        facts = await discover_policy(from_domain, resolver)
    except ResolverError as exc:
        return _no_dmarc(from_domain, AuthResult.TEMPERROR, str(exc), **alignment)
    adkim, aspf = facts.adkim, facts.aspf
    spf_ok = bool(spf_domain) and aligned(spf_domain or "", from_domain, aspf)
    dkim_match = next((d for d in dkim_domains if aligned(d, from_domain, adkim)), None)
    alignment.update(
        adkim=adkim,
        aspf=aspf,
        spf_aligned=spf_ok,
        dkim_aligned=dkim_match is not None,
        dkim_aligned_domain=dkim_match,
        organizational_domain=facts.organizational_domain,
    )
    if facts.record_text is None or facts.policy is None:
        return _no_dmarc(from_domain, AuthResult.NONE, "no DMARC policy applies", **alignment)
    result = dmarc_result(spf_ok, dkim_match is not None)
    return _no_dmarc(
        from_domain,
        result,
        None if result is AuthResult.PASS else "neither SPF nor DKIM passed aligned",
        record=facts.record_text,
        record_domain=facts.record_domain,
        policy=facts.policy,
        testing=facts.testing,
        disposition=disposition(result, facts.policy, facts.testing),
        **alignment,
    )
