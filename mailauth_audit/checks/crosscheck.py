"""Judgements that read more than one check's facts, kept pure and in one place.

A domain that says, in every way DNS allows, that it sends no mail must not be told to add
DKIM: that advice would be noise on every parked domain of a portfolio.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import CheckId, CheckOutcome


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
