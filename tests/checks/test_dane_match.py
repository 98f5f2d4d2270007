"""TLSA records against a presented chain (checks/dane/match.py), and the DANE judgement
(checks/dane/evaluate.py), pure: certificates made with trustme, no I/O."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mailauth_audit.checks.dane.evaluate import evaluate_dane
from mailauth_audit.checks.dane.match import leaf_tlsa, match_address, read_records
from mailauth_audit.checks.dane.result import DaneAddress, DaneHost, DaneResult
from mailauth_audit.checks.dnssec.result import DnssecVerdict
from mailauth_audit.model import CheckError, ErrorReason, Severity
from mailauth_audit.records.tlsa import TlsaRecord, parse_tlsa

HOST = "mx.example.com"


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _spki_sha256(der: bytes) -> str:
    key = x509.load_der_x509_certificate(der).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest().upper()


@cache
def chain(name: str = HOST) -> tuple[bytes, bytes]:
    """(leaf, intermediate) issued for `name` by a fresh root -> intermediate."""
    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert(name)
    first, second = (_der(p.bytes()) for p in leaf.cert_chain_pems)
    return first, second


def record(text: str) -> TlsaRecord:
    return parse_tlsa(text)


def test_leaf_tlsa_is_the_sha256_of_the_leaf_key() -> None:
    leaf, _ = chain()
    assert leaf_tlsa([leaf]) == f"3 1 1 {_spki_sha256(leaf)}"
    assert leaf_tlsa([]) is None


def test_dane_ee_matches_the_leaf_without_name_or_date_checks() -> None:
    leaf, ca = chain()
    ee = record(f"3 1 1 {_spki_sha256(leaf)}")
    got = match_address("192.0.2.1", [ee], [leaf, ca], hostname_matches=False, max_certificates=10)
    assert got.authenticated_by == (ee.to_text(),)
    assert got.leaf_tlsa == f"3 1 1 {_spki_sha256(leaf)}"


def test_whole_certificate_hash_matches_too() -> None:
    leaf, ca = chain()
    full = record(f"3 0 1 {hashlib.sha256(leaf).hexdigest()}")
    got = match_address("192.0.2.1", [full], [leaf, ca], hostname_matches=True, max_certificates=10)
    assert got.authenticated_by == (full.to_text(),)


def test_dane_ta_needs_the_anchor_in_the_chain_and_a_name_match() -> None:
    leaf, ca = chain()
    ta = record(f"2 1 1 {_spki_sha256(ca)}")
    named = match_address("192.0.2.1", [ta], [leaf, ca], hostname_matches=True, max_certificates=10)
    assert named.authenticated_by == (ta.to_text(),)
    unnamed = match_address(
        "192.0.2.1", [ta], [leaf, ca], hostname_matches=False, max_certificates=10
    )
    assert unnamed.authenticated_by == () and unnamed.ta_unauthenticated == (ta.to_text(),)
    # the anchor not presented: no match at all
    alone = match_address("192.0.2.1", [ta], [leaf], hostname_matches=True, max_certificates=10)
    assert alone.authenticated_by == () and alone.ta_unauthenticated == ()


def test_a_record_for_another_key_does_not_match() -> None:
    leaf, ca = chain()
    other, _ = chain("other.example.com")
    got = match_address(
        "192.0.2.1",
        [record(f"3 1 1 {_spki_sha256(other)}")],
        [leaf, ca],
        hostname_matches=True,
        max_certificates=10,
    )
    assert got.tls is True and got.authenticated_by == ()


def test_pkix_usages_never_authenticate_for_smtp() -> None:
    leaf, ca = chain()
    pkix = record(f"1 1 1 {_spki_sha256(leaf)}")
    got = match_address("192.0.2.1", [pkix], [leaf, ca], hostname_matches=True, max_certificates=10)
    assert got.authenticated_by == ()


def test_unparsable_rdata_is_named_with_why() -> None:
    good, bad = read_records([bytes([3, 1, 1]) + b"\x00" * 32, bytes([3, 1, 1, 0])])
    assert len(good) == 1
    assert bad == ["03010100: matching type 1 (SHA-256) needs 32 bytes of data, the record has 1"]


# --- evaluate: the findings for each situation the issue names --------------------------


def host(
    records: tuple[str, ...],
    addresses: tuple[DaneAddress, ...] = (),
    verdict: DnssecVerdict = DnssecVerdict.SECURE,
    **kw: object,
) -> DaneHost:
    return DaneHost(HOST, f"_25._tcp.{HOST}", verdict, records, addresses=addresses, **kw)  # type: ignore[arg-type]


def judge(*hosts: DaneHost) -> dict[str, Severity]:
    return {f.code: f.severity for f in evaluate_dane(DaneResult(hosts), "example.com", {})}


EE = "3 1 1 " + "AB" * 32
LEAF = "3 1 1 " + "CD" * 32
MATCHED = DaneAddress("192.0.2.1", tls=True, authenticated_by=(EE,), leaf_tlsa=EE)
UNMATCHED = DaneAddress("192.0.2.1", tls=True, leaf_tlsa=LEAF)


@pytest.mark.parametrize(
    ("dane_host", "expected"),
    [
        (host(()), {"dane.not_deployed": Severity.INFO}),
        (
            host((EE,), (MATCHED,)),
            {"dane.authenticated": Severity.INFO, "dane.single_record": Severity.INFO},
        ),
        (host((EE, "3 1 1 " + "EF" * 32), (MATCHED,)), {"dane.authenticated": Severity.INFO}),
        (
            host((EE,), (UNMATCHED,)),
            {"dane.no_match": Severity.CRITICAL, "dane.single_record": Severity.INFO},
        ),
        (host((EE,), verdict=DnssecVerdict.INSECURE), {"dane.tlsa_insecure": Severity.MEDIUM}),
        (host((EE,), verdict=DnssecVerdict.BOGUS), {"dane.tlsa_bogus": Severity.HIGH}),
        (host((), verdict=DnssecVerdict.BOGUS), {"dane.tlsa_bogus": Severity.HIGH}),
        (host(("1 1 1 " + "AB" * 32,)), {"dane.pkix_usage": Severity.LOW}),
        (
            host(("3 0 1 " + "AB" * 32, EE), (MATCHED,)),
            {"dane.full_certificate": Severity.LOW, "dane.authenticated": Severity.INFO},
        ),
        (
            host((EE,), (DaneAddress("192.0.2.1", tls=False, no_tls_reason="no STARTTLS"),)),
            {"dane.no_tls": Severity.CRITICAL, "dane.single_record": Severity.INFO},
        ),
        (
            host(
                (EE,),
                (
                    DaneAddress(
                        "192.0.2.1",
                        error=CheckError(ErrorReason.PROBE_TIMEOUT, "could not check: timeout"),
                    ),
                ),
            ),
            {"dane.chain_not_checked": Severity.LOW, "dane.single_record": Severity.INFO},
        ),
        (
            host((EE, "3 1 1 " + "EF" * 32), (MATCHED,), records_not_checked=30),
            {"dane.authenticated": Severity.INFO, "dane.records_not_checked": Severity.LOW},
        ),
        (
            host((EE, "3 1 1 " + "EF" * 32), (MATCHED,), unreadable=("0301: too short",)),
            {"dane.authenticated": Severity.INFO, "dane.unreadable_records": Severity.HIGH},
        ),
    ],
)
def test_each_situation_gives_its_finding(
    dane_host: DaneHost, expected: dict[str, Severity]
) -> None:
    assert judge(dane_host) == expected


def test_no_match_remediation_is_the_exact_line_for_the_certificate_presented() -> None:
    findings = evaluate_dane(DaneResult((host((EE,), (UNMATCHED,)),)), "example.com", {})
    no_match = next(f for f in findings if f.code == "dane.no_match")
    assert f"_25._tcp.{HOST}. IN TLSA {LEAF}" in no_match.remediation
