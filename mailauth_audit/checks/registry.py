"""The explicit registry of checks. A test keeps it complete: every CheckId has one class."""

from __future__ import annotations

from typing import Any

from ..model import CheckId
from .base import Check
from .dependencies import validate_registry
from .dkim import DkimCheck
from .dmarc import DmarcCheck
from .mx import MxCheck
from .mx_identity import MxIdentityCheck
from .spf import SpfCheck
from .starttls import StarttlsCheck

CHECKS: dict[CheckId, type[Check[Any]]] = {
    CheckId.MX: MxCheck,
    CheckId.SPF: SpfCheck,
    CheckId.DKIM: DkimCheck,
    CheckId.DMARC: DmarcCheck,
    CheckId.STARTTLS: StarttlsCheck,
    CheckId.MX_IDENTITY: MxIdentityCheck,
}

validate_registry(CHECKS)  # a dependency cycle fails here, at import, not mid-run
