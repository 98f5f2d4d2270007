"""MTA-STS check (RFC 8461): does the domain tell senders to require TLS to its MX hosts, and
can its MX hosts meet what it asks?

`collect` (collect.py) reads `_mta-sts.<domain>` TXT and, when a `v=STSv1` record exists,
fetches the policy over HTTPS without following redirects; it asks for the MX RRset itself
(the run's resolver answers it and the MX check's question once) to judge the mx patterns.
`evaluate` (evaluate.py) is pure; it also reads the STARTTLS outcome when the run has one
(`evaluate_after`), to say whether an MX host that an `enforce` policy covers presents a
certificate senders accept.
"""

from __future__ import annotations

from ...findings import mta_sts as F
from ...model import CheckId, Finding
from ...options import fact_date
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from .collect import collect_mta_sts
from .evaluate import STARTTLS, judge
from .result import MtaStsResult, PolicyFetchState

__all__ = ["MtaStsCheck"]


class MtaStsCheck(Check[MtaStsResult]):
    """SMTP MTA Strict Transport Security per RFC 8461: TXT record (§3.1), policy (§3.2,
    §3.3), MX matching (§4.1) and the MX hosts' certificates (§4.2)."""

    id = CheckId.MTA_STS
    title = "MTA-STS (TLS required for mail to the domain)"
    result_type = MtaStsResult
    catalogue = catalogue_of(F)
    evaluate_after = (STARTTLS,)
    standard = "RFC 8461"
    judges_facts_only = True  # the audit date is a fact; only text limits clip (line5.py)

    @classmethod
    def summary(cls, result: MtaStsResult | None) -> str:
        if result is None:
            return ""
        if not result.records_found:
            return "no record" + (" (a look-alike is ignored)" if result.lookalikes else "")
        if len(result.records_found) > 1:
            return f"{len(result.records_found)} records published, one allowed"
        if result.record is None:
            return "invalid record"
        fetch = result.policy
        head = f"id={result.record.id}"
        if fetch is None:
            return head
        # the HTTPS handshake of the answer, as the starttls summary shows its sessions
        tls = f"; HTTPS {fetch.handshake_text}" if fetch.handshake_text else ""
        if fetch.policy is not None:
            p = fetch.policy
            return f"{head}; mode {p.mode.value}, max_age {p.max_age}, mx {', '.join(p.mx)}{tls}"
        if fetch.state is PolicyFetchState.FETCHED:
            return f"{head}; policy invalid{tls}"
        why = f" ({fetch.problem.value.replace('_', ' ')})" if fetch.problem else ""
        return f"{head}; policy {fetch.state.value.replace('_', ' ')}{why}{tls}"

    async def collect(self, ctx: CheckContext) -> MtaStsResult:
        return await collect_mta_sts(ctx)

    def evaluate(self, facts: MtaStsResult, ctx: EvaluationContext) -> list[Finding]:
        # the audit's date is a fact; facts saved before it was kept are judged on today's
        today = fact_date(facts.audit_date) if facts.audit_date else ctx.options.today
        return judge(facts, ctx.domain, ctx.outcomes, today)
