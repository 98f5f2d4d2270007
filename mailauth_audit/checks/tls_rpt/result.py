"""The facts the TLS-RPT check collects (RFC 8460 §3): frozen, so they can be re-judged."""

from __future__ import annotations

from dataclasses import dataclass

from ...records.tls_rpt import TlsRptRecord

__all__ = ["TlsRptResult"]


@dataclass(frozen=True)
class TlsRptResult:
    """What a reporting sender finds at `_smtp._tls.<domain>`."""

    txt_name: str  # _smtp._tls.<domain>
    records_found: tuple[str, ...]  # TXT strings there beginning with v=TLSRPTv1
    # TXT strings that look like TLS-RPT but that senders discard (wrong case, leading space)
    lookalikes: tuple[str, ...]
    record: TlsRptRecord | None  # set when exactly one record parses
    record_text: str | None  # set with record
    syntax_error: str | None  # set when the one record (or the set) is invalid
    syntax_error_position: int | None  # set with syntax_error
