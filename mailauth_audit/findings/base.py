"""A finding's fixed parts (code, severity, wording, references) live in one spec per code.

Checks only fill in this domain's values, so the wording of a code is the same everywhere and
tests can assert codes instead of sentences.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from ..changes import RecordChange
from ..fastinit import cached_once
from ..model import CheckId, Finding, Severity


class _SafeDict(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_template(template: str, values: Mapping[str, object]) -> str:
    """str.format with this finding's values; a missing name stays visible as {name}.

    Values are inserted, never re-parsed, so braces in hostile DNS or message text are inert.
    """
    return template.format_map(_SafeDict(values))


def template_names(*templates: str) -> tuple[str, ...]:
    """The names the templates insert, each once, in the order they first appear."""
    names: dict[str, None] = {}
    for template in templates:
        for _, name, _, _ in string.Formatter().parse(template):
            if name:
                names[name] = None
    return tuple(names)


@dataclass(frozen=True)
class FindingSpec:
    code: str  # "<check>.<snake_case>", stable once released
    severity: Severity
    check: CheckId
    title: str
    detail: str  # str.format template filled with the domain's values
    remediation: str  # str.format template; give the exact record to publish where possible
    references: tuple[str, ...] = ()

    def __call__(
        self,
        values: Mapping[str, object] | None = None,
        /,
        *,
        evidence: tuple[str, ...] | list[str] = (),
        severity: Severity | None = None,
        changes: tuple[RecordChange, ...] | list[RecordChange] = (),
        **params: object,
    ) -> Finding:
        """Fill the templates. Values are inserted, never re-parsed, so hostile text is inert.

        Values shared by several findings come as one mapping (positional), so unpacking a
        dict of them cannot silently land in `evidence` or `severity`; `params` win over it.
        """
        if values:
            params = {**values, **params}
        # the templates' values as the text str.format inserts (format(v); a str is returned
        # as it is): the finding keeps them, so its sentences follow from code and values (a
        # results line stores only those)
        names = self._names
        texts: dict[str, str]
        if params.keys() >= self._name_set:  # nothing missing: the usual case, looped in C
            texts = dict(zip(names, map(format, map(params.__getitem__, names)), strict=True))
            detail = self.detail.format_map(texts)
            remediation = self.remediation.format_map(texts)
        else:  # a missing name stays visible as {name}
            texts = {n: format(params[n]) for n in names if n in params}
            detail = fill_template(self.detail, texts)
            remediation = fill_template(self.remediation, texts)
        return Finding(
            self.code,
            severity or self.severity,
            self.check,
            self.title,
            detail,
            remediation,
            tuple(evidence),
            self.references,
            # a change fixes the finding it is proposed by, unless it says more
            tuple([c if c.fixes else c.fixing(self._fixes) for c in changes]) if changes else (),
            tuple(texts.items()),
        )

    @cached_once
    def _fixes(self) -> tuple[str, ...]:
        return (self.code,)

    @cached_once
    def _names(self) -> tuple[str, ...]:
        return template_names(self.detail, self.remediation)

    @cached_once
    def _name_set(self) -> frozenset[str]:
        return frozenset(self._names)

    @property
    def names(self) -> tuple[str, ...]:
        """The template values a finding of this code carries, in the order its `params`
        hold them (a results line writes the values alone, in this order)."""
        return self._names

    def texts(self, params: Mapping[str, str]) -> tuple[str, str]:
        """Detail and remediation as a finding with these params has them."""
        return fill_template(self.detail, params), fill_template(self.remediation, params)
