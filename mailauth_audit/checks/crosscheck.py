"""Judgements that read more than one check's facts, kept pure and in one place.

A domain that says, in every way DNS allows, that it sends no mail must not be told to add
DKIM: that advice would be noise on every parked domain of a portfolio. A domain that does not
exist at all gets one root-cause finding, not one "missing" finding per check
(`apply_root_causes`, applied to every domain's outcomes once all checks are judged).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..findings import dane as dane_findings
from ..findings import dkim as dkim_findings
from ..findings import dmarc as dmarc_findings
from ..findings import dnssec as dnssec_findings
from ..findings import mx as mx_findings
from ..findings import spf as spf_findings
from ..model import CheckId, CheckOutcome, CheckStatus


def spf_denies_all(record: str | None) -> bool:
    """True for exactly `v=spf1 -all` (any case, any spacing): no host may send."""
    if not record:
        return False
    return [term.lower() for term in record.split()] == ["v=spf1", "-all"]


def sends_no_mail(outcomes: Mapping[CheckId, CheckOutcome]) -> bool:
    """Whether MX, SPF and DMARC all say the domain sends no mail.

    Needs all three facts: no MX at all or a null MX (RFC 7505), SPF `v=spf1 -all`, and an
    effective DMARC policy of reject. A check that did not run or could not complete gives
    no fact, and then the answer is False: "could not check" never counts as "no mail".
    Results are read by field name so this module need not import the other checks.
    """
    facts = {}
    for cid in (CheckId.MX, CheckId.SPF, CheckId.DMARC):
        outcome = outcomes.get(cid)
        if outcome is None or outcome.result is None:
            return False
        facts[cid] = outcome.result
    mx = facts[CheckId.MX]
    no_mx = bool(getattr(mx, "null_mx", False)) or not getattr(mx, "hosts", ())
    spf = getattr(facts[CheckId.SPF], "record", None)
    dmarc = getattr(facts[CheckId.DMARC], "effective_policy", None)
    return no_mx and spf_denies_all(spf if isinstance(spf, str) else None) and dmarc == "reject"


# The finding each check gives when it finds nothing at all: under a name that does not
# exist nothing can be found, so these would only repeat the root cause in other words.
_ABSENCE_CODES: dict[CheckId, str] = {
    CheckId.SPF: spf_findings.MISSING.code,
    CheckId.DKIM: dkim_findings.NO_SELECTOR_FOUND.code,
    CheckId.DMARC: dmarc_findings.MISSING.code,
    CheckId.DNSSEC: dnssec_findings.INSECURE.code,
    CheckId.DANE: dane_findings.NOT_DEPLOYED.code,
}
NXDOMAIN_SKIP_REASON = "domain does not exist (NXDOMAIN, see {code})"


def domain_does_not_exist(outcomes: Mapping[CheckId, CheckOutcome]) -> bool:
    """Whether the MX check saw the audited name itself answered NXDOMAIN.

    Only a completed MX check can say so: an MX check in error or not requested gives no
    fact, and then the other checks' findings stand as they are."""
    mx = outcomes.get(CheckId.MX)
    if mx is None or mx.result is None or mx.status is CheckStatus.ERROR:
        return False
    return getattr(mx.result, "domain_exists", True) is False


def apply_root_causes(outcomes: dict[CheckId, CheckOutcome]) -> dict[CheckId, CheckOutcome]:
    """One finding for one cause: a domain that does not exist gets `mx.domain_nxdomain`
    (critical: it can neither receive nor authenticate mail), not four findings saying in
    turn that its SPF, DKIM and DMARC records are missing.

    A check that found nothing under the missing name is `skipped` with the reason, so no
    output counts it as a pass and the grade stays the F the root cause gives. A check that
    found something anyway keeps its outcome: a DMARC policy inherited from the
    organizational domain does apply to its non-existent names (RFC 9989 `np=`), and a
    server that answers NXDOMAIN for MX but a TXT record for the same name is worth seeing.
    A check in error keeps its error: "could not check" is never explained away.
    """
    if not domain_does_not_exist(outcomes):
        return outcomes
    code = mx_findings.DOMAIN_NXDOMAIN.code
    judged = dict(outcomes)
    for cid, absence in _ABSENCE_CODES.items():
        outcome = outcomes.get(cid)
        if outcome is None or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
            continue
        if any(f.code == absence for f in outcome.findings):
            judged[cid] = CheckOutcome(
                check=cid,
                status=CheckStatus.SKIPPED,
                skip_reason=NXDOMAIN_SKIP_REASON.format(code=code),
            )
    return judged
