"""DMARC identifier alignment (RFC 7489 §3.1, RFC 9989 §4.4) and the disposition a policy
implies. Pure: the DMARC record was found by the domain audit's own discovery
(`checks.dmarc.discovery`).

Relaxed alignment compares Organizational Domains. The PSL's (RFC 7489 §3.2) is what the
receivers deployed today compute, so it is used here; the check's tree-walk Organizational
Domain (RFC 9989) is reported next to it in the DMARC facts.
"""

from __future__ import annotations

from dataclasses import replace

from ..records.orgdomain import psl_organizational_domain
from .model import AuthResult, DmarcDisposition, DmarcEvaluation

__all__ = ["aligned", "disposition", "dmarc_result", "strictest"]


def _norm(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


def aligned(authenticated: str, from_domain: str, mode: str) -> bool:
    """`mode` "s": the domains are equal; "r": they share an Organizational Domain."""
    a, f = _norm(authenticated), _norm(from_domain)
    if not a or not f:
        return False
    if a == f:
        return True
    if mode == "s":
        return False
    return psl_organizational_domain(a) == psl_organizational_domain(f)


def dmarc_result(spf_aligned: bool, dkim_aligned: bool) -> AuthResult:
    """RFC 7489 §4.2: DMARC passes when either SPF or DKIM passes aligned."""
    return AuthResult.PASS if spf_aligned or dkim_aligned else AuthResult.FAIL


def disposition(result: AuthResult, policy: str | None, testing: bool) -> DmarcDisposition:
    """What the policy asks for this message. A pass is always delivered; with t=y (RFC 9989
    §5.3.8, like pct=0 before it) receivers apply one level lower: reject becomes quarantine,
    quarantine becomes none."""
    if result is not AuthResult.FAIL or policy in (None, "none"):
        return DmarcDisposition.NONE
    if policy == "reject":
        return DmarcDisposition.QUARANTINE if testing else DmarcDisposition.REJECT
    if policy == "quarantine":
        return DmarcDisposition.NONE if testing else DmarcDisposition.QUARANTINE
    return DmarcDisposition.NONE


# how much a result of one From domain weighs in the message's result: a failure decides (the
# strictest policy among failures applies), then what could not be checked, then no policy;
# only when every domain passes does the message pass
_RESULT_WEIGHT = {
    AuthResult.FAIL: 4,
    AuthResult.TEMPERROR: 3,
    AuthResult.PERMERROR: 2,
    AuthResult.NONE: 1,
}
_DISPOSITION_WEIGHT = {DmarcDisposition.REJECT: 2, DmarcDisposition.QUARANTINE: 1}
_POLICY_WEIGHT = {"reject": 3, "quarantine": 2, "none": 1}


def strictest(evaluations: list[DmarcEvaluation], total: int) -> DmarcEvaluation:
    """RFC 7489 §6.6.1: with several From domains, each is evaluated and the strictest policy
    among the checks that fail is applied. `evaluations` are the first of `total` domains
    (a per-message bound); when some were not evaluated the message cannot pass or have no
    policy, since one of them might fail: its result is then permerror, a fail found among
    the evaluated ones still stands. The result carries every domain's own evaluation."""
    chosen = max(
        evaluations,
        key=lambda e: (
            _RESULT_WEIGHT.get(e.result, 0),
            _DISPOSITION_WEIGHT.get(e.disposition, 0),
            _POLICY_WEIGHT.get(e.policy or "", 0),
        ),
    )
    result, reason = chosen.result, chosen.reason
    if result is not AuthResult.PASS:
        reason = f"{reason or result.value} (the strictest of {total} From domains)"
    missing = total - len(evaluations)
    if missing:
        note = (
            f"{missing} of {total} From domains were not evaluated "
            f"(a limit of {len(evaluations)} per message)"
        )
        reason = f"{reason}; {note}" if reason else note
        if result not in (AuthResult.FAIL, AuthResult.TEMPERROR):
            result = AuthResult.PERMERROR
    return replace(
        chosen,
        result=result,
        reason=reason,
        per_domain=tuple(evaluations),
        domains_not_evaluated=missing,
    )
