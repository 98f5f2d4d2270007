"""Test servers shared with other folders: tests/mailservers.py (Postfix) and
tests/probes/probe_servers.py (aiosmtpd, raw socket servers), importable by name here."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for _folder in (_TESTS, _TESTS / "probes", _TESTS / "checks"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
