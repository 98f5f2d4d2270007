"""DANE for SMTP: TLSA records of each MX host against the certificate it presents
(RFC 7672, RFC 7671, RFC 6698)."""

from __future__ import annotations

from ...findings import dane as F
from ...model import CheckId, Finding
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from ..dnssec.result import DnssecVerdict
from .collect import collect_dane
from .evaluate import evaluate_dane
from .result import DaneResult


class DaneCheck(Check[DaneResult]):
    """TLSA at `_25._tcp.<mx>` (RFC 7672 §2.2): its DNSSEC verdict, the usability of each
    record for SMTP (§3.1.3), and a match against the chain presented after STARTTLS (§3.1)."""

    id = CheckId.DANE
    title = "DANE (TLSA records pinning the TLS certificates of the MX hosts)"
    result_type = DaneResult
    catalogue = catalogue_of(F)
    evaluate_after = (CheckId.DNSSEC,)  # DANE senders ignore TLSA behind an insecure MX RRset
    standard = "RFC 7672, RFC 7671, RFC 6698"
    judges_facts_only = True  # evaluate reads no options

    @classmethod
    def summary(cls, result: DaneResult | None) -> str:
        hosts = result.hosts if result is not None else ()
        with_tlsa = [h for h in hosts if h.has_tlsa]
        bogus = sum(1 for h in hosts if h.verdict is DnssecVerdict.BOGUS)
        if bogus:
            return f"TLSA lookup bogus at {bogus} of {len(hosts)} MX hosts"
        if not with_tlsa:
            return "not deployed (no TLSA record)"
        matched = sum(1 for h in with_tlsa if any(a.authenticated_by for a in h.addresses))
        return f"TLSA at {len(with_tlsa)} of {len(hosts)} MX hosts; {matched} matched"

    async def collect(self, ctx: CheckContext) -> DaneResult:
        return await collect_dane(ctx)

    def evaluate(self, facts: DaneResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_dane(facts, ctx.domain, ctx.outcomes)
