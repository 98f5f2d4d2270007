"""`serve` on a loopback port over a store filled without DNS: three audits of shop.example
(DMARC weakened, a 1024-bit key, then a hostile SPF record: drift events), a second domain,
and a run of `BIG_RUN` domains (results stream in several batches). Tokens of each scope
and a revoked one. Used by tests/service/test_pages*.py and test_results_formats*.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from history_zones import BEFORE, KEY_1024, audit
from serve_process import serve_process

from mailauth_audit.report.codec import to_json
from mailauth_audit.store.record import RunInfo, utc_text
from mailauth_audit.store.store import open_store
from mailauth_audit.store.tokens import TokenScope, create_token, revoke_token
from mailauth_audit.version import __version__

HOSTILE_SPF = 'v=spf1 include:\\"><img src=x onerror=alert(1)>.example -all'
BIG_RUN = 210  # domains in the last run: two batches of run_index.BATCH (200), two index pages


@dataclass(frozen=True)
class Service:
    base: str
    tokens: dict[str, str]  # "read", "write", "revoked" -> token
    runs: dict[str, int]  # "first", "drift", "hostile", "big" -> run id
    log: Path

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def _fill(db: str) -> tuple[dict[str, str], dict[str, int]]:
    store = open_store(db)
    try:
        runs: dict[str, int] = {}
        for name, spec in (
            ("first", BEFORE),
            ("drift", dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})),
            ("hostile", dict(BEFORE, spf=HOSTILE_SPF)),
        ):
            store.record_run(audit(spec, ("shop.example", "nomail.example")))
            runs[name] = max(r["id"] for r in store.runs())
        template = to_json(audit(BEFORE).domains[0])
        info = RunInfo(kind="api", started_at=utc_text(), tool_version=__version__, provenance=None)
        run_id, started = store.start_run(info)
        docs = [{**template, "domain": f"d{i:03}.example"} for i in range(BIG_RUN)]
        store.record_documents(run_id, started, docs)
        store.finish_run(run_id)
        runs["big"] = run_id
        tokens = {
            "read": create_token(store, "reader", TokenScope.READ)[1],
            "write": create_token(store, "writer", TokenScope.WRITE)[1],
            "revoked": create_token(store, "gone", TokenScope.ADMIN)[1],
        }
        revoke_token(store, "gone")
    finally:
        store.close()
    return tokens, runs


def start_service(folder: Path) -> Iterator[Service]:
    db = str(folder / "audits.db")
    tokens, runs = _fill(db)
    with serve_process(db, log=folder / "serve.log") as served:
        yield Service(served.base, tokens, runs, served.log)
