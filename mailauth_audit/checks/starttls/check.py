"""The starttls check: STARTTLS and the TLS facts of every MX address.

Standards: RFC 3207 (STARTTLS), RFC 8996 (TLS 1.0 and 1.1 deprecated), RFC 6125 (the
certificate names the MX host), RFC 5280 (validity). Mail TLS is opportunistic (RFC 3207
§4.1, RFC 8461 §1): certificate problems are low findings here; the mta_sts and dane
checks, which read this result, say when a policy makes them fatal for senders.

Probe choice: the stdlib `ssl` module (through `probes/smtp.py`) rather than sslyze. One
probe is a connection, EHLO, STARTTLS and one handshake, plus a second handshake capped at
TLS 1.1 when the first negotiated 1.2 or newer: two connections per MX address. sslyze
answers the same questions with a scan per TLS version and cipher suite (dozens of
connections per server), which is neither polite to an MX shared by thousands of domains
nor needed for what this check judges (benchmarks/starttls_cost.py measures both). The
key-exchange group is read from the same handshake (probes/handshake.py), not from a second
connection made with nassl (benchmarks/tls_group_cost.py measures the options); it is
judged (RFC 7919, RFC 7525 §4.3) only when it was reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...findings import starttls as F
from ...model import CheckError, CheckId, CheckOutcome, Finding
from ..base import Check, CheckContext, EvaluationContext, catalogue_of
from ..mx import MxResult
from .collect import collect_starttls, refused_result
from .evaluate import addresses, evaluate_starttls, not_judged, tested
from .result import StarttlsResult


class StarttlsCheck(Check[StarttlsResult]):
    """STARTTLS on every MX address: RFC 3207, RFC 8996, RFC 6125."""

    id = CheckId.STARTTLS
    title = "STARTTLS (transport security of the MX hosts)"
    result_type = StarttlsResult
    catalogue = catalogue_of(F)
    depends_on = (CheckId.MX,)
    standard = "RFC 3207, RFC 8996, RFC 6125"
    judges_facts_only = True  # evaluate reads no options

    async def collect(self, ctx: CheckContext) -> StarttlsResult:
        return await collect_starttls(ctx)

    def not_judged(self, facts: StarttlsResult) -> CheckError | str | None:
        return not_judged(facts)

    @classmethod
    def skipped_by_rule(
        cls, domain: str, outcomes: Mapping[CheckId, CheckOutcome]
    ) -> tuple[Any, str] | None:
        mx = outcomes.get(CheckId.MX)
        if mx is None or not isinstance(mx.result, MxResult):
            return None
        facts = refused_result(mx.result, domain)
        why = None if facts is None else not_judged(facts)
        return (facts, why) if isinstance(why, str) else None

    def evaluate(self, facts: StarttlsResult, ctx: EvaluationContext) -> list[Finding]:
        return evaluate_starttls(facts)

    @classmethod
    def summary(cls, result: StarttlsResult | None) -> str:
        if result is None:
            return "not probed"
        every = list(addresses(result))
        judged = [a for a in every if tested(a)]
        if not judged:
            return f"{len(every)} MX address(es), none tested"
        with_tls = [a for a in judged if a.probe is not None and a.probe.tls is not None]
        sessions = [a.probe.tls for a in with_tls if a.probe and a.probe.tls]
        versions = sorted({tls.version for tls in sessions})
        groups = sorted({tls.group_text for tls in sessions})
        text = f"STARTTLS on {len(with_tls)} of {len(judged)} MX address(es) tested"
        if versions:
            text += f" ({', '.join(versions)}; group {', '.join(groups)})"
        untested = len(every) - len(judged)
        return text + (f"; {untested} not tested" if untested else "")
