"""TLS-RPT check (RFC 8460): where senders report failures to negotiate TLS with the
domain's MX hosts. DNS only: `_smtp._tls.<domain>` TXT. `evaluate` looks at the MTA-STS (and
DANE, where the run has it) outcomes: a missing record matters when one of them is deployed.
"""

from __future__ import annotations

from ...findings import tls_rpt as F
from ...model import CheckId, Finding
from ...records.errors import RecordSyntaxError
from ...records.tls_rpt import looks_like_tls_rpt, select_tls_rpt_record
from ...resolver.base import RRType
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from .evaluate import DANE, judge
from .result import TlsRptResult

__all__ = ["TlsRptCheck"]

_VERSION = "v=TLSRPTv1"


class TlsRptCheck(Check[TlsRptResult]):
    """SMTP TLS Reporting per RFC 8460 §3: one `v=TLSRPTv1` record with a `rua` of mailto:
    or https: destinations."""

    id = CheckId.TLS_RPT
    title = "TLS-RPT (reports of TLS failures)"
    result_type = TlsRptResult
    catalogue = catalogue_of(F)
    evaluate_after = (CheckId.MTA_STS, DANE)
    standard = "RFC 8460"
    judges_facts_only = True  # evaluate reads no options

    @classmethod
    def summary(cls, result: TlsRptResult | None) -> str:
        if result is None:
            return ""
        if result.record_text is not None:
            text = result.record_text
            return text if len(text) <= 90 else text[:87] + "..."
        if len(result.records_found) > 1:
            return f"{len(result.records_found)} records published, one allowed"
        return "invalid record" if result.records_found else "no record"

    async def collect(self, ctx: CheckContext) -> TlsRptResult:
        name = f"_smtp._tls.{ctx.domain}"
        answer = await ctx.resolver.resolve(name, RRType.TXT)
        texts = [t.text for t in answer.txt()]
        found = tuple(t for t in texts if t.startswith(_VERSION))
        lookalikes = tuple(t for t in texts if looks_like_tls_rpt(t) and not t.startswith(_VERSION))
        try:
            record = select_tls_rpt_record(texts)
        except RecordSyntaxError as exc:
            return TlsRptResult(name, found, lookalikes, None, None, exc.message, exc.position)
        text = found[0] if record is not None else None
        return TlsRptResult(name, found, lookalikes, record, text, None, None)

    def evaluate(self, facts: TlsRptResult, ctx: EvaluationContext) -> list[Finding]:
        return judge(facts, ctx.domain, ctx.outcomes)
