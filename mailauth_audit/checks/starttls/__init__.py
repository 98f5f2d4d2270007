"""STARTTLS on every MX address (RFC 3207, RFC 8314's view of opportunistic TLS)."""

from .check import StarttlsCheck
from .result import MxAddressTls, MxHostTls, StarttlsResult

__all__ = ["MxAddressTls", "MxHostTls", "StarttlsCheck", "StarttlsResult"]
