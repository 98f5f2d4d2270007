"""DNS access for the checks: one async `Resolver` protocol and its implementations."""

from .base import Answer, MxRecord, Rcode, RecordValue, Resolver, RRType, TxtRecord

__all__ = ["Answer", "MxRecord", "RRType", "Rcode", "RecordValue", "Resolver", "TxtRecord"]
