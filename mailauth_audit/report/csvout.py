"""CSV: one row per domain, for spreadsheets and pipelines that want a flat table.

`CSV_COLUMNS` and `domain_csv_row` are public so that every CSV the tool writes (this
renderer, bulk-audit result files) has the same columns in the same order. The JSON stays the
complete form; a row only says how each check ended, the grade and how many findings of each
severity there are.

A domain that is not graded (a check could not complete) has `-` as its grade and score, the
reason in `not_graded_reason` and the score of what did complete in `provisional_score`; the
two columns were appended at the end so that existing column positions do not move.

`FILTER_COLUMNS`, appended last for the same reason (in `check --format csv` after the
provenance columns), are what a person filters a portfolio on: the DMARC policy published and
the one receivers apply, the SPF lookup count and what receivers conclude from the record,
the DKIM selectors with a key and their sizes, the MX hosts. A cell is empty when its check
did not run or could not complete; a check that completed and found nothing says so
(`no_record`, SPF `none`).

`<check>_status` columns of checks added after the first layout (mta_sts, tls_rpt, ...) come
last (`LATER_STATUS_COLUMNS`), so no earlier column moves when a check is added.
`domain_unicode`, appended last of all, is the domain as people write it: the U-label
spelling of an internationalised name (`bücher.example` for `xn--bcher-kva.example`), the
name itself when it has no IDN label.
"""

from __future__ import annotations

import csv
import io
from enum import Enum
from typing import TypeVar

from ..checks.dkim.result import DkimResult, DkimSelectorResult, DkimSelectorStatus
from ..checks.dmarc.result import DmarcResult
from ..checks.dnssec.result import DnssecResult
from ..checks.mta_sts.result import MtaStsResult
from ..checks.mx.result import MxResult
from ..checks.spf.result import SpfResult
from ..checks.starttls.result import StarttlsResult
from ..checks.tls_rpt.result import TlsRptResult
from ..domain import unicode_name
from ..model import CheckId, CheckOutcome, CheckStatus, DomainReport, Provenance, Severity
from ..records.errors import RecordSyntaxError
from ..records.spf import SpfQualifier, parse_spf
from ..verdicts.score import DomainScore, GradeStatus
from .provenance import source_text

# the checks of the first CSV layout; the status columns of later checks are appended last
_FIRST_CHECKS = (CheckId.MX, CheckId.SPF, CheckId.DKIM, CheckId.DMARC)
_BASE_COLUMNS: tuple[str, ...] = (
    "domain",
    "status",
    "grade",
    "score",
    "score_complete",
    *(f"{cid.value}_status" for cid in _FIRST_CHECKS),
    *(f"findings_{sev.value}" for sev in Severity),
    "dns_queries",
    "error",
    "provisional_score",
    "not_graded_reason",
)
FILTER_COLUMNS: tuple[str, ...] = (
    "dmarc_policy",  # p= of the record that applies (own or inherited), or no_record
    "dmarc_effective_policy",  # what receivers apply to this domain (sp=/np= included)
    "spf_lookups",  # DNS lookups of the whole tree; "N+" when a cap stopped the count at N
    "spf_verdict",  # none, permerror, or the result for an unlisted host (fail, softfail...)
    "dkim_selectors",  # selectors holding a key record, space-separated, in probing order
    "dkim_key_sizes",  # one per selector: rsa2048, ed25519, revoked, unusable
    "dkim_min_rsa_bits",  # the smallest usable RSA key, for "below 2048" filters
    "mx_hosts",  # in preference order, space-separated; "." for a null MX
    # the MTA-STS policy's mode (enforce, testing, none), else why there is none in force:
    # no_record, invalid_record, policy_unreachable, policy_rejected, policy_invalid,
    # policy_not_probed, policy_skipped (--no-probes), policy_not_checked
    "mta_sts_mode",
    "tls_rpt_rua",  # the mailto:/https: report destinations, space-separated, or no_record
    "dnssec_verdict",  # the domain's: secure, insecure or bogus
    "dnssec_mx_verdicts",  # the MX hosts', space-separated, in preference order
    "dane",  # not_deployed, authenticated, no_match, no_tls, insecure, bogus, not_checked
    "mx_tls_versions",  # TLS versions the MX addresses negotiated, space-separated
    "mx_without_starttls",  # MX addresses tested that took no STARTTLS (count)
    "mx_cert_expires",  # the earliest expiry (YYYY-MM-DD) of the MX certificates seen
)
# `<check>_status` of the checks added after the first layout, in CheckId order
LATER_STATUS_COLUMNS: tuple[str, ...] = tuple(
    f"{cid.value}_status" for cid in CheckId if cid not in _FIRST_CHECKS
)
# the domain as people write it: the U-label spelling of an IDN (bücher.example beside
# xn--bcher-kva.example in `domain`), the name itself otherwise; appended last
IDN_COLUMNS: tuple[str, ...] = ("domain_unicode",)
CSV_COLUMNS: tuple[str, ...] = _BASE_COLUMNS + FILTER_COLUMNS + LATER_STATUS_COLUMNS + IDN_COLUMNS
R = TypeVar("R")
NOT_GRADED = "-"  # the grade and score cells of a domain that is not graded
# (check, its status column) in row order; the severity columns in the order of
# DomainScore.counts() (critical first), which is Severity's own order
_STATUS_COLUMNS = tuple((cid, f"{cid.value}_status") for cid in CheckId)
_SEVERITY_COLUMNS = tuple(f"findings_{sev.value}" for sev in Severity)
# read once here: an enum class's attribute goes through EnumType.__getattr__'s slow path,
# and a row is made for every domain of a bulk run
_NOT_COMPLETED = (CheckStatus.ERROR, CheckStatus.SKIPPED)
_NOT_GRADED, _KEY = GradeStatus.NOT_GRADED, DkimSelectorStatus.KEY
_DMARC, _SPF, _DKIM, _MX = CheckId.DMARC, CheckId.SPF, CheckId.DKIM, CheckId.MX
_MTA_STS, _TLS_RPT, _DNSSEC = CheckId.MTA_STS, CheckId.TLS_RPT, CheckId.DNSSEC
_DANE, _STARTTLS = CheckId.DANE, CheckId.STARTTLS


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas: DNS names and error messages are written by others."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def domain_csv_row(report: DomainReport, score: DomainScore | None = None) -> dict[str, str]:
    """One domain as a row keyed by `CSV_COLUMNS` (every value a string; "" when absent).
    `score`: score_domain(report), when the caller has it already."""
    s = score if score is not None else report.verdict
    not_graded = s.grade_status is _NOT_GRADED
    row: dict[str, str] = {
        "domain": _cell(report.domain),
        "status": report.status._value_,
        "grade": NOT_GRADED if not_graded else s.grade or "",
        "score": NOT_GRADED if not_graded else "" if s.score is None else str(s.score),
        "score_complete": "true" if s.complete else "false",
        "dns_queries": str(report.dns_queries),
        "error": _cell(report.error or ""),
        "provisional_score": "" if s.provisional_score is None else str(s.provisional_score),
        "not_graded_reason": _cell(s.not_graded_reason or "") if not_graded else "",
        "domain_unicode": _cell(unicode_name(report.domain) or report.domain),
    }
    checks = report.checks
    for cid, column in _STATUS_COLUMNS:
        outcome = checks.get(cid)
        row[column] = outcome.status._value_ if outcome else ""
    row.update(zip(_SEVERITY_COLUMNS, map(str, s.counts()), strict=True))
    row.update(_EMPTY_FILTER_CELLS)
    _fill_filter_cells(report, row)
    return row


NO_RECORD = "no_record"
RFC_LOOKUP_LIMIT, RFC_VOID_LIMIT = 10, 2  # RFC 7208 §4.6.4: past these, permerror
_SPF_RESULT = {
    SpfQualifier.FAIL: "fail",
    SpfQualifier.SOFTFAIL: "softfail",
    SpfQualifier.NEUTRAL: "neutral",
    SpfQualifier.PASS: "pass",
}


def _completed(report: DomainReport, cid: CheckId) -> CheckOutcome | None:
    """The check's outcome when it ran to the end with facts; None otherwise (empty cells)."""
    outcome = report.checks.get(cid)
    if outcome is None or outcome.result is None:
        return None
    if outcome.status in _NOT_COMPLETED:
        return None
    return outcome


def _facts(report: DomainReport, cid: CheckId, result_type: type[R]) -> R | None:
    """The typed facts of a check that ran to the end; None otherwise (empty cells)."""
    outcome = _completed(report, cid)
    if outcome is None or not isinstance(outcome.result, result_type):
        return None
    return outcome.result


def _text(value: str | Enum | None) -> str:
    if value is None:
        return ""
    # _value_: what .value returns, without the enum property's Python-level __get__
    return str(value._value_) if isinstance(value, Enum) else value


def spf_verdict(result: SpfResult) -> str:
    """What receivers conclude from the record alone (RFC 7208): `none` without a record,
    `permerror` for every message when the record is broken, several, or past the lookup
    limits, otherwise the result for a host the record does not list (its `all`; `redirect`
    when another domain's record decides; `neutral` by default, §4.7)."""
    found = result.records_found
    record = result.record
    if not found:
        return "none"
    if len(found) > 1 or record is None or result.syntax_error:
        return "permerror"
    if result.dns_lookups > RFC_LOOKUP_LIMIT or result.void_lookups > RFC_VOID_LIMIT:
        return "permerror"
    try:
        parsed = parse_spf(record)
    except RecordSyntaxError:
        return "permerror"
    if parsed.all is not None:
        return _SPF_RESULT.get(parsed.all.qualifier, "neutral")
    return "redirect" if parsed.redirect is not None else "neutral"


def _key_size(sel: DkimSelectorResult) -> str | None:
    """The summary's label for a selector holding a key record; None for other selectors."""
    if sel.status is not _KEY:
        return None
    if sel.revoked:
        return "revoked"
    key_type = sel.key_type or "rsa"
    if key_type == "ed25519":
        return "ed25519"
    return f"{key_type}{sel.key_bits}" if sel.key_bits else "unusable"


_EMPTY_FILTER_CELLS = dict.fromkeys(FILTER_COLUMNS, "")


def filter_cells(report: DomainReport) -> dict[str, str]:
    """The `FILTER_COLUMNS` of one domain (every value a string, "" when not known)."""
    cells = dict(_EMPTY_FILTER_CELLS)
    _fill_filter_cells(report, cells)
    return cells


def _fill_filter_cells(report: DomainReport, cells: dict[str, str]) -> None:
    """Write into `cells` the `FILTER_COLUMNS` cells that are known (the caller has put
    "" in each: a row is filled in place rather than merged from a second dict)."""
    dmarc = _facts(report, _DMARC, DmarcResult)
    if dmarc is not None:
        # a record whose p= is missing or not valid: receivers apply no policy from it
        cells["dmarc_policy"] = _text(dmarc.policy) or (
            "invalid" if dmarc.record is not None else NO_RECORD
        )
        cells["dmarc_effective_policy"] = _text(dmarc.effective_policy) or NO_RECORD
    spf = _facts(report, _SPF, SpfResult)
    if spf is not None:
        cells["spf_verdict"] = spf_verdict(spf)
        if spf.record:
            lookups = str(spf.dns_lookups)
            cells["spf_lookups"] = lookups if spf.complete else f"{lookups}+"
    dkim = _facts(report, _DKIM, DkimResult)
    if dkim is not None:
        keyed = [(sel, size) for sel in dkim.selectors if (size := _key_size(sel)) is not None]
        cells["dkim_selectors"] = _cell(" ".join(sel.selector for sel, _ in keyed))
        cells["dkim_key_sizes"] = " ".join(size for _, size in keyed)
        rsa = [sel.key_bits for sel, size in keyed if size.startswith("rsa") and sel.key_bits]
        cells["dkim_min_rsa_bits"] = str(min(rsa)) if rsa else ""
    mx = _facts(report, _MX, MxResult)
    if mx is not None:
        hosts = [h.host for h in mx.hosts] + list(mx.unchecked_hosts)
        if mx.null_mx:
            hosts.insert(0, ".")
        cells["mx_hosts"] = _cell(" ".join(dict.fromkeys(hosts)))
    mta_sts = _facts(report, _MTA_STS, MtaStsResult)
    if mta_sts is not None:
        cells["mta_sts_mode"] = mta_sts_mode(mta_sts)
    tls_rpt = _facts(report, _TLS_RPT, TlsRptResult)
    if tls_rpt is not None:
        cells["tls_rpt_rua"] = _cell(tls_rpt_rua(tls_rpt))
    dnssec = _facts(report, _DNSSEC, DnssecResult)
    if dnssec is not None and dnssec.names:
        cells["dnssec_verdict"] = _text(dnssec.names[0].verdict)
        cells["dnssec_mx_verdicts"] = " ".join(_text(n.verdict) for n in dnssec.names[1:])
    dane = _completed(report, _DANE)
    if dane is not None:
        cells["dane"] = dane_state(dane)
    tls = _facts(report, _STARTTLS, StarttlsResult)
    if tls is not None:
        cells.update(_tls_cells(tls))


def mta_sts_mode(result: MtaStsResult) -> str:
    """The mode senders apply, or why no policy is in force (see FILTER_COLUMNS)."""
    if not result.records_found:
        return NO_RECORD
    if result.record is None:
        return "invalid_record"
    fetch = result.policy
    if fetch is None:
        return ""
    if fetch.policy is not None:
        return _text(fetch.policy.mode)
    state = _text(fetch.state)
    if state == "fetched":
        return "policy_not_checked" if fetch.parser_limit else "policy_invalid"
    return f"policy_{state}" if state else ""


def tls_rpt_rua(result: TlsRptResult) -> str:
    if not result.records_found:
        return NO_RECORD
    if result.record is None:
        return "invalid"
    return " ".join(u.uri for u in result.record.supported_rua)


# the worst DANE situation first: what a DANE sender would meet at one of the MX hosts
_DANE_STATES = (
    ("dane.tlsa_bogus", "bogus"),
    ("dane.no_tls", "no_tls"),
    ("dane.no_match", "no_match"),
    ("dane.tlsa_insecure", "insecure"),
    ("dane.mx_insecure", "insecure"),
    ("dane.chain_not_checked", "not_checked"),
    ("dane.authenticated", "authenticated"),
    ("dane.not_deployed", "not_deployed"),
)


def dane_state(outcome: CheckOutcome) -> str:
    """One word for the DANE column, from the check's findings (worst first)."""
    found = {f.code for f in outcome.findings}
    return next((state for code, state in _DANE_STATES if code in found), "unusable")


def _tls_cells(result: StarttlsResult) -> dict[str, str]:
    versions: set[str] = set()
    without = 0
    expiries = []
    for host in result.hosts:
        for a in host.addresses:
            probe = a.probe
            if probe is None:
                continue
            if probe.tls is None:
                without += 1
                continue
            versions.add(probe.tls.version)
            if probe.tls.chain:
                expiries.append(probe.tls.chain[0].not_after)
    return {
        "mx_tls_versions": " ".join(sorted(versions)),
        "mx_without_starttls": str(without),
        "mx_cert_expires": min(expiries).strftime("%Y-%m-%d") if expiries else "",
    }


# `check --format csv` only: where the answers came from, the same on every row (a bulk
# run says it once, in summary.json)
PROVENANCE_COLUMNS: tuple[str, ...] = ("source_mode", "sources", "collected_at", "tool_version")


def provenance_cells(p: Provenance | None) -> dict[str, str]:
    if p is None:
        return dict.fromkeys(PROVENANCE_COLUMNS, "")
    return {
        "source_mode": p.mode.value,
        "sources": _cell("; ".join(source_text(s) for s in p.sources)),
        "collected_at": p.collected_at,
        "tool_version": p.tool_version,
    }


# `check --format csv`: the provenance columns keep their place, the filter columns follow
CHECK_CSV_COLUMNS: tuple[str, ...] = (
    _BASE_COLUMNS + PROVENANCE_COLUMNS + FILTER_COLUMNS + LATER_STATUS_COLUMNS + IDN_COLUMNS
)


def csv_text(
    reports: list[DomainReport] | tuple[DomainReport, ...], provenance: Provenance | None = None
) -> str:
    buf = io.StringIO()
    columns = CHECK_CSV_COLUMNS
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    cells = provenance_cells(provenance)
    for report in reports:
        writer.writerow({**domain_csv_row(report), **cells})
    return buf.getvalue()
