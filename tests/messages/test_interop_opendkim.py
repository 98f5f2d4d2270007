"""Independent signers, our verifier: OpenDKIM (Debian's `opendkim` in test mode) signs, the
RFC 8463 Appendix A message, and the stalwartlabs/mail-auth DKIM and ARC fixtures.

Conformance data is read from ../shared/conformance/ (skipped when absent, never copied).
`opendkim-testmsg` is not used to sign: version 2.11.0 prints the tail of b= twice (a
corrupted signature), while `opendkim -t` prints the header it would add correctly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from verify_helpers import DOMAIN, SELECTOR, key_zone_line, message, rsa_key, zone

from mailauth_audit.messages.model import AuthResult, BodyHashResult
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.resolver.static import StaticResolver

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
RFC8463 = CONFORMANCE / "rfc8463"
MAIL_AUTH = CONFORMANCE / "mail-auth" / "resources"
OPENDKIM = shutil.which("opendkim") or (
    "/usr/sbin/opendkim" if Path("/usr/sbin/opendkim").exists() else None
)


def _need_opendkim() -> str:
    if OPENDKIM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("opendkim is not installed (CI must install it: see .ci/run)")
        pytest.skip("opendkim is not installed")
    return OPENDKIM


def opendkim_sign(tmp_path: Path, msg: bytes, algorithm: str, canon: str) -> bytes:
    """The message with the DKIM-Signature OpenDKIM adds, from `opendkim -t` (test mode)."""
    binary = _need_opendkim()
    work = tmp_path / "opendkim"
    work.mkdir(mode=0o700)
    key = work / "key.pem"
    key.write_bytes(rsa_key().private_pem())
    key.chmod(0o600)
    eml = work / "m.eml"
    eml.write_bytes(msg.replace(b"\r\n", b"\n"))
    conf = work / "opendkim.conf"
    conf.write_text(
        f"Mode s\nDomain {DOMAIN}\nSelector {SELECTOR}\nKeyFile {key}\n"
        f"SignatureAlgorithm {algorithm}\nCanonicalization {canon}\nSyslog no\n"
        "RequireSafeKeys no\n"
    )
    done = subprocess.run(
        [binary, "-x", str(conf), "-t", str(eml), "-b", "s", "-v"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    out = (done.stdout + done.stderr).decode()
    assert done.returncode == 0 and "DKIM-Signature:" in out, out
    start = out.index("DKIM-Signature:")
    header_lines = []
    for line in out[start:].splitlines():
        if header_lines and not line.startswith(("\t", " ")):
            break
        header_lines.append(line)
    return ("\r\n".join(header_lines) + "\r\n").encode() + msg


@pytest.mark.parametrize(
    ("algorithm", "canon"),
    [
        ("rsa-sha256", "relaxed/relaxed"),
        ("rsa-sha256", "simple/simple"),
        ("rsa-sha256", "relaxed/simple"),
        ("rsa-sha1", "simple/relaxed"),
    ],
)
def test_opendkim_signs_we_verify(tmp_path: Path, algorithm: str, canon: str) -> None:
    raw = opendkim_sign(tmp_path, message(), algorithm, canon)
    report = verify_message_sync(raw, StaticResolver(zone(key_zone_line(rsa_key()))))
    sig = report.dkim[0]
    assert (sig.result, sig.reason) == (AuthResult.PASS, None)
    assert (sig.algorithm, sig.canonicalization) == (algorithm, canon)
    assert "from" in sig.signed_headers
    assert ("dkim_sig.sha1" in {f.code for f in report.findings}) is (algorithm == "rsa-sha1")


def test_opendkim_signature_detects_tampering(tmp_path: Path) -> None:
    raw = opendkim_sign(tmp_path, message(), "rsa-sha256", "relaxed/relaxed")
    report = verify_message_sync(
        raw.replace(b"This is a test.", b"This is not a test."),
        StaticResolver(zone(key_zone_line(rsa_key()))),
    )
    assert (report.dkim[0].result, report.dkim[0].body_hash) == (
        AuthResult.FAIL,
        BodyHashResult.FAIL,
    )


# --- RFC 8463 Appendix A -------------------------------------------------------------------


@pytest.mark.skipif(not RFC8463.is_dir(), reason="RFC 8463 vectors not present")
def test_rfc8463_example_verifies() -> None:
    expected = json.loads((RFC8463 / "expected.json").read_text())
    raw = (RFC8463 / "signed.eml").read_bytes()
    report = verify_message_sync(raw, StaticResolver((RFC8463 / "zone.txt").read_text()))
    assert len(report.dkim) == len(expected["signatures"])
    for sig, want in zip(report.dkim, expected["signatures"], strict=True):
        assert sig.index == want["index"]
        assert (sig.algorithm, sig.canonicalization, sig.domain, sig.selector) == (
            want["a"],
            want["c"],
            want["d"],
            want["s"],
        )
        assert sig.key_record_name == want["key_record"]
        assert sig.result.value == want["expected"], sig.reason
        assert sig.timestamp == expected["signing_time_t"]
    assert report.dkim[0].key_type == "ed25519"
    assert report.dkim[1].key_bits == 1024


@pytest.mark.skipif(not RFC8463.is_dir(), reason="RFC 8463 vectors not present")
def test_rfc8463_example_tampered_fails() -> None:
    raw = (RFC8463 / "signed.eml").read_bytes().replace(b"We lost", b"We won")
    report = verify_message_sync(raw, StaticResolver((RFC8463 / "zone.txt").read_text()))
    assert [s.body_hash for s in report.dkim] == [BodyHashResult.FAIL] * 2


# --- stalwartlabs/mail-auth fixtures: records, a blank line, the message ---------------------


def _mail_auth(path: Path) -> tuple[StaticResolver, bytes]:
    records, _, msg = path.read_bytes().partition(b"\n\n")
    lines = []
    for line in records.decode().splitlines():
        name, _, value = line.partition(" ")
        chunks = [value[i : i + 200] for i in range(0, len(value), 200)]
        lines.append(f"{name}. 300 IN TXT " + " ".join(f'"{c}"' for c in chunks))
    raw = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return StaticResolver("\n".join(lines) + "\n"), raw


MAIL_AUTH_DKIM = ["001.txt", "002.txt", "003.txt", "004.txt", "006.txt"]


@pytest.mark.skipif(not MAIL_AUTH.is_dir(), reason="mail-auth fixtures not present")
@pytest.mark.parametrize("name", MAIL_AUTH_DKIM)
def test_mail_auth_dkim_fixtures_pass(name: str) -> None:
    resolver, raw = _mail_auth(MAIL_AUTH / "dkim" / name)
    report = verify_message_sync(raw, resolver)
    assert report.dkim
    assert all(s.result is AuthResult.PASS for s in report.dkim), [s.reason for s in report.dkim]


@pytest.mark.skipif(not MAIL_AUTH.is_dir(), reason="mail-auth fixtures not present")
def test_mail_auth_expired_signature_fixture() -> None:
    # 005 carries x=, long past: a correct signature that has expired (RFC 6376 §3.5)
    resolver, raw = _mail_auth(MAIL_AUTH / "dkim" / "005.txt")
    sig = verify_message_sync(raw, resolver).dkim[0]
    assert sig.expiration is not None and sig.expiration < time.time()
    assert (sig.result, sig.reason) == (AuthResult.FAIL, "signature expired")


@pytest.mark.skipif(not MAIL_AUTH.is_dir(), reason="mail-auth fixtures not present")
@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("001.txt", AuthResult.PASS),
        # sealed with ed25519-sha256, which RFC 8617 §4.1.3 does not allow for ARC
        ("002.txt", AuthResult.FAIL),
    ],
)
def test_mail_auth_arc_fixtures(name: str, result: AuthResult) -> None:
    resolver, raw = _mail_auth(MAIL_AUTH / "arc" / name)
    arc = verify_message_sync(raw, resolver).arc
    assert arc is not None and arc.result is result, arc.reason
