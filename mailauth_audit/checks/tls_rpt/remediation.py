"""The TLS-RPT record the findings propose."""

from __future__ import annotations


def tls_rpt_zone_line(txt_name: str, domain: str) -> str:
    return f'{txt_name}. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{domain}"'
