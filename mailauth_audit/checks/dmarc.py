"""DMARC check: which policy receivers apply to mail from the domain (RFC 9989, which
obsoletes RFC 7489; external report destinations per RFC 9990 and RFC 7489 §7.1).

`collect` does what an RFC 9989 receiver does: it queries `_dmarc.<domain>` and walks up the
tree (§4.10, at most eight queries) to find the Organizational Domain and, when the domain has
no record of its own, the record it inherits. Every `_dmarc` answer is memoised per run, so
`_dmarc.com` or a shared parent is asked once for thousands of domains. One extra query (SOA)
is made only when the policy is inherited and the domain's existence is not yet known, to
choose between `sp` and `np`. For each report address outside the policy's Organizational
Domain it asks for the authorisation record `<policy-domain>._report._dmarc.<host>` (also
memoised: a report provider serves thousands of domains).

`evaluate` is pure and re-parses the record text it was given, so saved facts can be re-judged.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..findings import dmarc as F
from ..model import CheckId, Finding, Severity
from ..records.dmarc import (
    DMARC_REMOVED_TAGS,
    DmarcPolicy,
    DmarcRecord,
    DmarcSyntaxIssue,
    looks_like_dmarc,
    parse_dmarc_lenient,
)
from ..records.errors import RecordSyntaxError
from ..records.orgdomain import (
    dmarc_name,
    psl_organizational_domain,
    select_organizational_domain,
    tree_walk_names,
)
from ..resolver.base import RRType
from .base import Check, CheckContext, EvaluationContext

# One parse per distinct record text: a domain's record used to be parsed up to five times
# (validity, PSD flag, issues, policy, evaluate), and a bulk run meets the same provider
# records over and over. Safe to share: the parser is pure and its result immutable (frozen
# dataclasses and tuples); a RecordSyntaxError is not cached, it is raised again.
_parse_lenient = functools.lru_cache(maxsize=2048)(parse_dmarc_lenient)

__all__ = [
    "DmarcCheck",
    "DmarcLookup",
    "DmarcRecordIssue",
    "DmarcReportDestination",
    "DmarcResult",
    "effective_policy",
]

ZONE_TTL = 3600
MAX_FINDINGS_PER_KIND = 10  # a hostile record with 500 bad tags gets 10 findings, not 500


@dataclass(frozen=True)
class DmarcLookup:
    """One `_dmarc` name asked during discovery, and what it held."""

    name: str  # "_dmarc.example.com"
    nxdomain: bool
    records: tuple[str, ...]  # TXT strings that look like DMARC records, valid or not
    valid_count: int  # how many start with a correct v=DMARC1 (receivers discard all if > 1)
    record: str | None  # set when exactly one valid record: the one receivers use here
    psd: str | None  # set when `record` is: its psd tag ("y", "n", "u"), None when absent


@dataclass(frozen=True)
class DmarcRecordIssue:
    """A syntax problem in a record that matters for this domain."""

    record_name: str  # "_dmarc.example.com"
    record: str
    message: str
    position: int  # 0-based character offset into `record`
    tag: str | None  # the tag whose value receivers discard; None for list-level problems
    fatal: bool  # the record does not start with v=DMARC1, so receivers ignore all of it


@dataclass(frozen=True)
class DmarcReportDestination:
    tag: str  # "rua" or "ruf"
    uri: str
    address: str | None  # set for mailto: URIs
    domain: str | None  # the mailbox's domain or the URI's host; None when it has none
    organizational_domain: str | None  # PSL Organizational Domain of `domain`
    external: bool  # outside the Organizational Domain of the policy domain
    authorization_name: str | None  # set when external: the name asked for authorisation
    authorization_records: tuple[str, ...]  # set when external: TXT found there
    authorized: bool | None  # set when external: a v=DMARC1 record authorises the reports


@dataclass(frozen=True)
class DmarcResult:
    """What receivers find for the domain and which policy they apply."""

    domain: str
    record: str | None  # the record receivers apply (own or inherited); None when none applies
    record_domain: str | None  # set with `record`: where it was found, "_dmarc.example.com"
    policy_domain: str | None  # set with `record`: the domain that publishes it
    inherited: bool  # the record is a parent's (organizational or public suffix domain)
    records_found: tuple[str, ...]  # DMARC-like TXT strings at _dmarc.<domain> itself
    organizational_domain: str  # by the RFC 9989 DNS tree walk (§4.10.2)
    psl_organizational_domain: str  # by the Public Suffix List (RFC 7489 §3.2)
    policy: str | None  # p of `record`, when valid
    subdomain_policy: str | None  # sp of `record`, when present and valid
    nonexistent_subdomain_policy: str | None  # np of `record`, when present and valid
    effective_policy: str | None  # what receivers apply to this domain; None: no DMARC at all
    effective_policy_source: str | None  # "p", "sp", "np", or "default" (RFC 9989 §4.10.1)
    domain_exists: bool | None  # set when inherited: False means NXDOMAIN, so np applies
    adkim: str  # "r" or "s", default applied
    aspf: str  # "r" or "s", default applied
    testing: bool  # t=y
    psd: str | None  # psd tag of `record`, when present
    percentage: int | None  # pct of `record`, when present (removed in RFC 9989)
    removed_tags: tuple[str, ...]  # of pct/rf/ri, those in `record`
    unknown_tags: tuple[str, ...]  # tag names of `record` that DMARC does not define
    syntax_error: str | None  # the first of `syntax_issues`, for a quick look
    syntax_error_position: int | None  # set with syntax_error
    syntax_issues: tuple[DmarcRecordIssue, ...]
    report_destinations: tuple[DmarcReportDestination, ...]  # valid rua then ruf URIs
    discovery_path: tuple[str, ...]  # `_dmarc` names queried, in order
    lookups: tuple[DmarcLookup, ...]  # what each of those names held


def effective_policy(
    record: DmarcRecord,
    issues: tuple[DmarcSyntaxIssue, ...] | list[DmarcSyntaxIssue],
    *,
    inherited: bool,
    domain_exists: bool | None,
) -> tuple[DmarcPolicy | None, str | None]:
    """The policy receivers apply and the tag it comes from (RFC 9989 §4.10.1).

    A record without a valid p, or with an invalid sp or np, counts as p=none when it has a
    usable rua URI, and as no DMARC at all otherwise ("default"/None). At the domain itself p
    applies; inherited, sp applies to existing subdomains and np to non-existent ones, each
    falling back to sp and then p."""
    invalid = {
        i.tag for i in issues if i.tag in ("p", "sp", "np")
    }
    broken = (
        record.policy is None
        or ("sp" in invalid and record.subdomain_policy is None)
        or ("np" in invalid and record.nonexistent_subdomain_policy is None)
    )
    if broken:
        return (DmarcPolicy.NONE, "default") if record.rua else (None, None)
    if not inherited:
        return record.policy, "p"
    if domain_exists is False and record.nonexistent_subdomain_policy is not None:
        return record.nonexistent_subdomain_policy, "np"
    if record.subdomain_policy is not None:
        return record.subdomain_policy, "sp"
    return record.policy, "p"


def _valid_records(texts: tuple[str, ...]) -> list[str]:
    valid = []
    for text in texts:
        try:
            _parse_lenient(text)
        except RecordSyntaxError:
            continue
        valid.append(text)
    return valid


class DmarcCheck(Check[DmarcResult]):
    """DMARC policy discovery and record audit per RFC 9989 (and RFC 7489 for older
    receivers): tree walk, effective policy, record syntax, report destinations."""

    id = CheckId.DMARC
    result_type = DmarcResult
    standard = "RFC 9989 (RFC 7489)"

    async def _lookup(self, ctx: CheckContext, name: str) -> DmarcLookup:
        async def ask() -> DmarcLookup:
            answer = await ctx.resolver.resolve(name, RRType.TXT)
            texts = tuple(t.text for t in answer.txt() if looks_like_dmarc(t.text))
            valid = _valid_records(texts)
            record = valid[0] if len(valid) == 1 else None
            psd = None
            if record is not None:
                parsed, _ = _parse_lenient(record)
                psd = parsed.psd.value if parsed.psd is not None else None
            return DmarcLookup(name, answer.nxdomain, texts, len(valid), record, psd)

        return await ctx.memo.get_or_compute("dmarc.policy", name, ask)

    async def _authorization(self, ctx: CheckContext, name: str) -> tuple[str, ...]:
        async def ask() -> tuple[str, ...]:
            answer = await ctx.resolver.resolve(name, RRType.TXT)
            return tuple(t.text for t in answer.txt())

        return await ctx.memo.get_or_compute("dmarc.report_authorization", name, ask)

    async def collect(self, ctx: CheckContext) -> DmarcResult:
        domain = ctx.domain
        lookups: list[DmarcLookup] = []
        found: dict[str, DmarcLookup] = {}
        for name in tree_walk_names(domain):
            lookup = await self._lookup(ctx, dmarc_name(name))
            lookups.append(lookup)
            if lookup.record is not None:
                found[name] = lookup
                if lookup.psd in ("y", "n"):
                    break  # RFC 9989 §4.10 steps 2 and 6
        organizational = select_organizational_domain(
            domain, [(name, lk.psd) for name, lk in found.items()]
        )
        own = lookups[0]
        policy_domain: str | None = None
        if domain in found:
            policy_domain = domain
        elif organizational in found:
            policy_domain = organizational
        else:  # the Public Suffix Domain's record, when the walk met one
            policy_domain = next((n for n, lk in found.items() if lk.psd == "y"), None)

        issues: list[DmarcRecordIssue] = []
        for text in own.records:
            try:
                _parse_lenient(text)
            except RecordSyntaxError as exc:
                issues.append(
                    DmarcRecordIssue(own.name, text, exc.message, exc.position, "v", True)
                )
        if policy_domain is None:
            return self._result(ctx, domain, own, lookups, organizational, issues)

        record_text = found[policy_domain].record
        assert record_text is not None  # found only holds lookups with a record
        record, record_issues = _parse_lenient(record_text)
        record_name = dmarc_name(policy_domain)
        issues.extend(
            DmarcRecordIssue(record_name, record_text, i.message, i.position, i.tag, False)
            for i in record_issues
        )
        inherited = policy_domain != domain
        exists: bool | None = None
        if inherited:
            exists = True
            if own.nxdomain:  # _dmarc.<domain> absent: is <domain> itself? (RFC 8020)
                soa = await ctx.resolver.resolve(domain, RRType.SOA)
                exists = not soa.nxdomain
        policy, source = effective_policy(
            record, record_issues, inherited=inherited, domain_exists=exists
        )
        destinations = [
            await self._destination(ctx, policy_domain, uri.tag, uri.uri, uri.address, uri.domain)
            for uri in record.report_uris
        ]
        return DmarcResult(
            domain=domain,
            record=record_text,
            record_domain=record_name,
            policy_domain=policy_domain,
            inherited=inherited,
            records_found=own.records,
            organizational_domain=organizational,
            psl_organizational_domain=psl_organizational_domain(domain),
            policy=_value(record.policy),
            subdomain_policy=_value(record.subdomain_policy),
            nonexistent_subdomain_policy=_value(record.nonexistent_subdomain_policy),
            effective_policy=_value(policy),
            effective_policy_source=source,
            domain_exists=exists,
            adkim=record.adkim_or_default.value,
            aspf=record.aspf_or_default.value,
            testing=bool(record.testing),
            psd=_value(record.psd),
            percentage=record.percentage,
            removed_tags=record.removed_tags,
            unknown_tags=tuple(t.name for t in record.unknown_tags),
            syntax_error=issues[0].message if issues else None,
            syntax_error_position=issues[0].position if issues else None,
            syntax_issues=tuple(issues),
            report_destinations=tuple(destinations),
            discovery_path=tuple(lk.name for lk in lookups),
            lookups=tuple(lookups),
        )

    def _result(
        self,
        ctx: CheckContext,
        domain: str,
        own: DmarcLookup,
        lookups: list[DmarcLookup],
        organizational: str,
        issues: list[DmarcRecordIssue],
    ) -> DmarcResult:
        """The facts when no record applies at all."""
        return DmarcResult(
            domain=domain,
            record=None,
            record_domain=None,
            policy_domain=None,
            inherited=False,
            records_found=own.records,
            organizational_domain=organizational,
            psl_organizational_domain=psl_organizational_domain(domain),
            policy=None,
            subdomain_policy=None,
            nonexistent_subdomain_policy=None,
            effective_policy=None,
            effective_policy_source=None,
            domain_exists=None,
            adkim="r",
            aspf="r",
            testing=False,
            psd=None,
            percentage=None,
            removed_tags=(),
            unknown_tags=(),
            syntax_error=issues[0].message if issues else None,
            syntax_error_position=issues[0].position if issues else None,
            syntax_issues=tuple(issues),
            report_destinations=(),
            discovery_path=tuple(lk.name for lk in lookups),
            lookups=tuple(lookups),
        )

    async def _destination(
        self,
        ctx: CheckContext,
        policy_domain: str,
        tag: str,
        uri: str,
        address: str | None,
        domain: str | None,
    ) -> DmarcReportDestination:
        """RFC 7489 §7.1 / RFC 9990: a destination outside the policy's Organizational
        Domain must publish `<policy-domain>._report._dmarc.<host>` starting v=DMARC1.
        Organizational Domains are compared by the PSL: no extra queries, and what RFC 7489
        receivers (the ones that verify today) do."""
        if domain is None:
            return DmarcReportDestination(tag, uri, address, None, None, False, None, (), None)
        dest_org = psl_organizational_domain(domain)
        if dest_org == psl_organizational_domain(policy_domain):
            return DmarcReportDestination(tag, uri, address, domain, dest_org, False, None, (),
                                          None)
        name = f"{policy_domain}._report._dmarc.{domain}"
        if len(name) > 253:  # cannot exist in DNS, so cannot authorise anything
            return DmarcReportDestination(tag, uri, address, domain, dest_org, True, name, (),
                                          False)
        texts = await self._authorization(ctx, name)
        authorized = bool(_valid_records(tuple(t for t in texts if looks_like_dmarc(t))))
        return DmarcReportDestination(
            tag, uri, address, domain, dest_org, True, name, texts, authorized
        )

    def evaluate(self, facts: DmarcResult, ctx: EvaluationContext) -> list[Finding]:
        return _Judge(facts).findings()


def _value(member: object) -> str | None:
    return None if member is None else str(getattr(member, "value", member))


# --- evaluation -------------------------------------------------------------------------------


def zone_txt_line(name: str, text: str, ttl: int = ZONE_TTL) -> str:
    """A zone-file line a person can paste: quotes and backslashes escaped, strings split at
    255 characters (RFC 1035 §3.3.14: one character-string holds at most 255)."""
    escaped = [
        '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for chunk in (text[i : i + 255] for i in range(0, max(len(text), 1), 255))
    ]
    return f"{name}. {ttl} IN TXT {' '.join(escaped)}"


_PROPOSAL_ORDER = ("p", "sp", "np", "adkim", "aspf", "t", "psd", "rua", "ruf", "fo")


def propose_record(
    record: DmarcRecord | None, overrides: dict[str, str | None] | None = None
) -> str:
    """A clean record built from what receivers accepted in `record`, with `overrides`
    applied (a value of None removes the tag). Invalid values, unknown tags and the tags
    RFC 9989 removed are left out, so the proposal parses without issues."""
    values: dict[str, str | None] = {}
    if record is not None:
        values = {
            "p": _value(record.policy),
            "sp": _value(record.subdomain_policy),
            "np": _value(record.nonexistent_subdomain_policy),
            "adkim": _value(record.adkim),
            "aspf": _value(record.aspf),
            "t": "y" if record.testing else None,
            "psd": _value(record.psd),
            "rua": ",".join(u.uri for u in record.rua) or None,
            "ruf": ",".join(u.uri for u in record.ruf) or None,
            "fo": ":".join(record.failure_options) or None,
        }
    values.update(overrides or {})
    if not values.get("p"):
        values["p"] = "none"
    if not values.get("ruf"):
        values["fo"] = None  # fo without ruf means nothing (RFC 9989 §4.7)
    parts = ["v=DMARC1"] + [f"{tag}={values[tag]}" for tag in _PROPOSAL_ORDER if values.get(tag)]
    return "; ".join(parts)


_WEAKER = {"reject": "quarantine", "quarantine": "none", "none": "none"}


class _Judge:
    """Turns one DmarcResult into findings; a class only to share the parsed record."""

    def __init__(self, facts: DmarcResult) -> None:
        self.facts = facts
        self.domain = facts.domain
        self.own_name = dmarc_name(facts.domain)
        self.record: DmarcRecord | None = None
        self.issues: tuple[DmarcSyntaxIssue, ...] = ()
        if facts.record is not None:
            try:
                self.record, self.issues = _parse_lenient(facts.record)
            except RecordSyntaxError:  # saved facts from an older parser: judge what we can
                self.record = None
        self.record_name = facts.record_domain or self.own_name
        self.policy_domain = facts.policy_domain or facts.domain
        self.out: list[Finding] = []

    def line(self, overrides: dict[str, str | None] | None = None, name: str | None = None) -> str:
        return zone_txt_line(name or self.record_name, propose_record(self.record, overrides))

    def starter_line(self, domain: str) -> str:
        text = f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"
        return zone_txt_line(dmarc_name(domain), text)

    def starter_lines(self) -> str:
        """For a subdomain, also the registered domain: RFC 9989 §5.1.4 asks for a record at
        the Organizational Domain too, and RFC 7489 receivers look there (by the PSL)."""
        lines = [self.starter_line(self.domain)]
        registered = self.facts.psl_organizational_domain
        if registered != self.domain and registered.count("."):
            lines.append(self.starter_line(registered))
        return "\n".join(lines)

    def findings(self) -> list[Finding]:
        self.own_name_problems()
        self.syntax()
        if self.facts.record is None or self.record is None:
            if not self.facts.records_found:
                self.out.append(
                    F.MISSING(
                        domain=self.domain,
                        record_name=self.own_name,
                        path=", ".join(self.facts.discovery_path),
                        zone_line=self.starter_lines(),
                    )
                )
            return self.out
        self.inheritance()
        self.policy()
        self.subdomain_policies()
        self.tags()
        self.reporting()
        self.organizational_domain()
        return self.out

    def own_name_problems(self) -> None:
        own = self.facts.lookups[0] if self.facts.lookups else None
        if own is not None and own.valid_count > 1:
            first = _repair(own.records[0]) if own.records else None
            self.out.append(
                F.MULTIPLE_RECORDS(
                    domain=self.domain,
                    record_name=own.name,
                    count=own.valid_count,
                    zone_line=zone_txt_line(own.name, propose_record(first)),
                    evidence=own.records,
                )
            )

    def syntax(self) -> None:
        uri_count = other_count = 0
        for issue in self.facts.syntax_issues:
            if issue.fatal:
                fix = propose_record(_repair(issue.record))
            else:
                fix = propose_record(self.record)
            zone_line = zone_txt_line(issue.record_name, fix)
            common = {
                "record_name": issue.record_name,
                "message": issue.message,
                "position": issue.position,
                "zone_line": zone_line,
                "evidence": (issue.record,),
            }
            if issue.tag in ("rua", "ruf") and not issue.fatal:
                uri_count += 1
                if uri_count <= MAX_FINDINGS_PER_KIND:
                    kind = "aggregate" if issue.tag == "rua" else "failure"
                    self.out.append(F.INVALID_REPORT_URI(kind=kind, **common))
                continue
            other_count += 1
            if other_count > MAX_FINDINGS_PER_KIND:
                continue
            severity, consequence = self.syntax_impact(issue)
            self.out.append(
                F.SYNTAX_ERROR(severity=severity, consequence=consequence, **common)
            )

    def syntax_impact(self, issue: DmarcRecordIssue) -> tuple[Severity, str]:
        if issue.fatal:
            return Severity.HIGH, "Receivers ignore this record entirely."
        record = self.record
        policy_fields = {
            "p": record.policy if record else None,
            "sp": record.subdomain_policy if record else None,
            "np": record.nonexistent_subdomain_policy if record else None,
        }
        if issue.tag in policy_fields and policy_fields[issue.tag] is None:
            if record is not None and record.rua:
                return Severity.HIGH, "Receivers treat the whole record as p=none."
            return Severity.HIGH, "Receivers apply no DMARC policy at all."
        if issue.tag in DMARC_REMOVED_TAGS:
            return Severity.LOW, "The tag is discarded (RFC 9989 removed it in any case)."
        if issue.tag is None:
            return Severity.LOW, "Receivers skip this part of the record."
        return Severity.MEDIUM, "Receivers ignore this tag and use its default."

    def inheritance(self) -> None:
        facts = self.facts
        if not facts.inherited:
            return
        tag = facts.effective_policy_source or "p"
        policy = facts.effective_policy or "none"
        self.out.append(
            F.INHERITED_POLICY(
                domain=self.domain,
                record_name=self.record_name,
                tag=tag,
                effective_policy=policy,
                zone_line=zone_txt_line(
                    self.own_name,
                    propose_record(self.record, {"p": policy, "sp": None, "np": None,
                                                 "psd": None}),
                ),
                evidence=(facts.record or "",),
            )
        )

    def policy(self) -> None:
        facts, record = self.facts, self.record
        assert record is not None
        evidence = (facts.record or "",)
        p_invalid = any(i.tag == "p" for i in self.issues) and record.policy is None
        if record.policy is None and not p_invalid:
            severity = Severity.HIGH if facts.effective_policy is None else Severity.MEDIUM
            consequence = (
                "Receivers treat it as p=none because it has an aggregate report address."
                if facts.effective_policy is not None
                else "With no valid rua= either, receivers apply no DMARC policy at all."
            )
            self.out.append(
                F.POLICY_MISSING(
                    severity=severity,
                    record_name=self.record_name,
                    consequence=consequence,
                    zone_line=self.line({"p": "none", "rua": self.rua_or_default()}),
                    evidence=evidence,
                )
            )
        source = facts.effective_policy_source
        if source not in ("p", "sp", "np"):
            return
        tag_text = f"{source}={facts.effective_policy} at {self.record_name}"
        if facts.effective_policy == "none":
            self.out.append(
                F.POLICY_NONE(
                    domain=self.domain,
                    source=tag_text,
                    zone_line=self.line({source: "quarantine"}),
                    evidence=evidence,
                )
            )
        elif facts.effective_policy == "quarantine":
            self.out.append(
                F.POLICY_QUARANTINE(
                    domain=self.domain,
                    source=tag_text,
                    zone_line=self.line({source: "reject"}),
                    evidence=evidence,
                )
            )

    def subdomain_policies(self) -> None:
        record = self.record
        assert record is not None
        evidence = (self.facts.record or "",)
        p, sp, np = record.policy, record.subdomain_policy, record.nonexistent_subdomain_policy
        if p is not None and sp is not None and sp.strength < p.strength:
            self.out.append(
                F.SUBDOMAIN_POLICY_WEAKER(
                    severity=Severity.MEDIUM if sp is DmarcPolicy.NONE else Severity.LOW,
                    record_name=self.record_name,
                    policy=p.value,
                    subdomain_policy=sp.value,
                    policy_domain=self.policy_domain,
                    zone_line=self.line({"sp": None}),
                    evidence=evidence,
                )
            )
        sub = sp or p
        if sub is None:
            return
        if np is not None and np.strength < sub.strength:
            self.out.append(
                F.NP_WEAKER(
                    record_name=self.record_name,
                    np=np.value,
                    subdomain_effective=sub.value,
                    zone_line=self.line({"np": "reject"}),
                    evidence=evidence,
                )
            )
        at_top = self.policy_domain == self.facts.organizational_domain or record.psd == "y"
        if np is None and sub is not DmarcPolicy.REJECT and at_top:
            self.out.append(
                F.NP_ABSENT(
                    record_name=self.record_name,
                    policy_domain=self.policy_domain,
                    subdomain_effective=f"{'sp' if sp else 'p'}={sub.value}",
                    zone_line=self.line({"np": "reject"}),
                    evidence=evidence,
                )
            )

    def tags(self) -> None:
        facts, record = self.facts, self.record
        assert record is not None
        evidence = (facts.record or "",)
        if record.testing and facts.effective_policy not in (None, "none"):
            policy = facts.effective_policy or "none"
            self.out.append(
                F.TESTING_MODE(
                    record_name=self.record_name,
                    policy=policy,
                    applied=_WEAKER[policy],
                    zone_line=self.line({"t": None}),
                    evidence=evidence,
                )
            )
        for name in record.removed_tags:
            tag = record.tag(name)
            self.out.append(
                F.REMOVED_TAG(
                    record_name=self.record_name,
                    tag=name,
                    value=tag.value if tag else "",
                    zone_line=self.line(),
                    evidence=evidence,
                )
            )
        pct = record.percentage
        if pct is not None and pct < 100 and facts.effective_policy not in (None, "none"):
            self.out.append(
                F.PCT_PARTIAL(
                    record_name=self.record_name,
                    pct=pct,
                    policy=facts.effective_policy,
                    zone_line=self.line(),
                    evidence=evidence,
                )
            )
        if "s" in (record.adkim, record.aspf):
            mechanisms = " and ".join(
                name
                for name, mode in (("DKIM", record.adkim), ("SPF", record.aspf))
                if mode == "s"
            )
            self.out.append(
                F.STRICT_ALIGNMENT(
                    record_name=self.record_name,
                    mechanisms=mechanisms,
                    policy_domain=self.policy_domain,
                    zone_line=self.line({"adkim": None, "aspf": None}),
                    evidence=evidence,
                )
            )
        for tag in record.unknown_tags[:MAX_FINDINGS_PER_KIND]:
            self.out.append(
                F.UNKNOWN_TAG(
                    record_name=self.record_name,
                    tag=repr(tag.name if len(tag.name) <= 40 else tag.name[:40] + "…"),
                    zone_line=self.line(),
                    evidence=evidence,
                )
            )

    def rua_or_default(self) -> str:
        record = self.record
        if record is not None and record.rua:
            return ",".join(u.uri for u in record.rua)
        return f"mailto:dmarc-reports@{self.policy_domain}"

    def reporting(self) -> None:
        facts, record = self.facts, self.record
        assert record is not None
        evidence = (facts.record or "",)
        if not record.rua:
            self.out.append(
                F.NO_RUA(
                    domain=self.domain,
                    record_name=self.record_name,
                    zone_line=self.line({"rua": self.rua_or_default()}),
                    evidence=evidence,
                )
            )
        for uri in record.report_uris:
            kind = "aggregate" if uri.tag == "rua" else "failure"
            if uri.scheme != "mailto":
                self.out.append(
                    F.REPORT_URI_NOT_MAILTO(
                        record_name=self.record_name,
                        kind=kind,
                        uri=uri.uri,
                        zone_line=self.line(
                            {uri.tag: f"mailto:dmarc-reports@{self.policy_domain}"}
                        ),
                        evidence=evidence,
                    )
                )
            if uri.max_size is not None:
                size = record.text[uri.position :].split(",", 1)[0].split(";", 1)[0]
                self.out.append(
                    F.OBSOLETE_REPORT_SIZE(
                        record_name=self.record_name,
                        uri=uri.uri,
                        size=size.partition("!")[2].strip(),
                        zone_line=self.line(),
                        evidence=evidence,
                    )
                )
        policy_org = psl_organizational_domain(self.policy_domain)
        for dest in facts.report_destinations:
            if dest.external and dest.authorized is False and dest.authorization_name:
                self.out.append(
                    F.REPORT_DESTINATION_UNAUTHORIZED(
                        record_name=self.record_name,
                        kind="aggregate" if dest.tag == "rua" else "failure",
                        address=dest.address or dest.uri,
                        policy_org_domain=policy_org,
                        authorization_name=dest.authorization_name,
                        destination_domain=dest.domain,
                        zone_line=zone_txt_line(dest.authorization_name, "v=DMARC1"),
                        evidence=(facts.record or "", *dest.authorization_records),
                    )
                )

    def organizational_domain(self) -> None:
        facts = self.facts
        if facts.organizational_domain == facts.psl_organizational_domain:
            return
        self.out.append(
            F.ORGANIZATIONAL_DOMAIN_DIFFERS(
                domain=self.domain,
                organizational_domain=facts.organizational_domain,
                psl_organizational_domain=facts.psl_organizational_domain,
                zone_line=zone_txt_line(
                    dmarc_name(facts.psl_organizational_domain),
                    propose_record(self.record, {"psd": None}),
                ),
                evidence=(facts.record or "",),
            )
        )


_VERSION_PREFIX = re.compile(r"\s*v\s*=\s*dmarc1\s*;?", re.IGNORECASE)


def _repair(text: str) -> DmarcRecord | None:
    """The record as its author probably meant it: `v=dmarc1 p=reject` → `v=DMARC1; p=reject`.
    Only to build a proposal; never used to decide what receivers do."""
    match = _VERSION_PREFIX.match(text)
    rest = text[match.end() :] if match else text
    try:
        record, _ = parse_dmarc_lenient("v=DMARC1; " + rest.lstrip(" \t;"))
    except RecordSyntaxError:
        return None
    return record
