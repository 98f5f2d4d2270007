"""DANE for SMTP (RFC 7672, RFC 7671): `result` (the facts), `match` (TLSA records against a
presented chain, pure), `collect`, `evaluate`, `remediation` (the TLSA line to publish),
`check`."""

from .check import DaneCheck
from .result import DaneAddress, DaneHost, DaneResult

__all__ = ["DaneAddress", "DaneCheck", "DaneHost", "DaneResult"]
