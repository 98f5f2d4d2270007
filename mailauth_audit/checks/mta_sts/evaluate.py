"""Judging MTA-STS facts (RFC 8461). Pure: the facts, and the STARTTLS outcome when the run
has one, in; findings out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ...findings import mta_sts as F
from ...findings.clip import clip_text
from ...model import CheckId, CheckOutcome, CheckStatus, ErrorReason, Finding, Severity
from ...records.mta_sts import MtaStsMode, MtaStsNoteKind, MtaStsPolicy, policy_covers
from ..starttls.result import StarttlsResult
from .collect import policy_url
from .remediation import example_policy, mx_lines, txt_zone_line
from .result import MtaStsResult, PolicyFetch, PolicyFetchState, PolicyProblem

ONE_DAY = 86400
# the STARTTLS check is optional in a run (a --checks selection may leave it out)
STARTTLS = CheckId.STARTTLS

_REJECTED = {
    PolicyProblem.CERTIFICATE: F.POLICY_CERTIFICATE_INVALID,
    PolicyProblem.REDIRECT: F.POLICY_REDIRECT,
    PolicyProblem.HTTP_STATUS: F.POLICY_HTTP_STATUS,
    PolicyProblem.CONTENT_TYPE: F.POLICY_CONTENT_TYPE,
    PolicyProblem.TOO_LARGE: F.POLICY_TOO_LARGE,
}


SHOWN_RECORDS = 10  # records quoted as evidence; a zone may publish hundreds
SHOWN_CHARS = 1024  # characters of each quoted record


def shown(texts: tuple[str, ...]) -> tuple[str, ...]:
    """A stranger's records as evidence: the first few, each cut short."""
    return tuple(clip_text(t, SHOWN_CHARS) for t in texts[:SHOWN_RECORDS])


def judge(
    facts: MtaStsResult,
    domain: str,
    outcomes: Mapping[CheckId, CheckOutcome],
    today: date | None = None,
) -> list[Finding]:
    record_id = facts.record.id if facts.record is not None else None
    values: dict[str, object] = {
        "domain": domain,
        "txt_name": facts.txt_name,
        "url": facts.policy.url if facts.policy else policy_url(f"mta-sts.{domain}", 443),
        "zone_line": txt_zone_line(facts.txt_name, None, today),
    }
    if not facts.records_found:
        if facts.lookalikes:
            return [
                F.RECORD_IGNORED(
                    values, record=shown(facts.lookalikes)[0], evidence=shown(facts.lookalikes)
                )
            ]
        if facts.null_mx or not facts.mx_hosts:
            return []  # no mail to protect
        return [F.NOT_DEPLOYED(values)]
    findings: list[Finding] = []
    if len(facts.records_found) > 1:
        findings.append(
            F.MULTIPLE_RECORDS(
                values, count=len(facts.records_found), evidence=shown(facts.records_found)
            )
        )
    elif facts.syntax_error is not None:
        findings.append(
            F.RECORD_SYNTAX_ERROR(
                values,
                message=facts.syntax_error,
                position=facts.syntax_error_position,
                evidence=shown(facts.records_found),
            )
        )
    elif facts.record is not None and facts.record.notes:
        notes = "; ".join(n.message for n in facts.record.notes)
        findings.append(
            F.RECORD_NOTES(
                values,
                notes=notes,
                zone_line=txt_zone_line(facts.txt_name, record_id, today),
                evidence=shown(facts.records_found),
            )
        )
    if facts.policy is not None:
        findings.extend(_policy_findings(facts, facts.policy, values, outcomes))
    return findings


def _policy_findings(
    facts: MtaStsResult,
    fetch: PolicyFetch,
    values: dict[str, object],
    outcomes: Mapping[CheckId, CheckOutcome],
) -> list[Finding]:
    values = {**values, "host": fetch.host, "address": fetch.address, "reason": fetch.reason}
    state = fetch.state
    if state is PolicyFetchState.SKIPPED:
        how = "Run without --no-probes to fetch the policy."
        return [F.POLICY_NOT_CHECKED(values, how=how)]
    if state is PolicyFetchState.NOT_PROBED:
        how = "Audit from a network that reaches the host, or pass --allow-private-targets."
        evidence = tuple(f"{t.address}: {t.detail}" for t in fetch.attempts)
        return [F.POLICY_NOT_CHECKED(values, how=how, evidence=evidence)]
    if state is PolicyFetchState.UNREACHABLE:
        evidence = tuple(
            f"{t.address}: {t.outcome} {t.detail or ''}".strip() for t in fetch.attempts
        )
        return [F.POLICY_UNREACHABLE(values, evidence=evidence)]
    if state is PolicyFetchState.REJECTED:
        assert fetch.problem is not None
        evidence = tuple(e for e in (fetch.content_type, fetch.location) if e)
        return [_REJECTED[fetch.problem](values, evidence=evidence)]
    if fetch.parser_limit is not None:
        how = f"Raise Limits.{fetch.parser_limit} to judge a policy this large."
        return [F.POLICY_NOT_CHECKED(values, how=how)]
    example = example_policy(facts.mx_hosts)
    if fetch.policy is None:
        return [
            F.POLICY_SYNTAX_ERROR(
                values,
                message=fetch.syntax_error,
                position=fetch.syntax_error_position,
                example=example,
                evidence=(fetch.syntax_error_line,) if fetch.syntax_error_line else (),
            )
        ]
    return _judge_policy(facts, fetch.policy, {**values, "example": example}, outcomes)


def _judge_policy(
    facts: MtaStsResult,
    policy: MtaStsPolicy,
    values: dict[str, object],
    outcomes: Mapping[CheckId, CheckOutcome],
) -> list[Finding]:
    findings: list[Finding] = []
    unknown = policy.note(MtaStsNoteKind.UNKNOWN_FIELD)
    if unknown is not None:
        names = ", ".join(repr(name) for name, _ in policy.extensions[:10])
        findings.append(F.POLICY_UNKNOWN_FIELDS(values, notes=f"unknown field(s) {names}"))
    irregular = [n for n in policy.notes if n.kind is not MtaStsNoteKind.UNKNOWN_FIELD]
    if irregular:
        notes = "; ".join(
            n.message + (f" ({n.count} times)" if n.count > 1 else "") for n in irregular
        )
        findings.append(F.POLICY_IRREGULAR(values, notes=notes))
    if policy.mode is MtaStsMode.NONE:
        findings.append(F.MODE_NONE(values))
        return findings
    if policy.max_age < ONE_DAY:
        findings.append(F.MAX_AGE_SHORT(values, max_age=policy.max_age))
    enforce = policy.mode is MtaStsMode.ENFORCE
    if not enforce:
        findings.append(F.MODE_TESTING(values))
    uncovered = [h for h in facts.mx_hosts if not policy_covers(policy, h)]
    if uncovered and not facts.null_mx:
        consequence = (
            "conforming senders will not deliver to them at all"
            if enforce
            else "senders report every delivery to them as a failure; switching to enforce "
            "would stop that mail"
        )
        findings.append(
            F.MX_NOT_COVERED(
                values,
                hosts=", ".join(uncovered),
                patterns=", ".join(policy.mx) or "none",
                mode=policy.mode.value,
                consequence=consequence,
                lines=mx_lines(uncovered),
                hint=_wildcard_hint(policy, uncovered),
                severity=None if enforce else Severity.MEDIUM,
                evidence=tuple(f"mx: {p}" for p in policy.mx[:20]),
            )
        )
    findings.extend(_mx_tls(policy, values, outcomes))
    return findings


def _wildcard_hint(policy: MtaStsPolicy, hosts: list[str]) -> str:
    """Said when a `*.` pattern ends like an uncovered host: the one-label rule is why."""
    for pattern in policy.mx:
        suffix = pattern[1:].lower() if pattern.startswith("*.") else None
        if suffix and any(h.lower().endswith(suffix) for h in hosts):
            return (
                f" A '*.' pattern stands for exactly one label: {pattern} matches "
                f"x{suffix}, not x.y{suffix}."
            )
    return ""


def _mx_tls(
    policy: MtaStsPolicy, values: dict[str, object], outcomes: Mapping[CheckId, CheckOutcome]
) -> list[Finding]:
    """What the STARTTLS check saw at MX hosts the policy covers (RFC 8461 §4.2)."""
    enforce = policy.mode is MtaStsMode.ENFORCE
    outcome = outcomes.get(STARTTLS)
    result = outcome.result if outcome is not None else None
    if (
        outcome is None
        or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED)
        or not isinstance(result, StarttlsResult)
    ):
        if not enforce:
            return []
        if outcome is None:
            why = "the starttls check was not run"
        elif outcome.status is CheckStatus.SKIPPED:
            why = f"the starttls check probed nothing ({outcome.skip_reason or 'skipped'})"
        elif outcome.status is CheckStatus.ERROR:
            detail = f": {outcome.error.message}" if outcome.error is not None else ""
            why = f"the starttls check could not complete{detail}"
        else:
            why = "the starttls check left no result"
        return [F.MX_TLS_NOT_VERIFIED(values, reason=why)]
    problems, unverified = mx_tls_problems(policy, result)
    findings: list[Finding] = []
    if problems:
        consequence = (
            "Conforming senders will not deliver to these hosts."
            if enforce
            else "Senders report these deliveries as failures but still deliver."
        )
        findings.append(
            F.MX_CERTIFICATE_INVALID(
                values,
                mode=policy.mode.value,
                problems="; ".join(problems[:10]),
                consequence=consequence,
                severity=None if enforce else Severity.MEDIUM,
                evidence=tuple(problems[:20]),
            )
        )
    if unverified and enforce:
        findings.append(F.MX_TLS_NOT_VERIFIED(values, reason="; ".join(unverified[:5])))
    return findings


def mx_tls_problems(policy: MtaStsPolicy, result: StarttlsResult) -> tuple[list[str], list[str]]:
    """(problems, unverified): per covered MX address, why a sender's TLS would fail there
    (RFC 8461 §4.2: STARTTLS, a certificate chaining to a trusted root, valid now, naming
    the MX host), or why it was not tested. This is where the starttls check's low
    certificate findings become fatal: said here once, with the policy mode."""
    problems: list[str] = []
    unverified: list[str] = []
    for host in result.hosts:
        name = host.host
        if not policy_covers(policy, name):
            continue  # mx_not_covered already says what happens there
        if host.address_error is not None:
            unverified.append(f"{name}: {host.address_error.message}")
        for addr in host.addresses:
            where = f"{name} ({addr.address})"
            probe = addr.probe
            if probe is None:
                error = addr.error
                if error is not None and error.reason is ErrorReason.TLS_HANDSHAKE_FAILED:
                    problems.append(f"{where}: the TLS handshake failed ({error.message})")
                    continue
                why = addr.not_probed or (error.message if error else "not tested")
                unverified.append(f"{where}: {why}")
                continue
            tls = probe.tls
            if not probe.starttls_offered:
                problems.append(f"{where} does not offer STARTTLS")
            elif tls is None:
                problems.append(f"{where}: the STARTTLS command was refused")
            elif not tls.trusted:
                problems.append(f"{where}: certificate not trusted ({tls.trust_error})")
            elif not tls.hostname_matches:
                problems.append(f"{where}: certificate not valid for {name}")
    return problems, unverified
