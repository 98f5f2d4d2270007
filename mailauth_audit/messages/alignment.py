"""DMARC identifier alignment (RFC 7489 §3.1, RFC 9989 §4.4) and the disposition a policy
implies. Pure: the DMARC record was fetched by the domain audit's own `DmarcCheck.collect`.

Relaxed alignment compares Organizational Domains. The PSL's (RFC 7489 §3.2) is what the
receivers deployed today compute, so it is used here; the check's tree-walk Organizational
Domain (RFC 9989) is reported next to it in the DMARC facts.
"""

from __future__ import annotations

from ..records.orgdomain import psl_organizational_domain
from .model import AuthResult, DmarcDisposition

__all__ = ["aligned", "disposition", "dmarc_result"]


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
