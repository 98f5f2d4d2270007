"""run.json: what a bulk run was asked to do, so that --resume continues that run only.

A resumed run skips every domain with a line in results.jsonl and counts those lines in its
summary. Resumed with another list or other options, it would mix two runs and report
"15 of 5 domains". So the first run records its inputs in the output folder: the number and
a SHA-256 of its domain keys (folded: order, case, trailing dots and IDN spelling do not
matter), and the options that change what a result says (--checks, --selector,
--no-default-selectors, --max-selectors, --html-pages), the --zone-file(s) answers came from
with the SHA-256 of each (their content, not their path, is what matters) and the audit date
(the date-style DKIM selectors s2026, ed2026... follow its year). --resume compares and
refuses a mismatch, saying what differs. Options that only change how fast or how patiently
the work is done (concurrency, processes, --qps, timeouts, the nameserver) may change between
sessions. A resumed run keeps the audit date of its run (bulk/core.py), so resuming after
midnight is the same run; only a date set explicitly (AuditOptions.today) can differ.

A folder without run.json (written by an older version) is resumed as it is; the lines of
domains not in the list are then reported as foreign, never counted as reported domains. A
run.json from before the zone files, --max-selectors and the date were recorded is compared
on what it holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..options import AuditOptions, BulkRunLimits
from ..outputs import open_regular, write_output
from ..version import __version__

__all__ = [
    "MANIFEST_NAME",
    "ResumeMismatch",
    "RunManifest",
    "ZoneFileRef",
    "check_resume",
    "mismatch",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "run.json"
MANIFEST_VERSION = "1"
MANIFEST_MAX_BYTES = BulkRunLimits().max_manifest_bytes  # more is not a run.json of ours


class ResumeMismatch(ValueError):
    """--resume of a folder whose run had another domain list or other options."""


@dataclass(frozen=True)
class ZoneFileRef:
    """A --zone-file the run's answers came from."""

    path: str  # as given on the command line
    sha256: str  # of its bytes, as read when the run (or this session of it) started


@dataclass(frozen=True)
class RunManifest:
    domains: int  # distinct entries (valid or not)
    domains_sha256: str  # of the sorted entry keys, one per line
    checks: tuple[str, ...]  # sorted
    selectors: tuple[str, ...]  # sorted, lower case
    default_selectors: bool
    html_pages: bool
    # the fields below are None only in a run.json written before they were recorded
    # (not compared then); zone_files is () when the answers came from DNS servers
    zone_files: tuple[ZoneFileRef, ...] | None = field(default=None)
    max_selectors: int | None = None  # Limits.max_dkim_selectors (--max-selectors)
    audit_date: str | None = None  # ISO date: AuditOptions.today of the run

    @classmethod
    def of(
        cls,
        keys: Iterable[str],
        options: AuditOptions,
        *,
        html_pages: bool,
        zone_files: Iterable[ZoneFileRef] = (),
    ) -> RunManifest:
        ordered = sorted(set(keys))
        digest = hashlib.sha256("\n".join(ordered).encode("utf-8", "surrogatepass"))
        return cls(
            domains=len(ordered),
            domains_sha256=digest.hexdigest(),
            checks=tuple(sorted(c.value for c in options.checks)),
            selectors=tuple(sorted({s.strip().lower() for s in options.selectors})),
            default_selectors=options.use_default_selectors,
            html_pages=html_pages,
            zone_files=tuple(zone_files),
            max_selectors=options.limits.max_dkim_selectors,
            audit_date=None if options.today is None else options.today.isoformat(),
        )

    def to_json(self) -> dict[str, Any]:
        doc = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        if self.zone_files is not None:
            doc["zone_files"] = [asdict(z) for z in self.zone_files]
        return {"manifest_version": MANIFEST_VERSION, "tool_version": __version__, **doc}

    @classmethod
    def from_json(cls, doc: Any) -> RunManifest:
        """Raises ValueError for anything that is not a run.json this version wrote."""
        if not isinstance(doc, dict) or doc.get("manifest_version") != MANIFEST_VERSION:
            raise ValueError("not a run record of this version")
        try:
            manifest = cls(
                domains=int(doc["domains"]),
                domains_sha256=str(doc["domains_sha256"]),
                checks=tuple(str(c) for c in doc["checks"]),
                selectors=tuple(str(s) for s in doc["selectors"]),
                default_selectors=bool(doc["default_selectors"]),
                html_pages=bool(doc["html_pages"]),
                zone_files=_zone_files(doc.get("zone_files")),
                max_selectors=_optional(int, doc.get("max_selectors")),
                audit_date=_optional(str, doc.get("audit_date")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None
        return manifest

    def differences(self, now: RunManifest) -> list[str]:
        """What `now` changes, in words a user can act on (empty: the same run)."""
        out: list[str] = []
        if (self.domains, self.domains_sha256) != (now.domains, now.domains_sha256):
            out.append(
                f"a different domain list ({self.domains} domains, sha256 "
                f"{self.domains_sha256[:12]}…; now {now.domains} domains, sha256 "
                f"{now.domains_sha256[:12]}…)"
            )
        if self.checks != now.checks:
            out.append(f"different checks ({_words(self.checks)}; now {_words(now.checks)})")
        if self.selectors != now.selectors:
            out.append(
                f"different --selector values ({_words(self.selectors)}; "
                f"now {_words(now.selectors)})"
            )
        if self.default_selectors != now.default_selectors:
            out.append(_flag("--no-default-selectors", not self.default_selectors))
        if self.html_pages != now.html_pages:
            out.append(_flag("--html-pages", self.html_pages))
        before_zones, now_zones = self.zone_files, now.zone_files
        if (
            before_zones is not None
            and now_zones is not None
            and _contents(before_zones) != _contents(now_zones)
        ):
            out.append(f"answers from {_sources(before_zones)} (now from {_sources(now_zones)})")
        if None not in (self.max_selectors, now.max_selectors) and (
            self.max_selectors != now.max_selectors
        ):
            out.append(
                f"a different --max-selectors ({self.max_selectors}; now {now.max_selectors})"
            )
        if None not in (self.audit_date, now.audit_date) and self.audit_date != now.audit_date:
            out.append(
                f"a different audit date ({self.audit_date}; now {now.audit_date}), which "
                "decides the date-style DKIM selectors probed"
            )
        return out


def _optional(kind: type[Any], value: Any) -> Any:
    return None if value is None else kind(value)


def _zone_files(value: Any) -> tuple[ZoneFileRef, ...] | None:
    if value is None:
        return None
    return tuple(ZoneFileRef(path=str(z["path"]), sha256=str(z["sha256"])) for z in value)


def _contents(files: tuple[ZoneFileRef, ...]) -> list[str]:
    """What decides the answers: the files' bytes, whatever path each was given by."""
    return sorted(z.sha256 for z in files)


def _sources(files: tuple[ZoneFileRef, ...]) -> str:
    if not files:
        return "DNS servers"
    named = ", ".join(f"{z.path} (sha256 {z.sha256[:12]}…)" for z in files)
    return f"zone file{'s' if len(files) > 1 else ''} {named}"


def _words(values: tuple[str, ...]) -> str:
    return ",".join(values) if values else "none"


def _flag(flag: str, then: bool) -> str:
    return f"{flag} {'given' if then else 'not given'} (now {'not ' if then else ''}given)"


def read_manifest(folder: Path) -> RunManifest | None:
    """The folder's run.json, None when there is none. Raises ResumeMismatch when it
    cannot be read as one (never through a symlink: see outputs.open_regular)."""
    path = folder / MANIFEST_NAME
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(MANIFEST_MAX_BYTES + 1)
    try:
        if len(raw) > MANIFEST_MAX_BYTES:
            raise ValueError(f"larger than {MANIFEST_MAX_BYTES} bytes")
        return RunManifest.from_json(json.loads(raw))
    except ValueError as exc:
        raise ResumeMismatch(
            f"cannot resume the run in {folder}: {path} is unreadable ({exc}); remove it to "
            "resume anyway (lines of domains not in the list are then reported as foreign)"
        ) from None


def check_resume(folder: Path, now: RunManifest) -> None:
    """Raise ResumeMismatch when the folder's run was started with other inputs."""
    mismatch(folder, read_manifest(folder), now)


def mismatch(folder: Path, before: RunManifest | None, now: RunManifest) -> None:
    """Raise ResumeMismatch when `before` (the folder's run.json) differs from `now`."""
    if before is None:
        return
    diffs = before.differences(now)
    if diffs:
        raise ResumeMismatch(
            f"cannot resume the run in {folder}: it was started with "
            + "; ".join(diffs)
            + ". Resume with the same list, options and zone files, or choose another "
            "--output folder."
        )


def write_manifest(folder: Path, manifest: RunManifest) -> None:
    write_output(folder / MANIFEST_NAME, json.dumps(manifest.to_json(), indent=2) + "\n")
