"""MTA-STS (RFC 8461): check, facts and judgement."""

from .check import MtaStsCheck
from .result import MtaStsResult, PolicyAttempt, PolicyFetch, PolicyFetchState, PolicyProblem

__all__ = [
    "MtaStsCheck",
    "MtaStsResult",
    "PolicyAttempt",
    "PolicyFetch",
    "PolicyFetchState",
    "PolicyProblem",
]
