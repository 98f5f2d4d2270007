"""Evaluate: pure judgement of each MX host's TLSA records (RFC 7672, RFC 7671)."""

from __future__ import annotations

from collections.abc import Mapping

from ...findings import dane as F
from ...model import CheckId, CheckOutcome, Finding
from ...records.errors import RecordSyntaxError
from ...records.tlsa import TlsaRecord, TlsaSelector, TlsaUsage, parse_tlsa
from ..dnssec.result import DnssecResult, DnssecVerdict
from .remediation import suggested_record
from .result import DaneAddress, DaneHost, DaneResult


def _records(host: DaneHost) -> list[TlsaRecord]:
    out = []
    for text in host.records:
        try:
            out.append(parse_tlsa(text))
        except RecordSyntaxError:  # written by collect from a parsed record: not reached
            continue
    return out


def _mx_verdict(outcomes: Mapping[CheckId, CheckOutcome]) -> DnssecVerdict | None:
    outcome = outcomes.get(CheckId.DNSSEC)
    result = outcome.result if outcome is not None else None
    if isinstance(result, DnssecResult) and result.names:
        return result.names[0].verdict
    return None


def _addresses(items: list[DaneAddress]) -> str:
    return ", ".join(a.address for a in items)


def _address_findings(host: DaneHost, values: dict[str, object]) -> list[Finding]:
    findings: list[Finding] = []
    no_tls = [a for a in host.addresses if a.tls is False]
    if no_tls:
        findings.append(
            F.NO_TLS(
                values,
                addresses=_addresses(no_tls),
                why="; ".join(f"{a.address}: {a.no_tls_reason}" for a in no_tls),
            )
        )
    bad = [a for a in host.addresses if a.tls and not a.authenticated_by]
    if bad:
        why = ""
        unauth = [t for a in bad for t in a.ta_unauthenticated]
        if unauth:
            names = any(a.hostname_matches is False for a in bad)
            why = (
                f" (the DANE-TA record(s) {', '.join(dict.fromkeys(unauth))} match a "
                "certificate of the chain, but "
                + ("the leaf does not name the host" if names else "no issuer path leads to it")
                + ")"
            )
        evidence = [f"{a.address} presents {a.leaf_tlsa}" for a in bad if a.leaf_tlsa]
        findings.append(F.NO_MATCH(values, addresses=_addresses(bad), why=why, evidence=evidence))
    good = [a for a in host.addresses if a.authenticated_by]
    if good:
        used = dict.fromkeys(t for a in good for t in a.authenticated_by)
        findings.append(
            F.AUTHENTICATED(values, records=", ".join(used), addresses=_addresses(good))
        )
    untested = [a for a in host.addresses if a.tls is None]
    if untested or not host.addresses:
        reasons = [
            f"{a.address}: {a.not_probed or (a.error.message if a.error else 'not tested')}"
            for a in untested
        ] or ["probes are turned off (--no-probes) or the host has no address"]
        findings.append(F.CHAIN_NOT_CHECKED(values, why="; ".join(reasons)))
    return findings


def _host_findings(host: DaneHost) -> list[Finding]:
    records = _records(host)
    values: dict[str, object] = {
        "host": host.host,
        "tlsa_name": host.tlsa_name,
        "records": ", ".join(f"`{r}`" for r in host.records) or "none",
        "suggested": suggested_record(host),
    }
    if host.verdict is DnssecVerdict.BOGUS:
        what = "its TLSA records" if host.has_tlsa else "the proof that no TLSA record exists"
        said = "; ".join(host.extended_errors)
        ede = f" The resolver says: {said}." if said else ""
        return [F.BOGUS_TLSA(values, what=what, ede=ede, evidence=host.extended_errors)]
    if not host.has_tlsa:
        return []
    if host.verdict is DnssecVerdict.INSECURE:
        return [F.INSECURE_TLSA(values, why="no AD bit on the TLSA answer", evidence=host.records)]
    findings: list[Finding] = []
    if host.unreadable:
        findings.append(
            F.UNREADABLE_RECORDS(
                values, reasons="; ".join(host.unreadable), evidence=host.unreadable
            )
        )
    pkix = [r for r in records if r.usage in (TlsaUsage.PKIX_TA, TlsaUsage.PKIX_EE)]
    if pkix:
        findings.append(F.PKIX_USAGE(values, records=", ".join(f"`{r.to_text()}`" for r in pkix)))
    odd = [r for r in records if not r.smtp_usable and r not in pkix]
    if odd:
        findings.append(
            F.UNUSABLE_RECORDS(
                values,
                records=", ".join(f"`{r.to_text()}`" for r in odd),
                reasons="; ".join(r.unusable_reason or "" for r in odd),
            )
        )
    if host.records_not_checked:
        total = len(host.records) + len(host.unreadable) + host.records_not_checked
        findings.append(
            F.RECORDS_NOT_CHECKED(
                values,
                total=total,
                checked=total - host.records_not_checked,
                unchecked=host.records_not_checked,
            )
        )
    usable = [r for r in records if r.smtp_usable]
    if not usable:
        return findings
    full = [r for r in usable if r.usage == TlsaUsage.DANE_EE and r.selector == TlsaSelector.CERT]
    if full:
        findings.append(
            F.FULL_CERTIFICATE(values, records=", ".join(f"`{r.to_text()}`" for r in full))
        )
    if len(records) == 1 and (records[0].usage, records[0].selector, records[0].matching_type) == (
        3,
        1,
        1,
    ):
        findings.append(F.SINGLE_RECORD(values))
    return findings + _address_findings(host, values)


def evaluate_dane(
    facts: DaneResult, domain: str, outcomes: Mapping[CheckId, CheckOutcome]
) -> list[Finding]:
    relevant = [h for h in facts.hosts if h.has_tlsa or h.verdict is DnssecVerdict.BOGUS]
    if not relevant:
        hosts = ", ".join(h.host for h in facts.hosts) or "no MX host"
        return [F.NOT_DEPLOYED(domain=domain, hosts=hosts)]
    findings: list[Finding] = []
    verdict = _mx_verdict(outcomes)
    with_tlsa = [h.host for h in relevant if h.has_tlsa]
    if verdict is DnssecVerdict.INSECURE and with_tlsa:
        findings.append(
            F.MX_INSECURE(domain=domain, verdict=verdict.value, hosts=", ".join(with_tlsa))
        )
    for host in relevant:
        findings += _host_findings(host)
    return findings
