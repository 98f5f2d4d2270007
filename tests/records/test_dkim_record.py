"""DKIM key record parser: grammar, key analysis with real keys, hostile text."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st
from shared_data import conformance_path, require_conformance

from mailauth_audit.records.dkim import DkimKeyRecord, looks_like_dkim_key, parse_dkim_key
from mailauth_audit.records.errors import RecordSyntaxError

RFC8463_ZONE = conformance_path("rfc8463", "zone.txt")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# cryptography refuses to *generate* RSA keys under 1024 bits, but a public key is only
# (n, e): a 512-bit odd modulus is enough to test how short keys are measured.
RSA_512 = rsa.RSAPublicNumbers(65537, (1 << 511) | 0x1234567).public_key()
RSA_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
RSA_2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
ED25519 = ed25519.Ed25519PrivateKey.generate().public_key()
ED25519_RAW = ED25519.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize(
    ("key", "bits"), [(RSA_512, 512), (RSA_1024, 1024), (RSA_2048, 2048)], ids=str
)
def test_rsa_key_bits_come_from_the_key(key: rsa.RSAPublicKey, bits: int) -> None:
    record = parse_dkim_key(f"v=DKIM1; k=rsa; p={_b64(_spki(key))}")
    assert record.key_bits == bits
    assert record.key_format == "spki"
    assert record.key_error is None
    assert not record.revoked


def test_bare_rsapublickey_der_is_accepted_and_noted() -> None:
    pkcs1 = RSA_2048.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    record = parse_dkim_key(f"v=DKIM1; p={_b64(pkcs1)}")
    assert (record.key_bits, record.key_format, record.key_error) == (2048, "pkcs1", None)


def test_ed25519_raw_key() -> None:
    record = parse_dkim_key(f"v=DKIM1; k=ed25519; p={_b64(ED25519_RAW)}")
    assert (record.key_type, record.key_bits, record.key_format) == ("ed25519", 256, "raw")
    assert record.key_error is None


def test_rfc8463_appendix_records_parse() -> None:
    # The RFC's own records, read from the shared conformance data
    require_conformance("rfc8463", "zone.txt")
    values = re.findall(r'"([^"]*)"', RFC8463_ZONE.read_text())
    records = [parse_dkim_key(v) for v in values]
    by_type = {r.key_type: r for r in records}
    assert by_type["ed25519"].key_bits == 256 and by_type["ed25519"].key_error is None
    assert by_type["rsa"].key_bits == 1024 and by_type["rsa"].key_error is None


def test_whitespace_inside_p_is_folding_not_data() -> None:
    b64 = _b64(_spki(RSA_1024))
    folded = " ".join(b64[i : i + 40] for i in range(0, len(b64), 40))
    record = parse_dkim_key(f"v=DKIM1;\tk=rsa;  p= {folded} ")
    assert record.public_key_b64 == b64
    assert record.key_bits == 1024


def test_defaults_when_tags_are_absent() -> None:
    record = parse_dkim_key(f"p={_b64(_spki(RSA_1024))}")
    assert record.version is None
    assert record.key_type == "rsa"
    assert record.hash_algorithms == () and record.service_types == () and record.flags == ()
    assert not record.testing and not record.strict_subdomains


def test_all_tags_are_read() -> None:
    record = parse_dkim_key(
        f"v=DKIM1; k=RSA; h=sha256:SHA1; s=email; t=y:s:x; n=rotated=2026; "
        f"zz=ignored; p={_b64(_spki(RSA_1024))}"
    )
    assert record.key_type == "rsa"
    assert record.hash_algorithms == ("sha256", "sha1")
    assert record.service_types == ("email",)
    assert record.flags == ("y", "s", "x")
    assert record.testing and record.strict_subdomains
    assert record.notes == "rotated=2026"
    assert record.unknown_tags == ("zz",)


@pytest.mark.parametrize("text", ["v=DKIM1; p=", "v=DKIM1; k=rsa; p= ;", "p="])
def test_empty_p_means_revoked(text: str) -> None:
    record = parse_dkim_key(text)
    assert record.revoked
    assert record.key_bits is None and record.key_error is None


def test_unknown_key_type_is_kept_not_analysed() -> None:
    record = parse_dkim_key(f"v=DKIM1; k=dsa; p={_b64(_spki(RSA_1024))}")
    assert record.key_type == "dsa"
    assert not record.key_type_known
    assert record.key_bits is None and record.key_error is None


_RSA_DER = _spki(RSA_2048)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        # truncated key whose base64 is still whole (cut on a 4-character boundary)
        (f"p={_b64(_RSA_DER)[:200]}", "not a DER-encoded RSA public key"),
        # truncated mid-quantum, as when a TXT string is cut off
        (f"p={_b64(_RSA_DER)[:201]}", "truncated or unpadded"),
        (f"p={_b64(b'hello world, not a key')}", "not a DER-encoded RSA public key"),
        (f"k=rsa; p={_b64(_spki(ED25519))}", "Ed25519 key, but the record says k=rsa"),
        (
            f"p={_b64(_spki(ec.generate_private_key(ec.SECP256R1()).public_key()))}",
            "but the record says k=rsa",
        ),
        (f"k=ed25519; p={_b64(ED25519_RAW[:31])}", "exactly 32 bytes"),
        (f"k=ed25519; p={_b64(_spki(ED25519))}", "SubjectPublicKeyInfo"),
        (f"k=ed25519; p={_b64(_RSA_DER)}", "exactly 32 bytes"),
    ],
)
def test_corrupt_keys_become_key_error_not_exceptions(text: str, fragment: str) -> None:
    record = parse_dkim_key(text)
    assert record.key_error is not None and fragment in record.key_error
    assert record.key_bits is None


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("k=rsa; p=abc; k=rsa", 14, "duplicate tag 'k'"),
        ("k=rsa; v=DKIM1; p=", 7, "first tag"),
        ("v=DKIM2; p=", 2, "DKIM1"),
        ("v=dkim1; p=", 2, "DKIM1"),
        ("v=DKIM1; k=rsa", 14, "missing required p="),
        ("", 0, "missing required p="),
        ("v=DKIM1; p=ab!c", 13, "not base64"),
        ("p=abc=def", 5, "not base64"),
        ("p=abcd===", 8, "not base64"),
        ("v=DKIM1; hello; p=", 9, "no '='"),
        ("v=DKIM1; 9x=1; p=", 9, "invalid tag name"),
        ("v=DKIM1; =1; p=", 9, "invalid tag name"),
        ("v=DKIM1; n=caf\u00e9; p=", 14, "not allowed"),
        ("v=DKIM1; p=\x00abc", 11, "not allowed"),
    ],
)
def test_syntax_errors_carry_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(RecordSyntaxError) as info:
        parse_dkim_key(text)
    assert fragment in info.value.message
    assert info.value.position == position


def test_fixture_hostile_record_is_a_syntax_error() -> None:
    # What the fixture zone's hostile.example publishes, after TXT decoding
    text = "v=DKIM1; p=\ufffd\ufffd\x00\x01<b>not-base64</b>"
    with pytest.raises(RecordSyntaxError) as info:
        parse_dkim_key(text)
    assert info.value.position == 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DKIM1; p=abc", True),
        ("v = DKIM1; p=", True),
        ("v=DKIM2; p=", True),
        ("k=rsa; p=abc", True),
        ("p=", True),
        ("t=y; p=abc", True),
        ("v=spf1 include:_spf.example.com -all", False),
        ("v=DMARC1; p=reject", False),
        ("google-site-verification=abc123", False),
        ("some text; with=semicolons", False),
        ("", False),
    ],
)
def test_looks_like_dkim_key(text: str, expected: bool) -> None:
    assert looks_like_dkim_key(text) is expected


@given(st.text(max_size=300))
def test_any_text_gives_a_record_or_a_syntax_error(text: str) -> None:
    try:
        record = parse_dkim_key(text)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert isinstance(record, DkimKeyRecord)


_TAG_ALPHABET = st.sampled_from(
    ["v=DKIM1", "k=rsa", "k=ed25519", "h=sha1", "t=y", "s=*", "p=", "p=AAAA", "p=MIIB", "n= x "]
)


@given(st.lists(_TAG_ALPHABET, max_size=6), st.binary(max_size=64))
def test_tag_soup_and_random_keys_never_crash(tags: list[str], key: bytes) -> None:
    text = "; ".join([*tags, f"p={_b64(key)}"])
    try:
        record = parse_dkim_key(text)
    except RecordSyntaxError:
        return
    assert record.revoked == (record.public_key_b64 == "")
    if record.key_bits is not None:
        assert record.key_error is None
