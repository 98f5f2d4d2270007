"""Judgement, made once per domain: the score and grade, and the providers' checklist.

The engine collects and evaluates; this package judges the whole domain from its outcomes;
`report/` only presents. Both judgements are read through the report they belong to
(`DomainReport.verdict`, `DomainReport.checklist`), which computes each once and keeps it,
so every output format of a run shows the same grade and the same checklist states.
"""

from .checklist import (
    PROVIDER_SOURCES,
    ChecklistItem,
    ChecklistState,
    EvidenceSource,
    ProviderChecklist,
    provider_checklist,
)
from .score import DomainScore, GradeStatus, grade_for, score_domain, sort_key

__all__ = [
    "PROVIDER_SOURCES",
    "ChecklistItem",
    "ChecklistState",
    "DomainScore",
    "EvidenceSource",
    "GradeStatus",
    "ProviderChecklist",
    "grade_for",
    "provider_checklist",
    "score_domain",
    "sort_key",
]
