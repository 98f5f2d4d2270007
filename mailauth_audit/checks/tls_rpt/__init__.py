"""TLS-RPT (RFC 8460): check, facts and judgement."""

from .check import TlsRptCheck
from .result import TlsRptResult

__all__ = ["TlsRptCheck", "TlsRptResult"]
