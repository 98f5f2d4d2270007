"""The explicit registry of checks. A test keeps it complete: every CheckId has one class."""

from __future__ import annotations

from typing import Any

from ..model import CheckId
from .base import Check
from .dane import DaneCheck
from .dependencies import validate_registry
from .dkim import DkimCheck
from .dmarc import DmarcCheck
from .dnssec import DnssecCheck
from .mta_sts import MtaStsCheck
from .mx import MxCheck
from .mx_identity import MxIdentityCheck
from .spf import SpfCheck
from .starttls import StarttlsCheck
from .tls_rpt import TlsRptCheck

CHECKS: dict[CheckId, type[Check[Any]]] = {
    CheckId.MX: MxCheck,
    CheckId.SPF: SpfCheck,
    CheckId.DKIM: DkimCheck,
    CheckId.DMARC: DmarcCheck,
    CheckId.MTA_STS: MtaStsCheck,
    CheckId.TLS_RPT: TlsRptCheck,
    CheckId.DNSSEC: DnssecCheck,
    CheckId.DANE: DaneCheck,
    CheckId.STARTTLS: StarttlsCheck,
    CheckId.MX_IDENTITY: MxIdentityCheck,
}

validate_registry(CHECKS)  # a dependency cycle fails here, at import, not mid-run
