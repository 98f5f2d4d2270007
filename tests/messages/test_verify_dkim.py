"""DKIM verification of every signature: each failure mode gets its own result and finding,
never an exception (RFC 6376 §6.1, RFC 8301, RFC 8463)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from verify_helpers import (
    DOMAIN,
    SELECTOR,
    ed_key,
    key_zone_line,
    message,
    rsa_key,
    sign,
    zone,
)

from mailauth_audit.errors import DnsServfail, DnsTimeout
from mailauth_audit.messages.keys import DkimPrivateKey, txt_zone_line
from mailauth_audit.messages.model import AuthResult, BodyHashResult, MessageReport
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.resolver.static import StaticResolver

KEY_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
NOW = int(time.time())


def verify(raw: bytes, zone_text: str, **kw: object) -> MessageReport:
    return verify_message_sync(raw, StaticResolver(zone_text, **kw))  # type: ignore[arg-type]


def codes(report: MessageReport) -> set[str]:
    return {f.code for f in report.findings}


def _good() -> tuple[bytes, str]:
    return sign(message(), rsa_key()), zone(key_zone_line(rsa_key()))


def _tampered_body() -> tuple[bytes, str]:
    raw, z = _good()
    return raw.replace(b"This is a test.", b"This is a TEST!"), z


def _tampered_header() -> tuple[bytes, str]:
    raw, z = _good()
    return raw.replace(b"Subject: Test message", b"Subject: Changed"), z


def _wrong_key() -> tuple[bytes, str]:
    return sign(message(), rsa_key(2048, 1)), zone(key_zone_line(rsa_key()))


def _revoked() -> tuple[bytes, str]:
    return sign(message(), rsa_key()), zone(f'{KEY_NAME}. 300 IN TXT "v=DKIM1; k=rsa; p="')


def _missing_key() -> tuple[bytes, str]:
    return sign(message(), rsa_key()), zone('other 300 IN TXT "x"')


def _expired() -> tuple[bytes, str]:
    raw = sign(message(), rsa_key(), t=NOW - 3 * 86400, x=NOW - 2 * 86400)
    return raw, zone(key_zone_line(rsa_key()))


def _small_key() -> tuple[bytes, str]:
    return sign(message(), rsa_key(512)), zone(key_zone_line(rsa_key(512)))


def _garbage_key() -> tuple[bytes, str]:
    return sign(message(), rsa_key()), zone(f'{KEY_NAME}. 300 IN TXT "v=DKIM1; p=AAAA"')


def _broken_signature() -> tuple[bytes, str]:
    raw, z = _good()
    return b"DKIM-Signature: v=1; a=rsa-sha256; d=" + DOMAIN.encode() + b"\r\n" + raw[
        raw.index(b"From:") :
    ], z


CASES: dict[str, tuple[Callable[[], tuple[bytes, str]], AuthResult, BodyHashResult, str | None]] = {
    "good": (_good, AuthResult.PASS, BodyHashResult.PASS, None),
    "tampered_body": (
        _tampered_body,
        AuthResult.FAIL,
        BodyHashResult.FAIL,
        "dkim_sig.body_hash_mismatch",
    ),
    "tampered_signed_header": (
        _tampered_header,
        AuthResult.FAIL,
        BodyHashResult.PASS,
        "dkim_sig.fail",
    ),
    "wrong_key": (_wrong_key, AuthResult.FAIL, BodyHashResult.PASS, "dkim_sig.fail"),
    "revoked_key": (
        _revoked,
        AuthResult.PERMERROR,
        BodyHashResult.NOT_CHECKED,
        "dkim_sig.key_revoked",
    ),
    "missing_key": (
        _missing_key,
        AuthResult.PERMERROR,
        BodyHashResult.NOT_CHECKED,
        "dkim_sig.key_missing",
    ),
    "expired": (_expired, AuthResult.FAIL, BodyHashResult.NOT_CHECKED, "dkim_sig.expired"),
    "512_bit_key": (
        _small_key,
        AuthResult.PERMERROR,
        BodyHashResult.NOT_CHECKED,
        "dkim_sig.permerror",
    ),
    "unusable_key": (
        _garbage_key,
        AuthResult.PERMERROR,
        BodyHashResult.NOT_CHECKED,
        "dkim_sig.permerror",
    ),
    "missing_tags": (
        _broken_signature,
        AuthResult.PERMERROR,
        BodyHashResult.NOT_CHECKED,
        "dkim_sig.permerror",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_failure_mode_has_its_result(case: str) -> None:
    build, result, body_hash, code = CASES[case]
    raw, z = build()
    report = verify(raw, z)
    assert len(report.dkim) == 1
    sig = report.dkim[0]
    assert sig.result is result, sig.reason
    assert sig.body_hash is body_hash
    if code is None:
        assert not {c for c in codes(report) if c.startswith("dkim_sig.")}
        assert sig.reason is None
    else:
        assert code in codes(report)
        assert sig.reason


def test_pass_reports_the_signature_facts() -> None:
    raw = sign(message(), rsa_key(), headers=("from", "from", "subject", "date"))
    sig = verify(raw, zone(key_zone_line(rsa_key()))).dkim[0]
    assert (sig.domain, sig.selector, sig.algorithm) == (DOMAIN, SELECTOR, "rsa-sha256")
    assert sig.canonicalization == "relaxed/relaxed"
    assert sig.signed_headers == ("from", "from", "subject", "date")
    assert (sig.key_type, sig.key_bits) == ("rsa", 2048)
    assert sig.key_record_name == KEY_NAME
    assert sig.covers_from


def test_ed25519_signature_passes() -> None:
    raw = sign(message(), ed_key())
    sig = verify(raw, zone(key_zone_line(ed_key()))).dkim[0]
    assert (sig.result, sig.algorithm, sig.key_type) == (
        AuthResult.PASS,
        "ed25519-sha256",
        "ed25519",
    )


@pytest.mark.parametrize("fault", [DnsTimeout, DnsServfail])
def test_dns_failure_is_temperror(fault: type) -> None:
    raw, z = _good()
    report = verify(raw, z, faults={KEY_NAME: fault})
    assert report.dkim[0].result is AuthResult.TEMPERROR
    assert "dkim_sig.temperror" in codes(report)


def test_every_signature_is_verified_not_only_the_first() -> None:
    # Given a message signed by a good ed25519 key, then by an RSA key that is not published
    inner = sign(message(), ed_key())
    raw = sign(inner, rsa_key(2048, 1), selector="gone")
    report = verify(raw, zone(key_zone_line(ed_key())))
    # Then both are reported, topmost first, each with its own result
    assert [(s.index, s.selector, s.result) for s in report.dkim] == [
        (0, "gone", AuthResult.PERMERROR),
        (1, SELECTOR, AuthResult.PASS),
    ]
    # and the broken extra signature is not a high finding when another one passes
    missing = next(f for f in report.findings if f.code == "dkim_sig.key_missing")
    assert missing.severity.value == "medium"
    assert report.dmarc is not None and report.dmarc.dkim_domains == (DOMAIN,)


def test_unsigned_message() -> None:
    report = verify(message(), zone())
    assert report.dkim == ()
    assert "dkim_sig.none" in codes(report)
    assert "dkim=none" in report.authentication_results


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"length": True}, "dkim_sig.body_length_limit"),
        ({"headers": ("to", "subject", "date")}, None),  # dkimpy refuses: From must be signed
    ],
)
def test_risky_signature_options(kwargs: dict[str, object], code: str | None) -> None:
    import dkim

    try:
        raw = sign(message(), rsa_key(), **kwargs)  # type: ignore[arg-type]
    except dkim.ParameterError:
        assert code is None
        return
    report = verify(raw, zone(key_zone_line(rsa_key())))
    assert report.dkim[0].result is AuthResult.PASS
    assert code in codes(report)


def test_signature_without_from_is_flagged() -> None:
    # Given a signature whose h= leaves out From (hand-edited: signers refuse to make one)
    raw, z = _good()
    raw = raw.replace(b"h=from : to", b"h=to", 1)
    report = verify(raw, z)
    assert report.dkim[0].result is AuthResult.FAIL  # the edit breaks the signature
    assert "dkim_sig.from_not_signed" in codes(report)


def test_weak_key_is_a_finding_but_passes() -> None:
    raw = sign(message(), rsa_key(1024))
    report = verify(raw, zone(key_zone_line(rsa_key(1024))))
    assert report.dkim[0].result is AuthResult.PASS
    assert "dkim_sig.weak_key" in codes(report)


def _key_line(public: DkimPrivateKey, k: str | None, extra: str = "") -> str:
    """The key record of `public` with k= set to `k` (omitted when None)."""
    tag = f"k={k}; " if k is not None else ""
    return txt_zone_line(KEY_NAME, f"v=DKIM1; {tag}{extra}p={public.public_key_b64()}")


@pytest.mark.parametrize(
    ("signer", "public", "k"),
    [
        ("ed25519", "rsa", "rsa"),  # a valid RSA key, but the signature is ed25519
        ("ed25519", "rsa", None),  # k= defaults to rsa
        ("ed25519", "ed25519", "rsa"),  # the right key bytes under the wrong k=
        ("rsa", "ed25519", "ed25519"),
        ("rsa", "rsa", "ed25519"),
    ],
)
def test_key_type_not_matching_the_signature_algorithm_is_permerror(
    signer: str, public: str, k: str | None
) -> None:
    # RFC 6376 §6.1.2: a key record whose k= is not the algorithm of the signature's a= is
    # ignored, with PERMFAIL "inappropriate key algorithm"; never "fail (wrong key)".
    keys = {"rsa": rsa_key(), "ed25519": ed_key()}
    raw = sign(message(), keys[signer])
    report = verify(raw, zone(_key_line(keys[public], k)))
    sig = report.dkim[0]
    assert sig.result is AuthResult.PERMERROR, sig.reason
    assert (sig.reason or "").startswith("inappropriate key algorithm"), sig.reason
    assert "dkim_sig.key_algorithm_mismatch" in codes(report)
    assert "dkim_sig.fail" not in codes(report)


def test_key_hash_list_without_the_signature_hash_is_permerror() -> None:
    # RFC 6376 §6.1.2 step 6: h= in the key record lists the hashes the key may be used with
    raw = sign(message(), rsa_key())
    report = verify(raw, zone(_key_line(rsa_key(), "rsa", "h=sha1; ")))
    sig = report.dkim[0]
    assert sig.result is AuthResult.PERMERROR
    assert (sig.reason or "").startswith("inappropriate hash algorithm"), sig.reason
    ok = verify(raw, zone(_key_line(rsa_key(), "rsa", "h=sha1:sha256; ")))
    assert ok.dkim[0].result is AuthResult.PASS, ok.dkim[0].reason
