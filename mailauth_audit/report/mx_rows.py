"""The per-MX table of the HTML report: one row per (MX host, address), arranged from the
starttls and mx_identity results. Read by field name (report/ does not import checks'
internals); presentation only, every verdict is already in the findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..model import CheckId, DomainReport


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


def _ptr_map(report: DomainReport) -> dict[tuple[str, str], str]:
    outcome = report.checks.get(CheckId.MX_IDENTITY)
    out: dict[tuple[str, str], str] = {}
    for a in getattr(getattr(outcome, "result", None), "addresses", ()) or ():
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


def mx_tls_rows(report: DomainReport) -> tuple[MxTlsRow, ...]:
    outcome = report.checks.get(CheckId.STARTTLS)
    result = getattr(outcome, "result", None)
    if result is None:
        return ()
    ptrs = _ptr_map(report)
    rows = []
    for host in getattr(result, "hosts", ()) or ():
        for a in host.addresses:
            probe, tls = a.probe, a.probe.tls if a.probe is not None else None
            leaf = tls.chain[0] if tls is not None and tls.chain else None
            if a.not_probed:
                state = a.not_probed
            elif a.error is not None:
                state = a.error.message
            elif probe is not None and not probe.starttls_offered:
                state = "no STARTTLS"
            elif tls is None:
                reply = probe.starttls_reply if probe is not None else None
                state = f"STARTTLS refused ({reply.code})" if reply else "STARTTLS refused"
            else:
                state = tls.version
            if a.legacy_tls_accepted:
                older = f"{a.legacy_tls_accepted} accepted"
            elif a.legacy_tls_unknown:
                older = f"unknown: {a.legacy_tls_unknown}"
            else:
                older = "refused" if tls is not None else ""
            rows.append(
                MxTlsRow(
                    preference=host.preference,
                    host=host.host,
                    address=a.address,
                    ptr=ptrs.get((host.host, a.address), ""),
                    state=state,
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
                )
            )
    return tuple(rows)
