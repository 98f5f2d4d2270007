"""MX (RFC 5321 §5.1, RFC 7505 null MX): where mail for the domain goes."""

from .check import MxCheck, MxHost, MxResult, address_scope, is_ip_literal

__all__ = ["MxCheck", "MxHost", "MxResult", "address_scope", "is_ip_literal"]
