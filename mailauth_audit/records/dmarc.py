"""DMARC policy records (RFC 9989 §4.7–4.8, which obsoletes RFC 7489 §6.3–6.4): text in, typed
record out. No I/O.

Two entry points share one scanner:

* `parse_dmarc_lenient(text)` reads a record the way RFC 9989 §4.8 tells receivers to: a bad
  value of a known tag is discarded (the default applies) and reported as a `DmarcSyntaxIssue`
  with its position, so an audit can say both *what receivers will do* and *what is wrong*.
  Only a record that does not start with `v=DMARC1` raises `RecordSyntaxError`: receivers
  ignore such a record entirely (RFC 9989 §4.7, tag `v`).
* `parse_dmarc(text)` is the strict form: the first issue, if any, is raised as
  `RecordSyntaxError(message, position)`.

What is an issue (strict: an error) and what is not:

* Issues: a version tag that is not first or not exactly `DMARC1`; a segment without `=`; a
  tag name that is not letters; an empty value; a character outside printable ASCII; a known
  tag with a value outside its grammar (`p=rejected`, `pct=150`, `fo=0:1`); a report URI
  that is not a URI, or a `mailto:` without a usable addr-spec; a tag name in the wrong case
  (`P=reject` is not `p`: tag names are case-sensitive, RFC 6376 §3.2), which would otherwise
  silently lose the policy.
* Fatal, like a wrong version: a tag that occurs twice (`v=DMARC1; p=reject; p=none`). DMARC
  records use DKIM's tag-list syntax (RFC 7489 §6.3), and RFC 6376 §3.2 makes a tag-list with a
  repeated tag name invalid as a whole; receivers that keep the first copy and receivers that
  keep the last disagree about the policy, so the record gives the domain no usable policy.
  `DmarcDuplicateTagError` (a `RecordSyntaxError`) names the tag and the second copy's place.
* Not issues, but recorded for findings: a missing `p` (RFC 9989 §4.7 makes it RECOMMENDED,
  and §4.10.1 says receivers then act as if `p=none` when `rua` has a valid URI), unknown
  tags (RFC 9989 §4.7: MUST be ignored), the tags RFC 9989 removed (`pct`, `rf`, `ri`; still
  validated, since RFC 7489 receivers honour them), the obsolete `!size` suffix of a report
  URI, and report URIs of schemes other than `mailto:` (valid URIs, but few receivers send
  to them).

Tag values are compared case-insensitively (the ABNF quotes them, and RFC 5234 quoted strings
are case-insensitive); only `DMARC1` is case-sensitive (`%s"DMARC1"`). Whitespace around the
record, around `;` and `=`, and around values is accepted.
"""

from __future__ import annotations

import re

from .dmarc_model import (
    DMARC_REMOVED_TAGS,
    DMARC_TAGS,
    DmarcAlignment,
    DmarcDuplicateTagError,
    DmarcPolicy,
    DmarcPsd,
    DmarcRecord,
    DmarcReportUri,
    DmarcSyntaxIssue,
    DmarcTag,
)
from .dmarc_values import (
    _WSP,
    _char_name,
    _first_bad_char,
    _Issue,
    _lead,
    _show,
    _split,
    _TagValues,
    _uri_list,
)
from .errors import RecordSyntaxError

__all__ = [
    "DMARC_REMOVED_TAGS",
    "DMARC_TAGS",
    "DmarcAlignment",
    "DmarcDuplicateTagError",
    "DmarcPolicy",
    "DmarcPsd",
    "DmarcRecord",
    "DmarcReportUri",
    "DmarcSyntaxIssue",
    "DmarcTag",
    "looks_like_dmarc",
    "parse_dmarc",
    "parse_dmarc_lenient",
]

_TAG_NAME = re.compile(r"[A-Za-z]+")
_VERSION_LIKE = re.compile(r"\s*v\s*=\s*dmarc1", re.IGNORECASE)


def looks_like_dmarc(text: str) -> bool:
    """True for TXT strings that try to be DMARC records, including broken ones such as
    `v=dmarc1` or `v=DMARC1 p=reject`, so an audit can report them instead of "missing"."""
    return _VERSION_LIKE.match(text) is not None


def parse_dmarc(text: str) -> DmarcRecord:
    """Strict: the record, or the first problem as `RecordSyntaxError(message, position)`."""
    record, issues = parse_dmarc_lenient(text)
    if issues:
        raise RecordSyntaxError(issues[0].message, issues[0].position)
    return record


def parse_dmarc_lenient(text: str) -> tuple[DmarcRecord, tuple[DmarcSyntaxIssue, ...]]:
    """The record as receivers apply it (bad values discarded) and every issue found.

    Raises `RecordSyntaxError` only when receivers ignore the record entirely: it does not
    start with `v=DMARC1`, or it repeats a tag (`DmarcDuplicateTagError`)."""
    segments = _split(text, ";")
    _check_version(text, segments[0])
    issues: list[DmarcSyntaxIssue] = []
    tags: list[DmarcTag] = []
    unknown: list[DmarcTag] = []
    values = _TagValues()
    seen: dict[str, int] = {"v": segments[0][1] + _lead(segments[0][0])}
    last = len(segments) - 1
    for index, (segment, start) in enumerate(segments[1:], start=1):
        if not segment.strip():
            if index != last:
                issues.append(DmarcSyntaxIssue("empty tag between two ';'", start))
            continue
        name_start = start + _lead(segment)
        eq = segment.find("=")
        if eq < 0:
            word = segment.strip(_WSP).split(None, 1)[0] if segment.strip(_WSP) else segment
            known = word if word in DMARC_TAGS else None
            issues.append(
                DmarcSyntaxIssue(
                    f"expected tag=value, found {_show(segment.strip())}", name_start, known
                )
            )
            continue
        name = segment[:eq].strip(_WSP)
        raw_value = segment[eq + 1 :]
        value = raw_value.strip(_WSP)
        value_start = start + eq + 1 + _lead(raw_value)
        if not _TAG_NAME.fullmatch(name):
            issues.append(DmarcSyntaxIssue(f"invalid tag name {_show(name)}", name_start))
            continue
        if name in seen:  # any copy counts, even one whose value was bad (RFC 6376 §3.2)
            raise DmarcDuplicateTagError(
                f"duplicate tag {_show(name)} (first at position {seen[name]}): a record that "
                "repeats a tag is invalid as a whole (RFC 7489 §6.3, RFC 6376 §3.2)",
                name_start,
                name,
            )
        seen[name] = name_start
        if name not in DMARC_TAGS and name.lower() in DMARC_TAGS:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag names are case-sensitive: {_show(name)} is not "
                    f"{_show(name.lower())} and is ignored",
                    name_start,
                    name.lower(),
                )
            )
            continue
        bad = _first_bad_char(value)
        if bad is not None:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag {_show(name)} contains {_char_name(value[bad])}, which DMARC "
                    "records do not allow (printable ASCII only)",
                    value_start + bad,
                    name if name in DMARC_TAGS else None,
                )
            )
            continue
        if not value:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag {_show(name)} has an empty value",
                    value_start,
                    name if name in DMARC_TAGS else None,
                )
            )
            continue
        tag = DmarcTag(name, value, name_start)
        tags.append(tag)
        if name not in DMARC_TAGS:
            unknown.append(tag)
            continue
        if name in ("rua", "ruf"):
            uris, uri_issues = _uri_list(name, value, value_start)
            if name == "rua":
                values.rua = uris
            else:
                values.ruf = uris
            issues.extend(uri_issues)
            continue
        try:
            values.store(name, value)
        except _Issue as exc:
            issues.append(DmarcSyntaxIssue(exc.message, value_start + exc.offset, name))
    record = DmarcRecord(
        text=text,
        policy=values.p,
        subdomain_policy=values.sp,
        nonexistent_subdomain_policy=values.np,
        adkim=values.adkim,
        aspf=values.aspf,
        failure_options=values.fo,
        testing=values.t,
        psd=values.psd,
        report_uris=(*values.rua, *values.ruf),
        percentage=values.pct,
        report_format=values.rf,
        report_interval=values.ri,
        tags=tuple(tags),
        unknown_tags=tuple(unknown),
        removed_tags=tuple(t.name for t in tags if t.name in DMARC_REMOVED_TAGS),
    )
    return record, tuple(issues)


def _check_version(text: str, first: tuple[str, int]) -> None:
    segment, start = first
    if not text.strip():
        raise RecordSyntaxError("empty record; a DMARC record starts with v=DMARC1", 0)
    pos = start + _lead(segment)
    eq = segment.find("=")
    name = segment[:eq].strip() if eq >= 0 else segment.strip()
    if eq < 0 or name != "v":
        raise RecordSyntaxError("a DMARC record must start with the tag v=DMARC1", pos)
    raw = segment[eq + 1 :]
    value = raw.strip()
    value_pos = start + eq + 1 + _lead(raw)
    if value == "DMARC1":
        return
    if value.upper() == "DMARC1":
        raise RecordSyntaxError(
            f"the version is case-sensitive: {_show(value)} must be 'DMARC1'", value_pos
        )
    if value[:6].upper() == "DMARC1" and value[6:7] in (" ", "\t"):
        raise RecordSyntaxError("missing ';' after v=DMARC1", value_pos + 6)
    raise RecordSyntaxError(
        f"unsupported DMARC version {_show(value)}; the only version is 'DMARC1'", value_pos
    )
