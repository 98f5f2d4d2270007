"""`--zone-file`, `--origin` and `--authoritative` end to end: a real process, real nsd.

The draft-zone cases need no server except where names outside the files are asked of a
nameserver. The --authoritative case runs two nsd: a stale copy of the zone acting as the
configured resolver, and the zone's own server (its NS record points at 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from mailauth_audit.report.schema import committed_schema

SOA = "ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300"
# what named.conf would load with `zone "example.com" { file ...; }`: no $ORIGIN
DRAFT = f"""$TTL 3600
example.com. IN SOA {SOA}
@        IN NS  ns1
@        IN MX  10 mail
mail     IN A   192.0.2.25
@        IN TXT "v=spf1 mx include:_spf.provider.example -all"
_dmarc   IN TXT "v=DMARC1; p=reject"
"""
PROVIDER = """$ORIGIN provider.example.
$TTL 300
@        IN SOA ns1.provider.example. h.provider.example. 1 3600 600 86400 300
@        IN NS  ns1
ns1      IN A   127.0.0.1
_spf     IN TXT "v=spf1 ip4:198.51.100.0/24 -all"
"""
COM = """$ORIGIN com.
$TTL 300
@        IN SOA ns1.provider.example. h.provider.example. 1 3600 600 86400 300
@        IN NS  ns1.provider.example.
"""
NsdFactory = Callable[..., tuple[str, int]]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def report(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    jsonschema.validate(data, committed_schema())
    return data  # type: ignore[no-any-return]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {c: v["status"] for c, v in doc["domains"][0]["checks"].items()}


def test_bind_zone_without_origin_is_read_under_its_soa_owner(tmp_path: Path) -> None:
    # Given a BIND zone without $ORIGIN (before: read against the root, "no MX / no SPF /
    # no DMARC", grade F, exit 0) and its provider's zone in a second file
    draft = write(tmp_path, "example.com.zone", DRAFT)
    provider = write(tmp_path, "provider.zone", PROVIDER)
    out = tmp_path / "r.json"
    res = cli("check", "--zone-file", str(draft), "--zone-file", str(provider),
              "--format", "json", "-o", str(out), "example.com")  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = report(out)
    checks = statuses(doc)
    assert checks["mx"] == "pass" and checks["spf"] == "pass"
    # the DMARC tree walk (RFC 9989) reaches _dmarc.com, which no file holds: not checked,
    # and said so; _dmarc.example.com decides the policy whatever _dmarc.com holds, so the
    # check completes with the failed lookup as a note
    dmarc = doc["domains"][0]["checks"]["dmarc"]
    assert dmarc["status"] != "error"
    notes = [f for f in dmarc["findings"] if f["code"] == "dmarc.tree_walk_lookup_failed"]
    assert len(notes) == 1 and notes[0]["severity"] == "info"
    assert "_dmarc.com" in notes[0]["detail"] and "outside the zone file" in notes[0]["detail"]
    # And the report cites both files by path and SHA-256
    p = doc["provenance"]
    assert p["mode"] == "draft"
    assert [(s["path"], s["sha256"]) for s in p["sources"]] == [
        (str(f), hashlib.sha256(f.read_bytes()).hexdigest()) for f in (draft, provider)
    ]


def test_undeterminable_origin_is_a_usage_error_naming_the_fix(tmp_path: Path) -> None:
    draft = write(tmp_path, "draft.zone", DRAFT.replace("example.com. IN SOA", "@ IN SOA"))
    res = cli("check", "--zone-file", str(draft), "example.com")
    assert res.returncode == 2
    assert "$ORIGIN" in res.stderr and "--origin" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    # And --origin supplies it
    res = cli("check", "--zone-file", str(draft), "--origin", "example.com",
              "--checks", "mx", "example.com")  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r"MX +pass", res.stdout)


def test_the_same_zone_in_two_files_is_a_usage_error(tmp_path: Path) -> None:
    a = write(tmp_path, "a.zone", DRAFT)
    b = write(
        tmp_path, "b.zone", "$ORIGIN example.com.\n" + DRAFT.replace("example.com. IN", "@ IN")
    )
    res = cli("check", "--zone-file", str(a), "--zone-file", str(b), "example.com")
    assert res.returncode == 2
    assert "example.com is defined in both" in res.stderr


def test_names_outside_the_files_are_not_checked(tmp_path: Path) -> None:
    draft = write(tmp_path, "example.com.zone", DRAFT)
    out = tmp_path / "r.json"
    res = cli("check", "--zone-file", str(draft), "--format", "json", "-o", str(out),
              "example.com", "other.test")  # fmt: skip
    assert res.returncode == 3, res.stderr
    doc = report(out)
    # the include target is outside: SPF could not be checked (never "no record")
    spf = doc["domains"][0]["checks"]["spf"]
    assert spf["status"] == "error" and spf["error"]["reason"] == "outside_zone_file"
    assert doc["domains"][0]["checks"]["mx"]["status"] == "pass"
    other = doc["domains"][1]
    for check in other["checks"].values():
        # the probe checks need the MX hosts: they name the MX check's reason as theirs
        reason = check["error"]["reason"]
        assert check["status"] == "error" and reason in ("outside_zone_file", "dependency_failed")
        assert "outside_zone_file" in check["error"]["message"] or reason == "outside_zone_file"
    assert other["score"]["grade"] is None
    text = cli("check", "--zone-file", str(draft), "other.test").stdout
    assert "outside the zone file(s): not checked" in text
    assert "no record" not in text and "DRAFT" in text


def test_outside_names_are_asked_of_the_nameserver(tmp_path: Path, nsd_server: NsdFactory) -> None:
    # Given a draft of my zone, and my provider's live zone behind --nameserver
    host, port = nsd_server({"provider.example": PROVIDER, "com": COM})
    draft = write(tmp_path, "example.com.zone", DRAFT)
    out = tmp_path / "r.json"
    res = cli("check", "--zone-file", str(draft), "--nameserver", f"{host}:{port}",
              "--format", "json", "-o", str(out), "example.com")  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = report(out)
    assert statuses(doc)["spf"] == "pass" and statuses(doc)["dmarc"] in ("pass", "warn")
    kinds = [(s["kind"], s["address"]) for s in doc["provenance"]["sources"]]
    assert kinds == [("zone_file", None), ("resolver", f"{host}:{port}")]
    assert f"asked from {host}:{port}" in doc["provenance"]["note"]


def test_bulk_accepts_zone_files(tmp_path: Path) -> None:
    draft = write(tmp_path, "example.com.zone", DRAFT)
    provider = write(tmp_path, "provider.zone", PROVIDER)
    domains = write(tmp_path, "list.txt", "example.com\nother.test\n")
    out = tmp_path / "bulk"
    res = cli("bulk", str(domains), "-o", str(out), "--no-progress",
              "--zone-file", str(draft), "--zone-file", str(provider))  # fmt: skip
    assert res.returncode == 3, res.stderr  # other.test is outside the files
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["mode"] == "draft"
    assert [s["path"] for s in summary["provenance"]["sources"]] == [str(draft), str(provider)]
    assert summary["errors"]["mx"] == {"outside_zone_file": 1}
    bad = write(tmp_path, "bad.zone", "@ IN SOA " + SOA + "\nwww IN A 192.0.2.1\n")
    res = cli("bulk", str(domains), "-o", str(tmp_path / "b2"), "--zone-file", str(bad))
    assert res.returncode == 2 and "--origin" in res.stderr


# --- --authoritative -------------------------------------------------------------------

FRESH = """$ORIGIN example.
$TTL 300
@        IN SOA ns1.example. h.example. 2 3600 600 86400 300
@        IN NS  ns1.example.
ns1      IN A   127.0.0.1
shop     IN MX  10 mx.shop.example.
mx.shop  IN A   192.0.2.25
shop     IN TXT "v=spf1 mx -all"
_dmarc.shop IN TXT "v=DMARC1; p=reject"
"""
STALE = FRESH.replace(" 2 3600", " 1 3600").replace("p=reject", "p=none")


def test_authoritative_asks_the_zones_own_server(tmp_path: Path, nsd_server: NsdFactory) -> None:
    # Given the zone's server with the new record, and a resolver still serving the old one
    _, fresh_port = nsd_server({"example": FRESH})
    stale_host, stale_port = nsd_server({"example": STALE})
    resolver = f"{stale_host}:{stale_port}"

    def policy(*extra: str) -> tuple[str, dict[str, Any]]:
        out = tmp_path / f"r{len(extra)}.json"
        res = cli("check", "--nameserver", resolver, *extra, "--format", "json",
                  "-o", str(out), "shop.example")  # fmt: skip
        assert res.returncode in (0, 1), res.stderr
        doc = report(out)
        return doc["domains"][0]["checks"]["dmarc"]["result"]["policy"], doc["provenance"]

    # When asked through the resolver, the stale answer; with --authoritative the fresh one
    assert policy()[0] == "none"
    found, provenance = policy("--authoritative", "--authoritative-port", str(fresh_port))
    assert found == "reject"
    # And the report names the server that answered
    auth = [s for s in provenance["sources"] if s["kind"] == "authoritative"]
    assert auth and auth[0]["address"] == f"127.0.0.1:{fresh_port}"
    assert auth[0]["zones"] == ["example"] and auth[0]["answers"] > 0
    assert provenance["mode"] == "live"
    text = cli("check", "--nameserver", resolver, "--authoritative", "--authoritative-port",
               str(fresh_port), "--format", "html", "-o", str(tmp_path / "p.html"),
               "shop.example")  # fmt: skip
    assert text.returncode in (0, 1), text.stderr
    page = (tmp_path / "p.html").read_text()
    assert f"authoritative server 127.0.0.1:{fresh_port}" in page and "DRAFT" not in page
