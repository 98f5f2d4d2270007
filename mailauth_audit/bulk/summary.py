"""The run summary, built from counters so memory does not grow with the number of domains.

Each domain's JSON record is boiled down to a small `Digest` (statuses, DMARC policy, SPF
lookup count, DKIM key sizes, finding counts, score). Worker processes compute the digest
next to the JSON they already have, and --resume recomputes it from the lines already in
results.jsonl, so a resumed run's summary is the same as an uninterrupted one's.

No grade without evidence: a domain with a check in error counts in its own "not_graded"
grade bucket, never as the grade its completed checks would give (also when --resume reads
lines written before that rule, which carried such a grade).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model import CheckId, DomainReport
from ..report.line5 import finding_heads
from ..verdicts.score import DomainScore

__all__ = [
    "NOT_GRADED",
    "WORST_KEPT",
    "BulkSummary",
    "Digest",
    "digest",
    "digest_report",
]

WORST_KEPT = 100  # how many of the worst domains the summary lists
SEVERITIES = ("critical", "high", "medium", "low", "info")
NO_RECORD = "no_record"
NOT_GRADED = "not_graded"  # the grade bucket of domains with a check in error
INVALID = "invalid"  # the grade bucket of invalid domain names
# read once here: an enum class's attribute goes through EnumType.__getattr__'s slow path
_DMARC, _SPF, _DKIM = CheckId.DMARC, CheckId.SPF, CheckId.DKIM


@dataclass(frozen=True, slots=True)
class Digest:
    """What the summary needs from one domain's record."""

    domain: str
    status: str  # "completed" or "invalid"
    checks: tuple[tuple[str, str], ...]  # (check, status)
    errors: tuple[tuple[str, str], ...]  # (check, error reason) for checks in error
    dmarc_policy: str | None  # effective policy, NO_RECORD, or None when DMARC did not run/err
    spf_lookups: int | None  # when the SPF check completed with a record
    dkim_keys: tuple[str, ...]  # "rsa1024", "ed25519", "revoked", ... one per key found
    findings: tuple[int, ...]  # counts by severity, in SEVERITIES order
    codes: tuple[str, ...]  # finding codes (each once per domain)
    score: int | None  # None unless graded
    grade: str | None  # None unless graded
    dns_queries: int
    provisional_score: int | None = None  # not graded: the score of what did complete

    @property
    def grade_bucket(self) -> str:
        """Where the summary counts it: A-F, NOT_GRADED (a check in error) or INVALID."""
        if self.status != "completed" or (self.grade is None and not self.errors):
            return INVALID
        return NOT_GRADED if self.errors else str(self.grade)


def _key_label(status: str | None, revoked: Any, key_type: Any, key_bits: Any) -> str | None:
    """How the summary counts one selector: None unless it holds a key record."""
    if status != "key":
        return None
    if revoked:
        return "revoked"
    if key_type == "ed25519":
        return "ed25519"  # one size: 256 bits (RFC 8463)
    if key_bits:
        return f"{key_type or 'rsa'}{key_bits}"
    return "unusable"


def _dkim_keys(result: dict[str, Any] | None) -> tuple[str, ...]:
    labels = (
        _key_label(sel.get("status"), sel.get("revoked"), sel.get("key_type"), sel.get("key_bits"))
        for sel in (result or {}).get("selectors") or ()
    )
    return tuple(label for label in labels if label is not None)


def digest(doc: dict[str, Any]) -> Digest:
    """Boil a results line (either format, see bulk/jsonl.py) down to what the summary counts.

    Read field by field, tolerant of missing and unknown keys (lines older versions wrote),
    rather than through `codec.from_json`: --resume reads every line of a run, and decoding a
    line to its typed report costs ~20x more. The tests hold this to `digest_report` of the
    decoded report on every fixture case, in both line formats."""
    checks = doc.get("checks") or {}
    statuses = tuple((cid, o.get("status", "")) for cid, o in checks.items())
    errors = tuple(
        (cid, (o.get("error") or {}).get("reason", "unknown"))
        for cid, o in checks.items()
        if o.get("status") == "error"
    )
    dmarc = checks.get("dmarc") or {}
    policy: str | None = None
    if dmarc.get("status") not in (None, "error", "skipped"):
        policy = (dmarc.get("result") or {}).get("effective_policy") or NO_RECORD
    spf = checks.get("spf") or {}
    lookups: int | None = None
    spf_result = spf.get("result") or {}
    if spf.get("status") not in (None, "error", "skipped") and spf_result.get("record"):
        lookups = int(spf_result.get("dns_lookups") or 0)
    dkim = checks.get("dkim") or {}
    keys: tuple[str, ...] = ()
    if dkim.get("status") not in (None, "error", "skipped"):
        keys = _dkim_keys(dkim.get("result"))
    counts = dict.fromkeys(SEVERITIES, 0)
    codes: dict[str, None] = {}
    for f in _findings(doc, checks):
        sev = f.get("severity")
        if sev in counts:
            counts[sev] += 1
        codes[str(f.get("code"))] = None
    score = doc.get("score") or {}
    graded = not errors  # lines written before schema 1.2 carried a grade despite errors
    provisional = score.get("provisional_score", score.get("score")) if errors else None
    return Digest(
        domain=str(doc.get("domain")),
        status=str(doc.get("status")),
        checks=statuses,
        errors=errors,
        dmarc_policy=policy,
        spf_lookups=lookups,
        dkim_keys=keys,
        findings=tuple(counts[s] for s in SEVERITIES),
        codes=tuple(codes),
        score=score.get("score") if graded else None,
        grade=score.get("grade") if graded else None,
        dns_queries=int(doc.get("dns_queries") or 0),
        provisional_score=provisional,
    )


def _findings(doc: dict[str, Any], checks: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain's findings, most severe first: listed in a format-1 line, else gathered
    from its checks in the order `model.sort_findings` gives."""
    if "findings" in doc:
        return list(doc["findings"] or ())
    # a format-3 finding names its check only through the outcome it is listed under
    every = [(cid, f) for cid, o in checks.items() for f in finding_heads(o.get("findings"))]
    rank = {sev: -i for i, sev in enumerate(SEVERITIES)}
    every.sort(
        key=lambda c: (
            -rank.get(str(c[1].get("severity")), 0),
            c[1].get("check", c[0]),
            c[1].get("code"),
        )
    )
    return [f for _, f in every]


def digest_report(report: DomainReport, score: DomainScore | None = None) -> Digest:
    """`digest(json.loads(domain_json_line(report)))`, read off the typed report instead.

    Why a second reading: a worker would otherwise decode every line it has just encoded
    (the whole report) only to count a few fields. The tests hold the two to the same result
    on every fixture domain, including invalid names and checks in error. `score` is the
    report's verdict (what `report.verdict` gives): its counts by severity are the digest's.
    """
    if score is None:
        score = report.verdict
    checks = report.checks
    statuses: list[tuple[str, str]] = []
    errors: list[tuple[str, str]] = []
    for cid, outcome in checks.items():  # _value_: the enums' values, read directly
        status = outcome.status._value_
        statuses.append((cid._value_, status))
        if status == "error":
            errors.append(
                (cid._value_, outcome.error.reason._value_ if outcome.error else "unknown")
            )
    policy: str | None = None
    lookups: int | None = None
    keys: tuple[str, ...] = ()
    dmarc = checks.get(_DMARC)
    if dmarc is not None and dmarc.status._value_ not in ("error", "skipped"):
        effective = getattr(dmarc.result, "effective_policy", None)
        policy = _text(effective) or NO_RECORD
    spf = checks.get(_SPF)
    spf_ran = spf is not None and spf.status._value_ not in ("error", "skipped")
    spf_result = spf.result if spf_ran and spf is not None else None
    if spf_result is not None and getattr(spf_result, "record", None):
        lookups = int(spf_result.dns_lookups or 0)
    dkim = checks.get(_DKIM)
    # a skipped check's result is not in a line (format 4): not counted from either side
    if dkim is not None and dkim.status._value_ not in ("error", "skipped") and dkim.result:
        keys = _dkim_keys_typed(dkim.result.selectors or ())
    return Digest(
        domain=report.domain,
        status=report.status._value_,
        checks=tuple(statuses),
        errors=tuple(errors),
        dmarc_policy=policy,
        spf_lookups=lookups,
        dkim_keys=keys,
        # the verdict has counted the findings by severity already (SEVERITIES order)
        findings=(score.critical, score.high, score.medium, score.low, score.info),
        codes=tuple(dict.fromkeys([f.code for f in report.findings])),
        score=score.score,
        grade=score.grade,
        dns_queries=report.dns_queries,
        provisional_score=score.provisional_score,
    )


def _text(value: Any) -> str | None:
    """An enum's JSON value, a string as it is; "" and None read as no value."""
    if value is None:
        return None
    return str(getattr(value, "_value_", value)) or None  # an enum's, without its property


def _dkim_keys_typed(selectors: Any) -> tuple[str, ...]:
    labels = (
        _key_label(_text(sel.status), sel.revoked, sel.key_type, sel.key_bits) for sel in selectors
    )
    return tuple(label for label in labels if label is not None)


def _badness(d: Digest) -> tuple[int, ...]:
    """Bigger is worse: severity counts first (a critical outweighs any number of highs)."""
    score = next((x for x in (d.score, d.provisional_score) if x is not None), 100)
    return (*d.findings[:4], 100 - score)


@dataclass
class BulkSummary:
    """Counters over every domain reported; `add` is O(1) in time and memory (bar the bounded
    worst-domains heap and the per-code counts, bounded by the findings catalogue)."""

    domains: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    checks: dict[str, Counter[str]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    dmarc_policy: Counter[str] = field(default_factory=Counter)
    spf_lookups: Counter[int] = field(default_factory=Counter)
    dkim_keys: Counter[str] = field(default_factory=Counter)
    domains_without_dkim_key: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)  # by Digest.grade_bucket
    domains_with_errors: int = 0  # = grades[NOT_GRADED]
    dns_queries: int = 0
    _worst: list[tuple[tuple[int, ...], str, Digest]] = field(default_factory=list)

    def add(self, d: Digest) -> None:
        self.domains += 1
        self.by_status[d.status] += 1
        self.dns_queries += d.dns_queries
        for cid, status in d.checks:
            self.checks.setdefault(cid, Counter())[status] += 1
        for cid, reason in d.errors:
            self.errors.setdefault(cid, Counter())[reason] += 1
        if d.errors:
            self.domains_with_errors += 1
        if d.dmarc_policy is not None:
            self.dmarc_policy[d.dmarc_policy] += 1
        if d.spf_lookups is not None:
            self.spf_lookups[d.spf_lookups] += 1
        self.dkim_keys.update(d.dkim_keys)
        if (
            d.status == "completed"
            and not d.dkim_keys
            and not any(cid == "dkim" for cid, _ in d.errors)
        ):
            self.domains_without_dkim_key += 1
        for sev, n in zip(SEVERITIES, d.findings, strict=True):
            self.findings[sev] += n
        self.codes.update(d.codes)
        self.grades[d.grade_bucket] += 1
        if d.status != "completed":
            return
        # a min-heap of the WORST_KEPT worst; the name breaks ties (reverse order so that
        # among equals the alphabetically first stays)
        item = (_badness(d), _Reverse(d.domain), d)
        if len(self._worst) < WORST_KEPT:
            heapq.heappush(self._worst, item)  # type: ignore[misc]
        elif item[:2] > self._worst[0][:2]:  # type: ignore[operator]
            heapq.heapreplace(self._worst, item)  # type: ignore[misc]

    def findings_at_or_above(self, severity: str) -> int:
        """Findings of `severity` or worse over every domain counted (--resume included):
        bulk --fail-on exits 1 when this is not 0."""
        ranked = SEVERITIES[: SEVERITIES.index(severity) + 1]
        return sum(self.findings[s] for s in ranked)

    def worst(self) -> list[Digest]:
        ordered = sorted(self._worst, key=lambda t: t[:2], reverse=True)
        return [d for _, _, d in ordered if any(d.findings[:4])]

    def to_json(self) -> dict[str, Any]:
        return {
            "domains": self.domains,
            "by_status": dict(sorted(self.by_status.items())),
            "domains_with_errors": self.domains_with_errors,
            "checks": {c: dict(sorted(v.items())) for c, v in sorted(self.checks.items())},
            "errors": {c: dict(sorted(v.items())) for c, v in sorted(self.errors.items())},
            "dmarc_policy": dict(self.dmarc_policy.most_common()),
            "spf_lookups": {str(k): v for k, v in sorted(self.spf_lookups.items())},
            "spf_over_limit": sum(v for k, v in self.spf_lookups.items() if k > 10),
            "dkim_keys": dict(self.dkim_keys.most_common()),
            "domains_without_dkim_key": self.domains_without_dkim_key,
            "grades": {g: self.grades[g] for g in sorted(self.grades)},
            "domains_not_graded": self.grades[NOT_GRADED],
            "findings_by_severity": {s: self.findings[s] for s in SEVERITIES},
            "findings_by_code": dict(sorted(self.codes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "dns_queries": self.dns_queries,
            "worst_domains": [
                {
                    "domain": d.domain,
                    "grade": d.grade,
                    "score": d.score,
                    "grade_status": "graded" if d.grade is not None else NOT_GRADED,
                    "provisional_score": d.provisional_score,
                    **dict(zip(SEVERITIES, d.findings, strict=True)),
                    "checks": dict(d.checks),
                    "codes": list(d.codes),
                }
                for d in self.worst()
            ],
        }


class _Reverse:
    """Orders strings backwards, so the heap keeps the alphabetically first of equal domains."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Reverse) -> bool:
        return self.text > other.text

    def __gt__(self, other: _Reverse) -> bool:
        return self.text < other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)
