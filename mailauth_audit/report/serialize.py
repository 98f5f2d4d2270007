"""Turn the typed model into plain JSON values: the contract compliance workflows consume.

The shape is fixed by `schema.json` next to this module; `SCHEMA_VERSION` changes with it
(major bump for anything that breaks an existing consumer).
"""

from __future__ import annotations

import base64
import json
from typing import Any

try:  # optional speed-up: the same bytes, cheaper to make (see domain_json_line)
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

from ..model import AuditRun, CheckOutcome, DomainReport, Finding
from ..verdicts.score import DomainScore
from ..version import __version__
from .codec import encode_value, report_document, to_json

# 1.1: per-domain score and provider checklist
# 1.2: no grade without evidence: a domain with a check in error has score.grade and
#      score.score null, score.grade_status "not_graded", score.not_graded_reason,
#      score.provisional_score and score.checks_in_error
# 1.3: top-level provenance (mode live/draft/sample, the resolvers or zone files with their
#      SHA-256, the time, the tool version); error reason outside_zone_file
# 1.4: findings carry `changes`: the remediation as typed record changes (action add /
#      replace / remove, name, rtype, ttl, current, proposed, placeholders, fixes); the
#      records shown carry the TTL they were answered with (spf/dmarc result.record_ttl,
#      mx result.ttl, dkim selectors[].ttl, dmarc lookups[].ttl)
# 1.5: checks mta_sts (RFC 8461) and tls_rpt (RFC 8460)
# 1.6: checks dnssec and dane (results DnssecResult, DaneResult); error reason
#      resolver_not_validating
# 1.7: checks `starttls` (TLS facts per MX address: banner, EHLO, STARTTLS, version, cipher,
#      certificate chain, older versions accepted) and `mx_identity` (PTR, forward-confirmed);
#      a check's `result` may now be set on a skipped or error outcome (facts that support no
#      verdict: every address not probed, or none could be tested); checklist source `probe`
# 1.8: a finding's params: the catalogue template values its texts were filled with
# 1.9: starttls TLS sessions carry the key-exchange group (`group`, now filled in on every
#      Python) and its size `group_bits`; finding starttls.weak_key_exchange
# 1.10: the MTA-STS policy fetch records its HTTPS handshake (policy.tls_version,
#      tls_cipher, tls_group, tls_group_bits), as starttls records its sessions
# 1.11: dkim and mta_sts results carry `audit_date` (the audit's date: the date-style
#       selectors and a proposed record's id follow from it, so saved facts give the same
#       advice on any later day)
# 1.12: who answered the records a check read (address:port, "zone-file:PATH", "static"):
#      mx/spf/dmarc result.server, dkim result.server (or selectors[].server when the
#      selectors found were answered by different servers)
SCHEMA_VERSION = "1.12"
TOOL_NAME = "mailauth-audit"

to_jsonable = encode_value  # the name renderers and the bulk runner serialise with


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return to_jsonable(finding)


def outcome_to_json(outcome: CheckOutcome) -> dict[str, Any]:
    return to_jsonable(outcome)


def domain_to_json(report: DomainReport) -> dict[str, Any]:
    """The report's JSON object: `codec.to_json` (kept under this name for its callers)."""
    return to_json(report)


def domain_json_line(report: DomainReport, score: DomainScore | None = None) -> bytes:
    """`domain_to_json` as compact UTF-8 JSON: exactly the bytes of
    `json.dumps(domain_to_json(report), ensure_ascii=False, separators=(",", ":")).encode()`.

    Why: a bulk run writes one such line per domain, and building the dict tree and encoding
    it with the json module is a large share of a domain's CPU; orjson encodes the frozen
    dataclasses, the StrEnums and the tuples directly (fields in definition order, as
    `to_jsonable` does), without that tree (figures: docs/BENCHMARKS.md). Anything orjson
    refuses (a lone surrogate, an integer beyond 64 bits) goes the json module's way, so the
    result or the error is the same.
    """
    if orjson is not None:
        try:
            return orjson.dumps(report_document(report, score, native=True), default=_native)
        except orjson.JSONEncodeError:
            pass
    doc = report_document(report, score)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _native(value: object) -> str:
    """What orjson cannot encode itself, as `encode_value` encodes it (base64 DER)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def run_to_json(run: AuditRun) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": run.tool_version or __version__},
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "dns_queries": run.dns_queries,
        "provenance": to_jsonable(run.provenance),
        "domains": [domain_to_json(d) for d in run.domains],
    }
