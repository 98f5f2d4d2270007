"""The store from the command line: check and bulk record, history / diff / alerts / prune
read, on SQLite and PostgreSQL; a store that cannot be used stops the run before any work."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from history_zones import BEFORE, KEY_1024, many_domains_zone, zone

from mailauth_audit.store.store import open_store


def cli(*args: str, timeout: float = 180, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        check=False,
    )


@pytest.fixture
def zones(tmp_path: Path) -> tuple[Path, Path]:
    after = dict(
        BEFORE,
        mx=["10 mx2.shop.example."],
        dmarc="v=DMARC1; p=quarantine; rua=mailto:d@shop.example",
        dkim={"s1": KEY_1024},
    )
    v1, v2 = tmp_path / "v1.zone", tmp_path / "v2.zone"
    v1.write_text(zone(BEFORE))
    v2.write_text(zone(after))
    return v1, v2


def test_check_records_and_history_diff_alerts_read(
    store_url: str, zones: tuple[Path, Path]
) -> None:
    for z in zones:
        done = cli(
            "check", "--zone-file", str(z), "--selector", "s1", "--store", store_url, "shop.example"
        )
        assert done.returncode == 0, done.stderr
    shown = cli("history", "shop.example", "--store", store_url)
    assert shown.returncode == 0, shown.stderr
    assert "2 audits" in shown.stdout and "dmarc.policy_weakened" in shown.stdout
    doc = json.loads(cli("history", "shop.example", "--store", store_url, "-f", "json").stdout)
    assert doc["kind"] == "history" and [e["grade"] for e in doc["history"]["entries"]] == [
        "A",
        "B",
    ]
    d = json.loads(cli("diff", "shop.example", "--store", store_url, "-f", "json").stdout)["diff"]
    assert {(r["type"], r["change"]) for r in d["records"]} >= {
        ("MX", "changed"),
        ("DMARC", "changed"),
    }
    assert (d["grade_before"], d["grade_after"]) == ("A", "B")
    events = json.loads(cli("alerts", "--since", "1d", "--store", store_url, "-f", "json").stdout)
    codes = {e["code"] for e in events["events"]}
    assert {"dkim.key_shortened", "dmarc.policy_weakened", "mx.set_changed"} <= codes
    first = events["events"][0]["id"]
    assert cli("alerts", "--ack", str(first), "--store", store_url).returncode == 0
    after_ack = json.loads(cli("alerts", "--store", store_url, "-f", "json").stdout)["events"]
    assert first not in {e["id"] for e in after_ack} and len(after_ack) == len(codes) - 1
    pruned = cli("prune", "--keep", "1s", "--store", store_url)
    assert pruned.returncode == 0 and "1 audits deleted" in pruned.stderr


def test_the_environment_names_the_store(tmp_path: Path, zones: tuple[Path, Path]) -> None:
    db = tmp_path / "env.db"
    env = {"MAILAUTH_AUDIT_STORE": str(db)}
    assert cli("check", "--zone-file", str(zones[0]), "shop.example", env=env).returncode == 0
    assert "1 audits" in cli("history", "shop.example", env=env).stdout


def test_check_without_a_store_records_nothing(tmp_path: Path, zones: tuple[Path, Path]) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path), "MAILAUTH_AUDIT_STORE": ""}
    assert cli("check", "--zone-file", str(zones[0]), "shop.example", env=env).returncode == 0
    assert not (tmp_path / "mailauth-audit").exists()
    shown = cli("history", "shop.example", env=env)
    assert shown.returncode == 2 and "does not exist" in shown.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["check", "bulk"])
def test_an_unreachable_store_stops_the_run_before_any_work(
    tmp_path: Path, zones: tuple[Path, Path], command: str
) -> None:
    url = f"postgresql://audit@127.0.0.1:{_closed_port()}/audits"
    if command == "check":
        args = ["check", "--zone-file", str(zones[0]), "shop.example"]
    else:
        (tmp_path / "list.txt").write_text("shop.example\n")
        args = [
            "bulk",
            str(tmp_path / "list.txt"),
            "-o",
            str(tmp_path / "out"),
            "--zone-file",
            str(zones[0]),
        ]
    done = cli(*args, "--store", url)
    assert done.returncode == 2
    assert "cannot use the store" in done.stderr and "cannot reach" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_a_corrupted_store_file_is_refused(tmp_path: Path, zones: tuple[Path, Path]) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"garbage" * 1000)
    done = cli("check", "--zone-file", str(zones[0]), "--store", str(db), "shop.example")
    assert done.returncode == 2 and "not a usable SQLite database" in done.stderr


def test_bulk_records_and_import_adds_nothing_twice(store_url: str, tmp_path: Path) -> None:
    n = 40
    (tmp_path / "z.zone").write_text(many_domains_zone(n))
    (tmp_path / "list.txt").write_text("".join(f"d{i}.example\n" for i in range(n)))
    out = tmp_path / "out"
    done = cli(
        "bulk",
        str(tmp_path / "list.txt"),
        "-o",
        str(out),
        "--zone-file",
        str(tmp_path / "z.zone"),
        "--store",
        store_url,
    )
    assert done.returncode == 0, done.stderr
    assert f"recorded {n} audits" in done.stderr
    again = cli("history", "import", str(out / "results.jsonl"), "--store", store_url)
    assert again.returncode == 0 and f"0 audits recorded, {n} already" in again.stderr
    store = open_store(store_url)
    assert store.stored_bytes()["audits"] == n and len(store.runs()) == 1
    store.close()


def test_two_bulk_runs_recording_at_once_lose_and_double_nothing(
    store_url: str, tmp_path: Path
) -> None:
    n = 60
    (tmp_path / "z.zone").write_text(many_domains_zone(n))
    (tmp_path / "list.txt").write_text("".join(f"d{i}.example\n" for i in range(n)))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mailauth_audit",
                "bulk",
                str(tmp_path / "list.txt"),
                "-o",
                str(tmp_path / f"out{k}"),
                "--zone-file",
                str(tmp_path / "z.zone"),
                "--store",
                store_url,
                "--no-progress",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    store = open_store(store_url)
    runs = store.runs()
    assert len(runs) == 2 and all(r["audits"] == n for r in runs)
    assert store.stored_bytes()["audits"] == 2 * n
    for i in (0, n - 1):
        assert len(store.audits_of(f"d{i}.example")) == 2
    store.close()


def test_alerts_deliver_to_a_webhook_with_the_secret_from_the_environment(
    store_url: str, zones: tuple[Path, Path], tmp_path: Path
) -> None:
    import hashlib
    import hmac

    from alert_servers import WebhookServer

    for z in zones:
        assert (
            cli("check", "--zone-file", str(z), "--store", store_url, "shop.example").returncode
            == 0
        )
    env = {"MAILAUTH_AUDIT_WEBHOOK_SECRET": "from-env"}
    with WebhookServer("ok") as hook:
        done = cli("alerts", "--webhook", hook.url, "--store", store_url, env=env)
        assert done.returncode == 0, done.stderr
        assert "0 failed" in done.stderr and hook.received
        headers, body = hook.received[0]
        expected = hmac.new(b"from-env", body, hashlib.sha256).hexdigest()
        assert headers["x-mailauth-audit-signature"] == "sha256=" + expected
        sent = len(hook.received)
        assert cli("alerts", "--webhook", hook.url, "--store", store_url, env=env).returncode == 0
        assert len(hook.received) == sent  # each event once
    page = tmp_path / "h.html"
    made = cli("history", "shop.example", "--store", store_url, "-f", "html", "-o", str(page))
    assert made.returncode == 0 and "<svg" in page.read_text()
