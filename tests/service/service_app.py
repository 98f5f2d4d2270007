"""The app in process over a SQLite store holding tokens and two audits of a domain whose
DMARC and DKIM weakened (so history, diff and alerts have something to show).

The app's jobs ask DNS of a closed loopback port only: a fuzzer's POST /v1/audits never
leaves the machine.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "store"))

from dnsservers import free_port
from history_zones import BEFORE, KEY_1024, audit
from starlette.testclient import TestClient

from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.store.store import Store, open_store
from mailauth_audit.store.tokens import TokenScope, create_token, revoke_token

DOMAIN = "shop.example"


@dataclass
class Api:
    app: object
    client: TestClient
    store: Store
    manager: JobManager
    tokens: dict[str, str]  # "read", "write", "admin", "revoked" -> token

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}


def offline_options() -> AuditOptions:
    return AuditOptions(
        nameservers=(f"127.0.0.1:{free_port()}",),
        limits=Limits(dns_timeout=0.2, dns_attempts=1, domain_timeout=5),
    )


def make_store(path: Path) -> tuple[Store, dict[str, str]]:
    store = open_store(str(path))
    store.record_run(audit(BEFORE))
    store.record_run(audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})))
    tokens = {scope.value: create_token(store, scope.value, scope)[1] for scope in TokenScope}
    tokens["revoked"] = create_token(store, "gone", TokenScope.ADMIN)[1]
    revoke_token(store, "gone")
    return store, tokens
