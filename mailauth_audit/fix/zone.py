"""A change set applied to zone-file text, line by line (pure).

Only the lines holding a changed record are rewritten; every other line — `$ORIGIN`,
`$TTL`, comments, blank lines, records of other names — comes out byte for byte as it went
in, so the result diffs cleanly against the file the owner keeps. Additions go at the end,
with fully qualified owners, so no `$ORIGIN` in the file can move them.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..changes import ChangeAction, RecordChange
from ..records.zonefile import zone_line

__all__ = ["ZoneEdit", "ZoneRecord", "apply_changes", "same_record", "zone_records"]

_TTL = re.compile(r"^(?:\d+[smhdwSMHDW]?)+$")
_CLASSES = frozenset({"IN", "CH", "HS", "CS"})
_ESCAPE = re.compile(rb"\\(\d{3}|.)", re.S)


@dataclass(frozen=True)
class ZoneRecord:
    """One record as the file writes it: which lines, whose, and its value as DNS sees it."""

    first_line: int  # 0-based index of its first line
    last_line: int  # its last line (records in parentheses span several)
    name: str  # absolute, lower case, no trailing dot
    rtype: str
    ttl: int | None  # as written, else the $TTL before it; None when neither is stated
    value: str  # TXT: the strings joined; MX: "10 host." ; others: the rdata as written
    explicit_owner: bool  # False when the line starts blank (the previous owner's)
    comment: str  # a trailing `; comment` on its last line, "" when none


@dataclass(frozen=True)
class ZoneEdit:
    text: str  # the corrected zone
    applied: tuple[RecordChange, ...]
    not_found: tuple[RecordChange, ...]  # replace/remove whose record is not in the file
    outside: tuple[RecordChange, ...]  # names in no zone of the file: not ours to add


_TOKEN = re.compile(r'"((?:[^"\\]++|\\.)*+)"?|(;[^\n]*+)|([^\s();"\\]++(?:\\.[^\s();"\\]*+)*+)')


def _tokens(text: str) -> tuple[list[tuple[str, bool]], str]:
    """(token, quoted) pairs of one logical record with parentheses dropped, and the
    trailing comment."""
    out: list[tuple[str, bool]] = []
    comment = ""
    if '"' not in text and "\\" not in text:  # most lines: words only
        body, semi, rest = text.partition(";")
        words = body.replace("(", " ").replace(")", " ").split()
        return [(w, False) for w in words], semi + rest.split("\n", 1)[0] if semi else ""
    for m in _TOKEN.finditer(text):
        quoted, note, word = m.group(1), m.group(2), m.group(3)
        if quoted is not None:
            out.append((quoted, True))
        elif note is not None:
            comment = comment or note
        elif word is not None:
            out.append((word, False))
    return out, comment


def _unescape(token: str) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        g = m.group(1)
        return bytes([int(g)]) if g.isdigit() else g

    return _ESCAPE.sub(one, token.encode("utf-8"))


def _absolute(name: str, origin: str) -> str:
    if name == "@":
        return origin
    if name.endswith("."):
        return name[:-1].lower()
    return f"{name}.{origin}".strip(".").lower() if origin else name.lower()


def _paren_depth(line: str) -> int:
    if "(" not in line and ")" not in line:
        return 0
    depth, quoted, i = 0, False, 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == ";":
            break
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        i += 1
    return depth


def _ttl_seconds(token: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if token.isdigit():
        return int(token)
    return sum(int(n) * units[u.lower()] for n, u in re.findall(r"(\d+)([smhdwSMHDW])", token))


def zone_records(lines: Sequence[str], origin: str = "") -> list[ZoneRecord]:
    """The records of a zone file's lines, with the names they stand for."""
    records: list[ZoneRecord] = []
    last_owner = origin
    default_ttl: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            i += 1
            continue
        if stripped.startswith("$"):
            parts = stripped.split(";", 1)[0].split()
            if parts[0].upper() == "$ORIGIN" and len(parts) > 1:
                origin = _absolute(parts[1], origin)
            elif parts[0].upper() == "$TTL" and len(parts) > 1 and _TTL.match(parts[1]):
                default_ttl = _ttl_seconds(parts[1])
            i += 1
            continue
        depth = _paren_depth(line)
        text = line
        while depth > 0 and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
            depth += _paren_depth(lines[i])
        i += 1
        tokens, comment = _tokens(text)
        explicit = not line[:1].isspace()
        if explicit and tokens:
            last_owner = _absolute(tokens[0][0], origin)
            tokens = tokens[1:]
        ttl = default_ttl
        while tokens and not tokens[0][1]:
            word = tokens[0][0]
            if _TTL.match(word):
                ttl = _ttl_seconds(word)
            elif word.upper() not in _CLASSES:
                break
            tokens = tokens[1:]
        if not tokens:
            continue
        rtype = tokens[0][0].upper()
        rdata = tokens[1:]
        records.append(
            ZoneRecord(
                start,
                i - 1,
                last_owner,
                rtype,
                ttl,
                _value(rtype, rdata, origin),
                explicit,
                comment,
            )
        )
    return records


def _value(rtype: str, rdata: list[tuple[str, bool]], origin: str) -> str:
    if rtype == "TXT" or rtype == "SPF":
        return b"".join(_unescape(t) for t, _ in rdata).decode("utf-8", "replace")
    if rtype == "MX" and len(rdata) == 2:
        target = rdata[1][0]
        return f"{rdata[0][0]} {_absolute(target, origin) + '.' if target != '.' else '.'}"
    return " ".join(t for t, _ in rdata)


def same_record(rtype: str, written: str, value: str) -> bool:
    """Is the file's record the record a change names?"""
    if rtype in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(written) == ipaddress.ip_address(value)
        except ValueError:
            return written == value
    if rtype == "MX":
        return written.lower().rstrip(".") == value.lower().rstrip(".")
    return written == value


def _inside(name: str, zones: Iterable[str]) -> bool:
    return any(z == "" or name == z or name.endswith("." + z) for z in zones)


def apply_changes(
    text: str, changes: Iterable[RecordChange], *, zones: Sequence[str], origin: str = ""
) -> ZoneEdit:
    """`text` with each change applied: a replaced record's lines become one zone line with
    the record's own TTL; a removed record's lines go (a following record that inherited its
    owner gets it written out); additions are appended. `zones` are the apexes the file
    defines: an addition elsewhere is returned in `outside`, not written."""
    lines = text.split("\n")
    records = zone_records(lines, origin)
    by_key: dict[tuple[str, str], list[ZoneRecord]] = {}
    for record in records:
        by_key.setdefault((record.name, record.rtype), []).append(record)
    following = {a.first_line: b for a, b in itertools.pairwise(records)}
    rewrite: dict[int, list[str]] = {}  # first line -> replacement lines
    dropped: set[int] = set()
    applied: list[RecordChange] = []
    not_found: list[RecordChange] = []
    outside: list[RecordChange] = []
    additions: list[str] = []
    for change in changes:
        name = change.name.rstrip(".").lower()
        rtype = change.rtype.upper()
        if change.action is ChangeAction.ADD:
            if not _inside(name, zones):
                outside.append(change)
                continue
            additions.append(zone_line(name, rtype, change.proposed or "", change.ttl))
            applied.append(change)
            continue
        matches = [
            r
            for r in by_key.get((name, rtype), ())
            if same_record(rtype, r.value, change.current or "") and r.first_line not in rewrite
        ]
        if not matches:
            not_found.append(change)
            continue
        for rec in matches:
            if change.action is ChangeAction.REMOVE:
                rewrite[rec.first_line] = []
                _keep_next_owner(following.get(rec.first_line), rec, rewrite, lines)
            else:
                ttl = rec.ttl if rec.ttl is not None else change.ttl
                line = zone_line(name, rtype, change.proposed or "", ttl)
                rewrite[rec.first_line] = [line + ("  " + rec.comment if rec.comment else "")]
            dropped.update(range(rec.first_line + 1, rec.last_line + 1))
        applied.append(change)
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in rewrite:
            out.extend(rewrite[i])
        elif i not in dropped:
            out.append(line)
    if additions:
        while out and out[-1] == "":
            out.pop()
        out += ["", "; added by mailauth-audit fix", *additions, ""]
    return ZoneEdit("\n".join(out), tuple(applied), tuple(not_found), tuple(outside))


def _keep_next_owner(
    after: ZoneRecord | None,
    removed: ZoneRecord,
    rewrite: dict[int, list[str]],
    lines: list[str],
) -> None:
    """A record written with a blank owner inherits the one before it: when that one goes,
    the next record's owner is written out so it keeps its name."""
    if not removed.explicit_owner or after is None:
        return
    if not after.explicit_owner and after.first_line not in rewrite:
        rewrite[after.first_line] = [f"{removed.name}.{lines[after.first_line]}"]
