"""MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file, and MX pattern matching.

Pure: no I/O. Fetching the policy (HTTPS, no redirects: RFC 8461 §3.3) is the caller's work.

Reading of the RFC, where it leaves room:

* TXT record (§3.1): `v=STSv1` (case-sensitive) must start the record; fields are separated
  by `*WSP ";" *WSP`; `id=` is 1–32 letters or digits and required. Unknown fields are kept
  and ignored (§3.2, last paragraph); a repeated field is ignored after its first copy (same
  paragraph). Whitespace after the last field without a closing `;` is outside the grammar
  but is only whitespace: it is accepted and noted, not fatal.
* Selecting among TXT records (§3.1): records that do not begin with `v=STSv1` are
  discarded; none left means "no MTA-STS" (None, not an error); more than one raises
  `MultipleRecordsError` (a RecordSyntaxError).
* Bounds: the caller caps the fetched body (`ProbeLimits.max_body_bytes`); the parser is
  linear and refuses, as `MtaStsPolicyTooLarge`, text past `Limits.max_mta_sts_policy_chars`,
  `max_mta_sts_policy_lines` or `max_mta_sts_mx_patterns`: never a silent truncation.
* Policy (§3.2): LF or CRLF lines of `key:` `*WSP` value. Field names and the values of
  `version`, `mode` are case-sensitive (RFC 7405 `%s`). The first copy of `version`,
  `mode`, `max_age` wins and later copies are ignored (noted); `mx` repeats. A known field
  whose value is outside its grammar makes the policy invalid (a sender cannot know what was
  meant); so does a missing `version`, `mode`, `max_age`, or (unless mode is none) `mx`.
  Blank lines are outside the grammar but harmless: accepted and noted. `max_age` above
  31557600 is allowed by the ABNF but not by the prose: kept and noted. Whether a short
  `max_age` is a problem is the check's judgement, not the parser's.
* Matching (§4.1): case-insensitive (ASCII only), trailing dot ignored; `*.` matches
  exactly one whole leftmost label; no other wildcard, no suffix or substring matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..options import Limits
from .errors import RecordSyntaxError
from .mta_sts_model import (
    MtaStsMode,
    MtaStsNote,
    MtaStsNoteKind,
    MtaStsPolicy,
    MtaStsPolicyTooLarge,
    MtaStsTxtRecord,
    _Notes,
)
from .mx_pattern import mx_pattern_matches, mx_pattern_problem
from .txtfields import (
    EXT_NAME,
    MultipleRecordsError,
    TxtField,
    only_record,
    show,
    split_txt_fields,
)

__all__ = [
    "MTA_STS_MAX_AGE_LIMIT",
    "MtaStsMode",
    "MtaStsNote",
    "MtaStsNoteKind",
    "MtaStsPolicy",
    "MtaStsPolicyTooLarge",
    "MtaStsTxtRecord",
    "MultipleRecordsError",
    "TxtField",
    "looks_like_mta_sts",
    "matching_mx_pattern",
    "mx_pattern_matches",
    "mx_pattern_problem",
    "parse_mta_sts_policy",
    "parse_mta_sts_txt",
    "policy_covers",
    "select_mta_sts_record",
]

MTA_STS_MAX_AGE_LIMIT = 31_557_600  # RFC 8461 §3.2: max_age is at most this many seconds
_VERSION = "v=STSv1"
_WSP = " \t"
_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
_POLICY_FIELDS = ("version", "mode", "max_age", "mx")
_MODES = ("enforce", "testing", "none")
_CTL = re.compile(r"[\x00-\x1f\x7f]")


def looks_like_mta_sts(text: str) -> bool:
    """Whether a TXT record was probably *meant* as MTA-STS (wrong case or leading spaces
    included): such a record that `select_mta_sts_record` discards deserves a mention."""
    return text.lstrip(" \t").lower().startswith(_VERSION.lower())


def select_mta_sts_record(texts: Iterable[str]) -> MtaStsTxtRecord | None:
    """The one MTA-STS record among a name's TXT records (each already concatenated).

    None when no record begins with `v=STSv1` (the domain has no MTA-STS: that is absence,
    not a syntax error). More than one, or one that does not parse, raises RecordSyntaxError.
    """
    text = only_record(
        texts, _VERSION, "RFC 8461 §3.1 requires exactly one (senders then ignore MTA-STS)"
    )
    return None if text is None else parse_mta_sts_txt(text)


def parse_mta_sts_txt(text: str) -> MtaStsTxtRecord:
    """Parse one `_mta-sts` TXT record; raise RecordSyntaxError(message, position)."""
    fields, trailing_ws = split_txt_fields(text, _VERSION)
    notes = _Notes()
    if trailing_ws:
        notes.add(
            MtaStsNoteKind.TRAILING_WHITESPACE,
            "whitespace after the last field without a closing ';' is outside the grammar",
            len(text.rstrip(_WSP)),
        )
    seen: set[str] = {"v"}
    record_id: str | None = None
    extensions: list[TxtField] = []
    for f in fields:
        if f.name in seen:
            notes.add(
                MtaStsNoteKind.DUPLICATE_FIELD,
                f"field {f.name!r} repeated: only the first copy counts",
                f.position,
            )
            continue
        seen.add(f.name)
        if f.name == "id":
            if not _STS_ID.fullmatch(f.value):
                raise RecordSyntaxError(
                    f"id must be 1 to 32 letters or digits, not {show(f.value)}",
                    f.position + 3,
                )
            record_id = f.value
        else:
            extensions.append(f)
            notes.add(MtaStsNoteKind.UNKNOWN_FIELD, f"unknown field {f.name!r}", f.position)
    if record_id is None:
        hint = next((f.name for f in fields if f.name.lower() == "id"), None)
        message = "missing required id= field"
        if hint is not None:
            message += f" ({hint!r} is not 'id': field names are case-sensitive)"
        raise RecordSyntaxError(message, len(text))
    return MtaStsTxtRecord(record_id, tuple(extensions), notes.done())


_DEFAULT_LIMITS = Limits()


def parse_mta_sts_policy(text: str | bytes, *, limits: Limits = _DEFAULT_LIMITS) -> MtaStsPolicy:
    """Parse a policy file; raise RecordSyntaxError (or MtaStsPolicyTooLarge) with the
    character offset (byte offset for undecodable bytes) of the problem. Linear in the text;
    stops at the first bound it crosses."""
    if len(text) > limits.max_mta_sts_policy_chars:
        raise MtaStsPolicyTooLarge(
            (
                f"policy is {len(text)} characters (bytes) long, over the limit of "
                f"{limits.max_mta_sts_policy_chars}"
            ),
            limits.max_mta_sts_policy_chars,
            "max_mta_sts_policy_chars",
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordSyntaxError("policy is not UTF-8 text", exc.start) from None
    if text.startswith("\ufeff"):
        raise RecordSyntaxError("policy begins with a byte-order mark (not part of the grammar)", 0)
    if not text.strip(" \t\r\n"):
        raise RecordSyntaxError("policy is empty", 0)
    return _PolicyParser(text, limits).run()


class _PolicyParser:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.notes = _Notes()
        self.first: dict[str, tuple[str, int]] = {}
        self.mx: list[str] = []
        self.mx_seen: set[str] = set()
        self.extensions: list[tuple[str, str]] = []

    def run(self) -> MtaStsPolicy:
        text, pos, line_no = self.text, 0, 0
        while pos < len(text):
            newline = text.find("\n", pos)
            end = len(text) if newline < 0 else newline
            line_no += 1
            if line_no > self.limits.max_mta_sts_policy_lines:
                raise MtaStsPolicyTooLarge(
                    f"policy has more than {self.limits.max_mta_sts_policy_lines} lines",
                    pos,
                    "max_mta_sts_policy_lines",
                )
            line = text[pos:end]
            if line.endswith("\r"):
                line = line[:-1]
            self._line(line, pos, line_no)
            pos = end + 1
        return self._finish()

    def _line(self, line: str, pos: int, line_no: int) -> None:
        if not line.strip(_WSP):
            self.notes.add(
                MtaStsNoteKind.BLANK_LINE, "blank line (outside the grammar)", pos, line_no
            )
            return
        colon = line.find(":")
        name = line[:colon] if colon >= 0 else line
        if colon < 0:
            raise RecordSyntaxError(f"line {line_no}: no ':' (expected key: value)", pos)
        if not EXT_NAME.fullmatch(name):
            why = "whitespace is not allowed around a key" if name != name.strip() else ""
            raise RecordSyntaxError(
                f"line {line_no}: invalid key {show(name or '(empty)')}"
                + (f" ({why})" if why else ""),
                pos,
            )
        raw = line[colon + 1 :]
        lead = len(raw) - len(raw.lstrip(_WSP))
        value = raw.strip(_WSP)
        value_pos = pos + colon + 1 + lead
        bad = _CTL.search(value)
        if bad is not None:
            raise RecordSyntaxError(
                f"line {line_no}: control character {bad.group()!r} in the value of {name!r}",
                value_pos + bad.start(),
            )
        if not value:
            raise RecordSyntaxError(f"line {line_no}: {name!r} has no value", value_pos)
        if name == "mx":
            self._mx(value, value_pos, line_no)
        elif name in _POLICY_FIELDS:
            if name in self.first:
                self.notes.add(
                    MtaStsNoteKind.DUPLICATE_FIELD,
                    f"line {line_no}: {name!r} repeated: only the first copy counts",
                    pos,
                    line_no,
                )
                return
            self.first[name] = (value, value_pos)
            self._known(name, value, value_pos, line_no)
        else:
            self.extensions.append((name, value))
            self.notes.add(
                MtaStsNoteKind.UNKNOWN_FIELD, f"line {line_no}: unknown key {name!r}", pos, line_no
            )

    def _known(self, name: str, value: str, pos: int, line_no: int) -> None:
        if name == "version" and value != "STSv1":
            raise RecordSyntaxError(
                f"line {line_no}: version must be 'STSv1', not {show(value)}", pos
            )
        if name == "mode" and value not in _MODES:
            raise RecordSyntaxError(
                f"line {line_no}: mode must be enforce, testing or none, not {show(value)}", pos
            )
        if name == "max_age":
            if not _MAX_AGE.fullmatch(value):
                raise RecordSyntaxError(
                    f"line {line_no}: max_age must be 1 to 10 digits, not {show(value)}", pos
                )
            if int(value) > MTA_STS_MAX_AGE_LIMIT:
                self.notes.add(
                    MtaStsNoteKind.MAX_AGE_ABOVE_LIMIT,
                    f"max_age {int(value)} is above the RFC 8461 maximum {MTA_STS_MAX_AGE_LIMIT}",
                    pos,
                    line_no,
                )

    def _mx(self, value: str, pos: int, line_no: int) -> None:
        pattern = value
        if pattern.endswith(".") and len(pattern) > 1:
            pattern = pattern[:-1]
            self.notes.add(
                MtaStsNoteKind.MX_TRAILING_DOT,
                f"line {line_no}: mx {show(value)} ends with a dot (outside the grammar)",
                pos,
                line_no,
            )
        problem = mx_pattern_problem(pattern)
        if problem is not None:
            raise RecordSyntaxError(f"line {line_no}: mx {show(value)}: {problem}", pos)
        key = pattern.lower()
        if key in self.mx_seen:
            self.notes.add(
                MtaStsNoteKind.DUPLICATE_MX,
                f"line {line_no}: mx {show(value)} repeated",
                pos,
                line_no,
            )
            return
        if len(self.mx) >= self.limits.max_mta_sts_mx_patterns:
            raise MtaStsPolicyTooLarge(
                f"policy has more than {self.limits.max_mta_sts_mx_patterns} mx patterns",
                pos,
                "max_mta_sts_mx_patterns",
            )
        self.mx_seen.add(key)
        self.mx.append(pattern)

    def _finish(self) -> MtaStsPolicy:
        end = len(self.text)
        for name in ("version", "mode", "max_age"):
            if name not in self.first:
                hint = next((n for n, _ in self.extensions if n.lower() == name), None)
                extra = f" ({hint!r} is not {name!r}: keys are case-sensitive)" if hint else ""
                raise RecordSyntaxError(f"policy has no {name!r} field{extra}", end)
        mode = MtaStsMode(self.first["mode"][0])
        if not self.mx and mode is not MtaStsMode.NONE:
            raise RecordSyntaxError(f"policy in mode {mode.value!r} has no mx field", end)
        return MtaStsPolicy(
            version=self.first["version"][0],
            mode=mode,
            max_age=int(self.first["max_age"][0]),
            mx=tuple(self.mx),
            extensions=tuple(self.extensions),
            notes=self.notes.done(),
        )


def matching_mx_pattern(policy: MtaStsPolicy, host: str) -> str | None:
    """The first of the policy's mx patterns that `host` matches, or None."""
    return next((p for p in policy.mx if mx_pattern_matches(p, host)), None)


def policy_covers(policy: MtaStsPolicy, host: str) -> bool:
    """Whether the policy's mx patterns admit MX host `host` (the mode is the caller's
    concern: in mode none nothing is enforced whatever this says)."""
    return matching_mx_pattern(policy, host) is not None
