"""Evaluate: pure judgement of the DNSSEC verdicts (RFC 4033, RFC 4035)."""

from __future__ import annotations

from ...findings import dnssec as F
from ...model import Finding
from .remediation import bogus_fix
from .result import DnssecName, DnssecResult, DnssecVerdict

_EFFECT = {
    "domain": "to the domain is not delivered and its SPF, DKIM and DMARC records cannot be "
    "found by receivers that validate",
    "mx": "cannot reach this MX host from senders that validate",
}


def _values(item: DnssecName) -> dict[str, object]:
    role = "the domain's MX records" if item.role == "domain" else "MX host"
    return {
        "name": item.name,
        "role": role,
        "rdtype": item.rdtype,
        "zone": item.zone or "?",
    }


def _bogus(item: DnssecName) -> Finding:
    bogus = item.bogus
    why = bogus.detail if bogus is not None else "the validator did not say"
    ede = f" The resolver says: {'; '.join(item.extended_errors)}." if item.extended_errors else ""
    fix = bogus_fix(item, bogus) if bogus is not None else "Check the zone's DNSSEC chain."
    spec = F.BOGUS if item.role == "domain" else F.BOGUS_MX
    evidence = [*item.extended_errors]
    if bogus is not None:
        evidence.append(f"{bogus.kind.value}: {bogus.detail}")
        if bogus.expected_ds:
            evidence.append(bogus.expected_ds)
    return spec(
        _values(item),
        why=why,
        ede=ede,
        fix=fix,
        effect=_EFFECT[item.role],
        evidence=evidence,
    )


def _label(item: DnssecName) -> str:
    what = "MX records" if item.role == "domain" else f"MX host, {item.rdtype}"
    zone = f", zone {item.zone}" if item.zone else ""
    return f"{item.name} ({what}{zone})"


def evaluate_dnssec(facts: DnssecResult) -> list[Finding]:
    """One finding per bogus or signed-but-unanchored name (each has its own fix), one for
    all secure names and one for all unsigned ones."""
    findings: list[Finding] = []
    secure = [n for n in facts.names if n.verdict is DnssecVerdict.SECURE]
    unsigned = [n for n in facts.names if n.verdict is DnssecVerdict.INSECURE and not n.signed]
    for item in facts.names:
        if item.verdict is DnssecVerdict.BOGUS:
            findings.append(_bogus(item))
        elif item.verdict is DnssecVerdict.INSECURE and item.signed:
            ds = f"`{item.expected_ds}`" if item.expected_ds else "(ask your DNS host for it)"
            findings.append(F.SIGNED_NOT_ANCHORED(_values(item), ds_line=ds))
    if secure:
        labels = [_label(n) for n in secure]
        findings.append(F.SECURE(names=", ".join(labels), evidence=labels))
    if unsigned:
        labels = [_label(n) for n in unsigned]
        findings.append(
            F.INSECURE(names=", ".join(labels), first=unsigned[0].name, evidence=labels)
        )
    return findings
