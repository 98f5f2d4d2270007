"""mx_identity: who each MX address says it is, and whether DNS agrees."""

from .check import MxIdentityCheck
from .result import MxAddressIdentity, MxIdentityResult

__all__ = ["MxAddressIdentity", "MxIdentityCheck", "MxIdentityResult"]
