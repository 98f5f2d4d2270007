"""DKIM (RFC 6376, RFC 8301, RFC 8463), one module per concern: `check` (collect, and the
classification of the TXT records at one selector), `result` (the facts), `evaluate` (the pure
judgement of one selector), `selectors` (which selectors to probe), `providers` (mail providers
recognised from MX and SPF), `selector_inputs` (selectors read from files and messages)."""

from .check import DkimCheck, judge_txt
from .result import DkimResult, DkimSelectorResult, DkimSelectorStatus

__all__ = [
    "DkimCheck",
    "DkimResult",
    "DkimSelectorResult",
    "DkimSelectorStatus",
    "judge_txt",
]
