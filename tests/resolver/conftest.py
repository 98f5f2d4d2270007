"""The DNSSEC lab (signed zone in nsd behind a validating unbound) for the resolver tests."""

from __future__ import annotations

from dnssec_servers import dnssec_lab

__all__ = ["dnssec_lab"]
