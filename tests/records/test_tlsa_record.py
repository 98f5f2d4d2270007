"""TLSA records (RFC 6698) and DANE-for-SMTP matching (RFC 7672) against real certificates
made in the test with trustme and cryptography."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from functools import cache

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.tlsa import (
    TlsaRecord,
    TlsaUsage,
    parse_tlsa,
    tlsa_from_fields,
    tlsa_from_rdata,
    tlsa_matches,
)

SHA256_HEX = "8755CDAA8FE24EF16CC0F2C918063185E433FAAF1415664911D9E30A924138C4"
SHA512_HEX = "AB" * 64


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _spki(der: bytes) -> bytes:
    return (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


class Pki:
    """A root, an intermediate and a leaf (mx.example.com), plus an unrelated CA."""

    def __init__(self, key_type: trustme.KeyType) -> None:
        root = trustme.CA(key_type=key_type)
        intermediate = root.create_child_ca(key_type=key_type)
        leaf = intermediate.issue_cert("mx.example.com", key_type=key_type)
        self.leaf, self.intermediate = (_der(p.bytes()) for p in leaf.cert_chain_pems)
        self.root = _der(root.cert_pem.bytes())
        self.other_ca = _der(trustme.CA(key_type=key_type).cert_pem.bytes())
        self.chain = [self.leaf, self.intermediate]


@cache
def pki(key_type: trustme.KeyType = trustme.KeyType.ECDSA) -> Pki:
    return Pki(key_type)


def _record(usage: int, selector: int, matching_type: int, der: bytes) -> TlsaRecord:
    body = der if selector == 0 else _spki(der)
    if matching_type == 1:
        body = hashlib.sha256(body).digest()
    elif matching_type == 2:
        body = hashlib.sha512(body).digest()
    return parse_tlsa(f"{usage} {selector} {matching_type} {body.hex()}")


# --- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        (f"3 1 1 {SHA256_HEX}", (3, 1, 1, 32)),
        (f"3 1 1 {SHA256_HEX.lower()}", (3, 1, 1, 32)),
        (f"3 1 1 {SHA256_HEX[:20]} {SHA256_HEX[20:]}", (3, 1, 1, 32)),  # RFC 6698 §2.2
        (f"  2\t0  2 {SHA512_HEX}\n", (2, 0, 2, 64)),
        ("3 0 0 3082 01", (3, 0, 0, 3)),
        (f"1 1 1 {SHA256_HEX}", (1, 1, 1, 32)),  # parses; unusable for SMTP
        ("255 255 255 00", (255, 255, 255, 1)),  # undefined numbers: unusable, not malformed
        (f"\\# 35 030101 {SHA256_HEX}", (3, 1, 1, 32)),  # RFC 3597 generic form
    ],
)
def test_parse_valid(text: str, fields: tuple[int, int, int, int]) -> None:
    record = parse_tlsa(text)
    assert (record.usage, record.selector, record.matching_type, len(record.data)) == fields


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("3 1 1", 5),  # no data
        (f"3 1 1 {SHA256_HEX}0", 6 + 65),  # odd number of digits: at the end
        (f"3 1 1 {SHA256_HEX[:-2]}zz", 6 + 62),
        (f"256 1 1 {SHA256_HEX}", 0),
        (f"-1 1 1 {SHA256_HEX}", 0),
        (f"3 one 1 {SHA256_HEX}", 2),
        (f"DANE-EE 1 1 {SHA256_HEX}", 0),
        (f"3 1 1 {SHA256_HEX[:-2]}", 6),  # SHA-256 needs 32 bytes
        (f"3 1 2 {SHA256_HEX}", 6),  # SHA-512 needs 64 bytes
        (f"3 1 1 {SHA512_HEX}", 6),
        ("\\# 3 030101", 5),  # no association data
        ("\\# 5 0301", 3),
        ("\\#", 2),
        ("\\# x 00", 3),
    ],
)
def test_parse_invalid(text: str, position: int) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        parse_tlsa(text)
    assert caught.value.position == position


def test_from_fields_and_rdata() -> None:
    record = tlsa_from_rdata(bytes([3, 1, 1]) + bytes.fromhex(SHA256_HEX))
    assert record == tlsa_from_fields(3, 1, 1, bytes.fromhex(SHA256_HEX))
    assert record.to_text() == f"3 1 1 {SHA256_HEX}"
    with pytest.raises(RecordSyntaxError):
        tlsa_from_rdata(b"\x03\x01")
    with pytest.raises(RecordSyntaxError):
        tlsa_from_fields(3, 1, 256, b"\x00")


@pytest.mark.parametrize(
    ("fields", "usable"),
    [
        ((3, 1, 1), True),
        ((2, 0, 2), True),
        ((3, 0, 0), True),
        ((0, 0, 1), False),  # PKIX-TA: unusable for SMTP (RFC 7672 §3.1.3)
        ((1, 1, 1), False),  # PKIX-EE
        ((4, 1, 1), False),
        ((3, 2, 1), False),
        ((3, 1, 3), False),
    ],
)
def test_smtp_usability(fields: tuple[int, int, int], usable: bool) -> None:
    data = bytes(32) if fields[2] == 1 else bytes(64) if fields[2] == 2 else b"\x30"
    record = tlsa_from_fields(*fields, data)
    assert record.smtp_usable is usable
    assert (record.unusable_reason is None) is usable


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.sampled_from([0, 1, 2, 3, 255]),
    st.binary(min_size=1, max_size=80),
)
def test_text_and_rdata_round_trip(usage: int, selector: int, mtype: int, data: bytes) -> None:
    if mtype in (1, 2):
        data = (data * 64)[: 32 if mtype == 1 else 64]
    record = tlsa_from_fields(usage, selector, mtype, data)
    assert parse_tlsa(record.to_text()) == record
    assert tlsa_from_rdata(bytes([usage, selector, mtype]) + data) == record


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_record_or_a_syntax_error(text: str) -> None:
    for candidate in (text, "3 1 1 " + text, "\\# " + text):
        try:
            parse_tlsa(candidate)
        except RecordSyntaxError as exc:
            assert 0 <= exc.position <= len(candidate)


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "chain", "expected"),
    [
        (lambda p: [_record(3, 1, 1, p.leaf)], lambda p: p.chain, [(0, 0, None)]),
        (lambda p: [_record(3, 0, 1, p.leaf)], lambda p: p.chain, [(0, 0, None)]),
        (lambda p: [_record(3, 1, 2, p.leaf)], lambda p: p.chain, [(0, 0, None)]),
        (lambda p: [_record(3, 0, 0, p.leaf)], lambda p: p.chain, [(0, 0, None)]),
        (lambda p: [_record(3, 1, 0, p.leaf)], lambda p: p.chain, [(0, 0, None)]),
        (lambda p: [_record(3, 1, 1, p.leaf)], lambda p: [p.leaf], [(0, 0, None)]),
        # DANE-EE matches the leaf only, never another certificate of the chain
        (lambda p: [_record(3, 1, 1, p.intermediate)], lambda p: p.chain, []),
        # DANE-TA matches an issuer in the chain, with a signature path from the leaf
        (lambda p: [_record(2, 0, 1, p.intermediate)], lambda p: p.chain, [(0, 1, True)]),
        (lambda p: [_record(2, 1, 2, p.root)], lambda p: [*p.chain, p.root], [(0, 2, True)]),
        (
            lambda p: [_record(2, 1, 1, p.root)],
            lambda p: [p.leaf, p.root, p.intermediate],
            [(0, 1, True)],
        ),
        # ... but not the leaf itself, nor a TA the server does not present
        (lambda p: [_record(2, 1, 1, p.leaf)], lambda p: p.chain, []),
        (lambda p: [_record(2, 1, 1, p.root)], lambda p: p.chain, []),
        # a presented CA that did not issue the chain: matched, but no path
        (lambda p: [_record(2, 0, 1, p.other_ca)], lambda p: [p.leaf, p.other_ca], [(0, 1, False)]),
        # PKIX-TA / PKIX-EE are unusable for SMTP even when the data matches
        (
            lambda p: [_record(1, 1, 1, p.leaf), _record(0, 0, 1, p.intermediate)],
            lambda p: p.chain,
            [],
        ),
        (
            lambda p: [
                _record(1, 1, 1, p.leaf),
                _record(3, 1, 1, p.other_ca),
                _record(3, 1, 1, p.leaf),
            ],
            lambda p: p.chain,
            [(2, 0, None)],
        ),
        (lambda p: [_record(3, 1, 1, p.leaf)], lambda p: [], []),
        (lambda p: [], lambda p: p.chain, []),
    ],
)
@pytest.mark.parametrize(
    "key_type", [trustme.KeyType.ECDSA, trustme.KeyType.RSA], ids=["ec", "rsa"]
)
def test_matching(
    records: Callable[[Pki], list[TlsaRecord]],
    chain: Callable[[Pki], list[bytes]],
    expected: list[tuple[int, int, bool | None]],
    key_type: trustme.KeyType,
) -> None:
    p = pki(key_type)
    result = tlsa_matches(records(p), chain(p))
    assert [
        (m.record_index, m.certificate_index, m.issued_path) for m in result.matches
    ] == expected
    assert result.authenticated is any(path is not False for *_, path in expected)


def test_usable_and_unusable_records_are_listed() -> None:
    p = pki()
    records = [_record(1, 1, 1, p.leaf), _record(3, 1, 1, p.leaf), tlsa_from_fields(3, 1, 9, b"x")]
    result = tlsa_matches(records, p.chain)
    assert result.usable_records == (1,)
    assert [index for index, _ in result.unusable_records] == [0, 2]
    assert "PKIX-EE" in result.unusable_records[0][1]
    none_usable = tlsa_matches([records[0]], p.chain)
    assert none_usable.usable_records == () and not none_usable.authenticated


def test_unreadable_and_uncounted_certificates_are_reported() -> None:
    p = pki()
    result = tlsa_matches(
        [_record(2, 0, 1, p.intermediate)], [p.leaf, b"not a certificate", p.intermediate]
    )
    assert result.unreadable_certificates == (1,)
    assert [(m.certificate_index, m.issued_path) for m in result.matches] == [(2, True)]
    # a chain longer than the cap: the rest is counted as not checked, never silently dropped
    long_chain = [p.leaf] + [p.other_ca] * 11 + [p.intermediate]
    capped = tlsa_matches([_record(2, 0, 1, p.intermediate)], long_chain)
    assert capped.certificates_not_checked == 3
    assert capped.matches == ()


def test_garbage_leaf_matches_nothing_but_full_der_selector_0() -> None:
    # selector 0 hashes the bytes as presented; selector 1 needs a certificate to read
    junk = b"\x30\x03\x02\x01\x00"
    records = [
        parse_tlsa(f"3 0 1 {hashlib.sha256(junk).hexdigest()}"),
        _record(3, 1, 1, pki().leaf),
    ]
    result = tlsa_matches(records, [junk])
    assert [m.record_index for m in result.matches] == [0]
    assert result.unreadable_certificates == (0,)


def _self_signed_ed25519() -> bytes:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    "der",
    [
        pytest.param(lambda: pki(trustme.KeyType.RSA).leaf, id="rsa"),
        pytest.param(lambda: pki(trustme.KeyType.ECDSA).leaf, id="ec"),
        pytest.param(_self_signed_ed25519, id="ed25519"),
    ],
)
def test_spki_cut_from_der_equals_the_library_encoding(der: Callable[[], bytes]) -> None:
    # Given: the "openssl x509 -pubkey | sha256" way of writing a 3 1 1 record
    leaf = der()
    digest = hashlib.sha256(_spki(leaf)).hexdigest()
    result = tlsa_matches([parse_tlsa(f"3 1 1 {digest}")], [leaf])
    assert [m.certificate_index for m in result.matches] == [0]


def test_sha256_of_the_certificate_is_what_openssl_fingerprints() -> None:
    leaf = pki().leaf
    cert = x509.load_der_x509_certificate(leaf)
    record = parse_tlsa(f"3 0 1 {cert.fingerprint(hashes.SHA256()).hex()}")
    assert tlsa_matches([record], [leaf]).authenticated
    assert record.usage == TlsaUsage.DANE_EE
