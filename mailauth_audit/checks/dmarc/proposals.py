"""The corrected DMARC records a finding proposes, built from one DmarcResult's record as
receivers read it (RFC 9989): the shared ground of the finding modules (evaluate.py for the
policy and the record, report_findings.py for the report destinations)."""

from __future__ import annotations

from ...changes import RecordChange
from ...records.dmarc import DmarcRecord, DmarcSyntaxIssue
from ...records.errors import RecordSyntaxError
from ...records.orgdomain import dmarc_name
from .parsing import parse_cached
from .remediation import (
    REPORT_MAILBOX,
    edited,
    proposable,
    propose_record,
    replace_change,
    zone_txt_line,
)
from .result import DmarcResult

__all__ = ["MAX_FINDINGS_PER_KIND", "DmarcProposals"]

MAX_FINDINGS_PER_KIND = 10  # a hostile record with 500 bad tags gets 10 findings, not 500


class DmarcProposals:
    """One DmarcResult with its record parsed once, and the corrected records its findings
    propose: shared by the Judge (evaluate.py) and the reporting findings (report_findings.py)."""

    def __init__(self, facts: DmarcResult) -> None:
        self.facts = facts
        self.domain = facts.domain
        self.own_name = dmarc_name(facts.domain)
        self.record: DmarcRecord | None = None
        self.issues: tuple[DmarcSyntaxIssue, ...] = ()
        if facts.record is not None:
            try:
                self.record, self.issues = parse_cached(facts.record)
            except RecordSyntaxError:  # saved facts from an older parser: judge what we can
                self.record = None
        self.record_name = facts.record_domain or self.own_name
        self.policy_domain = facts.policy_domain or facts.domain
        self._proposals: dict[tuple[tuple[str, str | None], ...], str] = {}
        self._discarded: dict[str, str | None] | None = None

    def proposal(self, overrides: dict[str, str | None] | None = None) -> str:
        """The record with only `overrides` changed; rebuilt from what receivers accept when
        the record as written is ignored by receivers (then nothing in it is worth keeping)."""
        # a finding asks for its zone line and its change with the same overrides: edited once
        key = tuple(overrides.items()) if overrides else ()
        made = self._proposals.get(key)
        if made is None:
            if self.facts.record is not None and self.record is not None:
                if self._discarded is None:
                    self._discarded = self.discarded()
                made = edited(self.facts.record, {**self._discarded, **(overrides or {})})
            else:
                made = propose_record(self.record, overrides)
            self._proposals[key] = made
        return made

    def discarded(self) -> dict[str, str | None]:
        """Edits dropping what receivers discard anyway (an invalid value, a report URI
        other than mailto:), so no proposal carries a stranger's URI or a syntax error."""
        record = self.record
        assert record is not None
        # a record without p= is applied as p=none at best: say so explicitly
        edits: dict[str, str | None] = {} if record.policy else {"p": "none"}
        for issue in self.issues:
            if issue.tag == "p":
                edits["p"] = "none"  # what receivers apply (RFC 9989 §4.10.1)
            elif issue.tag is not None and issue.tag not in ("rua", "ruf"):
                edits[issue.tag] = None
        for tag in ("rua", "ruf"):
            uris = [u for u in record.report_uris if u.tag == tag]
            kept = [u.uri for u in uris if proposable(u)]
            if len(kept) != len(uris) or any(i.tag == tag for i in self.issues):
                edits[tag] = ",".join(kept) or None
        return edits

    def line(self, overrides: dict[str, str | None] | None = None) -> str:
        return zone_txt_line(self.record_name, self.proposal(overrides))

    def change(self, overrides: dict[str, str | None] | None = None) -> tuple[RecordChange, ...]:
        if self.facts.record is None:
            return ()
        return replace_change(
            self.record_name, self.facts.record, self.proposal(overrides), self.facts.record_ttl
        )

    def ttl_at(self, name: str) -> int | None:
        """The TTL the record at `name` was answered with, when it was asked."""
        return next((lk.ttl for lk in self.facts.lookups if lk.name == name), None)

    def starter_domains(self) -> list[str]:
        """For a subdomain, also the registered domain: RFC 9989 §5.1.4 asks for a record at
        the Organizational Domain too, and RFC 7489 receivers look there (by the PSL)."""
        domains = [self.domain]
        registered = self.facts.psl_organizational_domain
        if registered != self.domain and registered.count("."):
            domains.append(registered)
        return domains

    @staticmethod
    def starter_record() -> str:
        return f"v=DMARC1; p=none; rua=mailto:{REPORT_MAILBOX}"

    def starter_lines(self) -> str:
        return "\n".join(
            zone_txt_line(dmarc_name(d), self.starter_record()) for d in self.starter_domains()
        )

    def rua_or_default(self) -> str:
        return self.uris_or_default("rua")

    def uris_or_default(self, tag: str) -> str:
        """The record's mailto: URIs of `tag` (what a proposal may carry), or a mailbox at
        the policy domain when it has none."""
        record = self.record
        uris = (
            [u.uri for u in record.report_uris if u.tag == tag and proposable(u)] if record else []
        )
        return ",".join(uris) or f"mailto:{REPORT_MAILBOX}"

    def uris_without_size(self, tag: str) -> str | None:
        """The tag's URIs with the `!size` suffix RFC 9989 removed taken off."""
        assert self.record is not None
        uris = [u.uri for u in self.record.report_uris if u.tag == tag]
        return ",".join(uris) or None
