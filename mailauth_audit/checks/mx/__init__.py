"""MX (RFC 5321 §5.1, RFC 7505 null MX): where mail for the domain goes. `result` (the facts),
`collect` (the MX RRset and host addresses), `evaluate` (the pure judgement), `check` (the
Check the registry names)."""

from .check import MxCheck
from .collect import is_ip_literal
from .evaluate import address_scope
from .result import MxHost, MxResult

__all__ = ["MxCheck", "MxHost", "MxResult", "address_scope", "is_ip_literal"]
