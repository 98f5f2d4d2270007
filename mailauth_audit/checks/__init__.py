"""One module per mechanism; the explicit registry of them is in `registry.py`."""

from .base import Check, CheckContext, EvaluationContext

__all__ = ["Check", "CheckContext", "EvaluationContext"]
