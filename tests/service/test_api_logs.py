"""`serve --log-format json`: the real server (uvicorn, subprocess) writes one JSON object
per line, access lines included, and no token ever reaches the log, whatever requests
carried; the redacting filter also cleans exceptions and URL passwords."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from dnsservers import free_port
from serve_process import serve_process
from service_app import make_store

from mailauth_audit.service.logs import configure_logging, redact


def test_redaction_of_tokens_bearer_credentials_and_url_passwords() -> None:
    stream = io.StringIO()
    handler = configure_logging("json", "debug", stream)
    try:
        log = logging.getLogger("mailauth_audit.test")
        log.info("header was %s", "Bearer maa_abcDEF123-_x")
        log.warning("store postgresql://audit:hunter2@db.example/audits unreachable")
        try:
            raise RuntimeError("token maa_secretsecret rejected")
        except RuntimeError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [d["level"] for d in lines] == ["info", "warning", "error"]
    assert "maa_" not in text and "hunter2" not in text and "abcDEF" not in text
    assert "postgresql://[redacted]@db.example" in lines[1]["message"]
    assert "RuntimeError" in lines[2]["exception"]
    assert redact("no secrets here") == "no secrets here"


def test_serve_json_logs_carry_no_token(tmp_path: Path) -> None:
    db = tmp_path / "audits.db"
    store, tokens = make_store(db)
    store.close()
    log = tmp_path / "serve.log"
    flags = [
        *("--nameserver", f"127.0.0.1:{free_port()}", "--timeout", "0.2"),
        *("--log-format", "json", "--no-scheduler", "--rate-burst", "5"),
        *("--rate-per-second", "0.01"),  # no refill during the test, however slow the machine
    ]
    with serve_process(str(db), *flags, log=log) as served, served.client() as c:
        for who in ("write", "read", "revoked"):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            c.post("/v1/audits", headers=headers, content=b'{"domains": ["a.example"]}')
            c.get("/v1/alerts", headers=headers)
        c.get("/v1/schedules", headers={"Authorization": "Bearer maa_made-up-token"})
        c.get("/v1/schedules?token=" + tokens["read"])  # a token in a URL, by mistake
        limited = [
            c.get("/metrics", headers={"Authorization": f"Bearer {tokens['admin']}"})
            for _ in range(7)
        ]
        assert limited[-1].status_code == 429  # --rate-burst 5, no refill
    text = log.read_text(errors="replace")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [d for d in lines if d["logger"] == "uvicorn.access"]
    assert access, text[:2000]
    assert {"method", "path", "status", "client"} <= set(access[0])
    assert any(d["status"] == 429 and d["path"] == "/metrics" for d in access)
    assert any("429" in d["message"] for d in lines)
    for token in tokens.values():
        assert token not in text
        assert token[4:20] not in text
    assert "maa_" not in text
