"""DNSSEC of the domain's zone and each MX host's zone (RFC 4033, RFC 4035, RFC 8914)."""

from __future__ import annotations

from ...findings import dnssec as F
from ...model import CheckId, Finding
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from .collect import collect_dnssec
from .evaluate import evaluate_dnssec
from .result import DnssecResult, DnssecVerdict


class DnssecCheck(Check[DnssecResult]):
    """Secure, insecure or bogus, per RFC 4035 §4.3, for the domain's MX RRset and each MX
    host's addresses, as a validating resolver's AD bit and SERVFAIL say (the audit's
    resolver, or `--dnssec-resolver`); a bogus chain explained (RFC 8914, `dns.dnssec`)."""

    id = CheckId.DNSSEC
    title = "DNSSEC (signed, validated DNS for the domain and its MX hosts)"
    result_type = DnssecResult
    catalogue = catalogue_of(F)
    standard = "RFC 4033, RFC 4035, RFC 8914"
    judges_facts_only = True  # evaluate reads no options

    @classmethod
    def summary(cls, result: DnssecResult | None) -> str:
        if result is None or not result.names:
            return "not checked"
        domain = result.names[0]
        text = f"{domain.verdict.value}"
        hosts = result.names[1:]
        if hosts:
            counts = {v: sum(h.verdict is v for h in hosts) for v in DnssecVerdict}
            parts = [f"{n} {v.value}" for v, n in counts.items() if n]
            text += f"; MX hosts: {', '.join(parts)}"
        return text

    async def collect(self, ctx: CheckContext) -> DnssecResult:
        return await collect_dnssec(ctx)

    def evaluate(self, facts: DnssecResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_dnssec(facts)
