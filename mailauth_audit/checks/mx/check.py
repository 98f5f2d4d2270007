"""MX check: where mail for the domain goes (RFC 5321 §5.1, RFC 7505 null MX).

`collect` (collect.py) asks for the MX RRset and the addresses of each distinct host (memoised
per run: a provider's MX host shared by 10,000 domains is resolved once); with no MX it asks for
the domain's own A/AAAA, the implicit MX of RFC 5321 §5.1. `evaluate` (evaluate.py) judges the
facts, purely.
"""

from __future__ import annotations

from ...findings import mx as F
from ...model import CheckId, Finding
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from .collect import collect_mx
from .evaluate import evaluate_mx
from .result import MxResult

__all__ = ["MxCheck"]


class MxCheck(Check[MxResult]):
    """Mail exchangers of the domain, per RFC 5321 §5.1 and RFC 7505."""

    id = CheckId.MX
    title = "MX (where mail for the domain goes)"
    result_type = MxResult
    catalogue = catalogue_of(F)
    standard = "RFC 5321, RFC 7505"
    judges_facts_only = True  # evaluate reads no options

    @classmethod
    def summary(cls, result: MxResult | None) -> str:
        if result is not None and result.null_mx:
            return "null MX (accepts no mail)"
        hosts = result.hosts if result is not None else ()
        return ", ".join(f"{h.preference} {h.host}" for h in hosts) or "no MX"

    @classmethod
    def record_ttl(cls, result: MxResult | None) -> int | None:
        return None if result is None else result.ttl

    async def collect(self, ctx: CheckContext) -> MxResult:
        return await collect_mx(ctx)

    def evaluate(self, facts: MxResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_mx(facts, ctx.domain)
