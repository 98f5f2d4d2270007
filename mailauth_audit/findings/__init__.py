"""The findings catalogue: every code the tool can emit, one module per check."""

from __future__ import annotations

from .base import FindingSpec


def all_specs() -> list[FindingSpec]:
    """Every FindingSpec defined in the catalogue modules (a test keeps codes unique)."""
    from . import dane, dkim, dmarc, dnssec, mta_sts, mx, mx_identity, spf, starttls, tls_rpt

    specs: list[FindingSpec] = []
    for module in (mx, spf, dkim, dmarc, mta_sts, tls_rpt, dnssec, dane, starttls, mx_identity):
        specs.extend(v for v in vars(module).values() if isinstance(v, FindingSpec))
    return specs


__all__ = ["FindingSpec", "all_specs"]
