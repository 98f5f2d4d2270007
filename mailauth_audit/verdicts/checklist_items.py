"""The provider checklist's types and the one way a DNS-backed item is built from a check's
outcome; shared by `checklist.py` (the providers' requirements) and `transport.py` (inbound
transport security, which no provider requires)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..fastinit import fast_init
from ..model import CheckId, CheckOutcome, CheckStatus, DomainReport

__all__ = [
    "ALL_PROVIDERS",
    "GMAIL",
    "MICROSOFT",
    "PROVIDER_SOURCES",
    "YAHOO",
    "ChecklistItem",
    "ChecklistState",
    "EvidenceSource",
    "ProviderChecklist",
    "dns_item",
    "outcome_result",
    "unknown_evidence",
]

GMAIL, YAHOO, MICROSOFT = "Gmail", "Yahoo", "Microsoft"
ALL_PROVIDERS = (GMAIL, YAHOO, MICROSOFT)
PROVIDER_SOURCES: tuple[str, ...] = (
    "Gmail: Email sender guidelines, https://support.google.com/a/answer/81126",
    "Yahoo: Sender best practices, https://senders.yahooinc.com/best-practices/",
    "Microsoft: Outlook.com requirements for high-volume senders (enforced from May 2025)",
)


class EvidenceSource(StrEnum):
    DNS = "dns"  # proved (or disproved) by the records this audit read
    TEST_MESSAGE = "test_message"  # needs a message sent through the domain's real mail path
    PROVIDER_ONLY = "provider_only"  # only the mailbox provider can see it
    PROBE = "probe"  # proved (or disproved) by connecting to the domain's servers (STARTTLS)


class ChecklistState(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"  # the DNS check it depends on errored or was skipped
    NEEDS_TEST_MESSAGE = "needs_test_message"
    NOT_OBSERVABLE = "not_observable"


@fast_init
@dataclass(frozen=True)
class ChecklistItem:
    """One provider requirement and what the audit can say about it."""

    id: str  # stable: "spf", "dkim_key_length", "spam_rate", ...
    requirement: str  # one line, as the providers state it
    providers: tuple[str, ...]  # who requires it of bulk senders: "Gmail", "Yahoo", "Microsoft"
    source: EvidenceSource
    state: ChecklistState
    evidence: str  # what was seen, or why it cannot be seen from here
    references: tuple[str, ...]


@dataclass(frozen=True)
class ProviderChecklist:
    """Gmail/Yahoo/Microsoft bulk-sender requirements for one domain."""

    items: tuple[ChecklistItem, ...]
    met: int  # items proved by DNS
    not_met: int  # items DNS proves are not met
    open: int  # items DNS cannot settle: unknown, needs_test_message or not_observable


def outcome_result(report: DomainReport, cid: CheckId) -> tuple[CheckOutcome | None, object | None]:
    outcome = report.checks.get(cid)
    if outcome is None or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
        return outcome, None
    return outcome, outcome.result


def unknown_evidence(outcome: CheckOutcome | None) -> str:
    if outcome is None or outcome.status is CheckStatus.SKIPPED:
        return "not checked in this run"
    message = outcome.error.message if outcome.error else "error"
    # engine messages already say "could not check: ..."; say it once
    prefix = "could not check:"
    if message.lower().startswith(prefix):
        message = message[len(prefix) :].lstrip()
    return f"{prefix} {message}"


def dns_item(
    id_: str,
    requirement: str,
    providers: tuple[str, ...],
    references: tuple[str, ...],
    verdict: tuple[bool, str] | None,
    outcome: CheckOutcome | None,
) -> ChecklistItem:
    if verdict is None:
        state, evidence = ChecklistState.UNKNOWN, unknown_evidence(outcome)
    else:
        ok, evidence = verdict
        state = ChecklistState.MET if ok else ChecklistState.NOT_MET
    source = EvidenceSource.DNS
    return ChecklistItem(id_, requirement, providers, source, state, evidence, references)
