"""Running checks: the Auditor, and the one mapping from exceptions to outcomes."""

from .auditor import Auditor, evaluation_order
from .outcome import DomainDeadlineExceeded, outcome_from_exception

__all__ = ["Auditor", "DomainDeadlineExceeded", "evaluation_order", "outcome_from_exception"]
