"""One package per mechanism, `checks/<check id>/`; the explicit registry is `registry.py`."""

from .base import Check, CheckContext, EvaluationContext

__all__ = ["Check", "CheckContext", "EvaluationContext"]
