"""DKIM check: the key records published at guessed selectors (RFC 6376, RFC 8301, RFC 8463).

DKIM keys cannot be listed, only guessed: `collect` (collect.py) asks for
`<selector>._domainkey.<domain>` for the selectors the user gave, the names published by the
mail providers its MX hosts and SPF record point to, the date-style names this tool suggests
(s2026...), and a short built-in list (`selectors.plan_selectors`, capped per domain).
`evaluate` (evaluate.py) judges the keys, and reads the MX, SPF and DMARC outcomes so that a
domain that sends no mail is not told to add DKIM.
"""

from __future__ import annotations

from ...findings import dkim as F
from ...model import CheckId, Finding
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from .collect import collect_dkim, judge_txt
from .evaluate import evaluate_dkim
from .result import DkimResult, DkimSelectorResult, DkimSelectorStatus

__all__ = [
    "DkimCheck",
    "DkimResult",
    "DkimSelectorResult",
    "DkimSelectorStatus",
    "judge_txt",
]


class DkimCheck(Check[DkimResult]):
    """DKIM key records at guessed selectors, per RFC 6376, RFC 8301 and RFC 8463."""

    id = CheckId.DKIM
    title = "DKIM (signing keys)"
    result_type = DkimResult
    catalogue = catalogue_of(F)
    standard = "RFC 6376, RFC 8301, RFC 8463"
    judges_facts_only = True  # the audit date is a fact; only text limits clip (line5.py)
    evaluate_after = (CheckId.MX, CheckId.SPF, CheckId.DMARC)

    @classmethod
    def summary(cls, result: DkimResult | None) -> str:
        sels = result.selectors if result is not None else ()
        found = [f"{s.selector} ({_key_phrase(s)})" for s in sels]
        return ", ".join(found) or "no selector found"

    async def collect(self, ctx: CheckContext) -> DkimResult:
        return await collect_dkim(ctx)

    def evaluate(self, facts: DkimResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_dkim(facts, ctx)


def _key_phrase(sel: DkimSelectorResult) -> str:
    """A selector in one phrase: never "rsa ? bits" when the key could not be measured."""
    if sel.revoked:
        return "revoked"
    if sel.key_bits and not sel.error:
        return f"{sel.key_type or 'rsa'} {sel.key_bits} bits"
    return f"unusable: {sel.error or str(sel.status.value).replace('_', ' ')}"
