"""The per-MX table of the HTML report: one row per (MX host, address), arranged from the
starttls, mx_identity, dane and mta_sts results. Reads each check's result type (its
`result` module is the contract other layers may read); presentation only, every verdict
is already in the findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..checks.dane.result import DaneAddress, DaneHost, DaneResult
from ..checks.dnssec.result import DnssecVerdict
from ..checks.mta_sts.result import MtaStsResult
from ..checks.mx_identity.result import MxIdentityResult
from ..checks.starttls.result import MxAddressTls, StarttlsResult
from ..model import CheckId, CheckStatus, DomainReport
from ..records.mta_sts import MtaStsMode, policy_covers


@dataclass(frozen=True)
class MxTlsRow:
    preference: int
    host: str
    address: str
    ptr: str  # "name (forward-confirmed)", "name (not confirmed)", "none", "not checked"
    state: str  # "TLSv1.3", "no STARTTLS", "could not test: ...", "not probed: ..."
    cipher: str
    subject: str
    issuer: str
    expires: str  # YYYY-MM-DD of the leaf's notAfter
    trusted: str  # "yes", "no: reason", ""
    name_match: str  # "yes", "no", ""
    older_versions: str  # "TLSv1.1 accepted", "refused", "unknown: why", ""
    dane: str = ""  # "match (3 1 1 …)", "no match", "no TLSA", "not checked: why", ""
    mta_sts: str = ""  # "covered (enforce)", "not covered (testing)", "no policy", ""
    group: str = ""  # key-exchange group: "X25519", "secp256r1", "DHE 1024-bit", "not reported"


def _ptr_map(report: DomainReport) -> dict[tuple[str, str], str]:
    outcome = report.checks.get(CheckId.MX_IDENTITY)
    out: dict[tuple[str, str], str] = {}
    result = None if outcome is None else outcome.result
    if not isinstance(result, MxIdentityResult):
        return out
    for a in result.addresses:
        key = (a.host, a.address)
        if a.not_checked:
            out[key] = "not checked"
        elif a.error is not None:
            out[key] = "could not check"
        elif not a.ptr_names:
            out[key] = "none"
        else:
            confirmed = "forward-confirmed" if a.forward_confirmed else "not confirmed"
            out[key] = f"{', '.join(a.ptr_names[:2])} ({confirmed})"
    return out


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else ""


def _dane_address(a: DaneAddress) -> str:
    if a.authenticated_by:
        return f"match ({a.authenticated_by[0]})"
    if a.tls is True:
        return "no match"
    if a.tls is False:
        return f"no TLS: {a.no_tls_reason or 'unknown'}"
    if a.not_probed:
        return f"not checked: {a.not_probed}"
    return f"not checked: {a.error.message}" if a.error is not None else "not checked"


def _dane_cell(host: DaneHost | None, address: str, result: DaneResult) -> str:
    if host is None:
        return ""
    if host.verdict is DnssecVerdict.BOGUS:
        return "TLSA lookup bogus"
    if not host.has_tlsa:
        return "no TLSA"
    if host.verdict is DnssecVerdict.INSECURE:
        return "TLSA not signed (ignored)"
    for a in host.addresses:
        if a.address == address:
            return _dane_address(a)
    if not result.probes_enabled:
        return "not checked: probes turned off"
    return "not checked"


def _dane_map(report: DomainReport) -> tuple[DaneResult, dict[str, DaneHost]] | None:
    outcome = report.checks.get(CheckId.DANE)
    result = outcome.result if outcome is not None else None
    if not isinstance(result, DaneResult):
        return None
    return result, {h.host: h for h in result.hosts}


def _mta_sts_cell(report: DomainReport, host: str) -> str:
    outcome = report.checks.get(CheckId.MTA_STS)
    result = outcome.result if outcome is not None else None
    if not isinstance(result, MtaStsResult):
        return ""
    if not result.records_found:
        return "no policy"
    fetch = result.policy
    policy = fetch.policy if fetch is not None else None
    if policy is None:
        return "policy not read"
    if policy.mode is MtaStsMode.NONE:
        return "mode none"
    covered = "covered" if policy_covers(policy, host) else "not covered"
    return f"{covered} ({policy.mode.value})"


def _state(a: MxAddressTls) -> str:
    probe = a.probe
    tls = probe.tls if probe is not None else None
    if a.not_probed:
        return a.not_probed
    if a.error is not None:
        return a.error.message
    if probe is not None and not probe.starttls_offered:
        return "no STARTTLS"
    if tls is None:
        reply = probe.starttls_reply if probe is not None else None
        return f"STARTTLS refused ({reply.code})" if reply else "STARTTLS refused"
    return tls.version


def mx_tls_rows(report: DomainReport) -> tuple[MxTlsRow, ...]:
    outcome = report.checks.get(CheckId.STARTTLS)
    result = outcome.result if outcome is not None else None
    if not isinstance(result, StarttlsResult):
        return ()
    ptrs = _ptr_map(report)
    dane = _dane_map(report)
    dane_ran = report.checks.get(CheckId.DANE)
    rows = []
    for host in result.hosts:
        mta_sts = _mta_sts_cell(report, host.host)
        for a in host.addresses:
            tls = a.probe.tls if a.probe is not None else None
            leaf = tls.chain[0] if tls is not None and tls.chain else None
            if a.legacy_tls_accepted:
                older = f"{a.legacy_tls_accepted} accepted"
            elif a.legacy_tls_unknown:
                older = f"unknown: {a.legacy_tls_unknown}"
            else:
                older = "refused" if tls is not None else ""
            if dane is not None:
                dane_text = _dane_cell(dane[1].get(host.host), a.address, dane[0])
            elif dane_ran is not None and dane_ran.status is CheckStatus.ERROR:
                dane_text = "could not check"
            else:
                dane_text = ""
            rows.append(
                MxTlsRow(
                    preference=host.preference,
                    host=host.host,
                    address=a.address,
                    ptr=ptrs.get((host.host, a.address), ""),
                    state=_state(a),
                    cipher=tls.cipher if tls is not None else "",
                    subject=leaf.subject if leaf is not None else "",
                    issuer=leaf.issuer if leaf is not None else "",
                    expires=_day(leaf.not_after) if leaf is not None else "",
                    trusted=""
                    if tls is None
                    else "yes"
                    if tls.trusted
                    else f"no: {tls.trust_error or 'untrusted'}",
                    name_match="" if tls is None else "yes" if tls.hostname_matches else "no",
                    older_versions=older,
                    dane=dane_text,
                    mta_sts=mta_sts,
                    group=tls.group_text if tls is not None else "",
                )
            )
    return tuple(rows)
