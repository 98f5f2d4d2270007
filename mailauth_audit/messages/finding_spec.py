"""The spec of a message-verification finding: mirrors `findings.base.FindingSpec`, but builds
`MessageFinding`s, whose `check` is a `MessageCheckId`: message checks are not domain checks
and must not enter that registry. The specs themselves are in `catalogue.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..changes import RecordChange
from ..findings.base import fill_template
from ..model import Severity
from .model import MessageCheckId, MessageFinding

__all__ = ["MessageFindingSpec"]


@dataclass(frozen=True)
class MessageFindingSpec:
    code: str  # "<check>.<snake_case>", stable once released
    severity: Severity
    check: MessageCheckId
    title: str
    detail: str  # str.format template filled with this message's values
    remediation: str
    references: tuple[str, ...] = ()

    def __call__(
        self,
        values: Mapping[str, object] | None = None,
        /,
        *,
        evidence: tuple[str, ...] | list[str] = (),
        severity: Severity | None = None,
        changes: tuple[RecordChange, ...] = (),
        **params: object,
    ) -> MessageFinding:
        """Fill the templates. Values are inserted, never re-parsed, so hostile text is inert.

        Values shared by several findings come as one mapping (positional), so unpacking a
        dict of them cannot silently land in `evidence` or `severity`; `params` win over it.
        """
        filled = {**(values or {}), **params}
        return MessageFinding(
            code=self.code,
            severity=severity or self.severity,
            check=self.check,
            title=self.title,
            detail=fill_template(self.detail, filled),
            remediation=fill_template(self.remediation, filled),
            evidence=tuple(evidence),
            references=self.references,
            # a change fixes the finding it is proposed by, unless it says more
            changes=tuple(c if c.fixes else c.fixing((self.code,)) for c in changes),
        )
