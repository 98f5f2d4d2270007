"""Why a chain is bogus (checks/dnssec/chain.py: analyse_chain), on records signed in the
test with dnspython, and the DNSSEC check against zone text (StaticResolver): pure."""

from __future__ import annotations

import asyncio
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataset
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.dnssec.chain import analyse_chain, expected_ds
from mailauth_audit.checks.dnssec.evaluate import evaluate_dnssec
from mailauth_audit.checks.dnssec.result import (
    BogusExplanation,
    BogusKind,
    DnssecName,
    DnssecResult,
    DnssecVerdict,
)
from mailauth_audit.model import CheckId, CheckStatus, ErrorReason, Severity
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.base import Answer, Provenance, Rcode, RRType
from mailauth_audit.resolver.static import StaticResolver

ZONE = "example.test"
NOW = time.time()
DAY = 86400


class Signer:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.dnskey = dns.dnssec.make_dnskey(
            self.key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257
        )

    def sign(self, owner: str, rdtype: str, *texts: str, start: float, end: float) -> tuple:
        rrset = dns.rrset.from_text(owner + ".", 300, "IN", rdtype, *texts)
        sig = dns.dnssec.sign(
            rrset,
            self.key,
            dns.name.from_text(ZONE + "."),
            self.dnskey,  # type: ignore[arg-type]
            inception=int(start),
            expiration=int(end),
        )
        return rrset, sig


def answer(owner: str, rdtype: RRType, records: tuple, sigs: tuple) -> Answer:
    return Answer(
        owner, rdtype, Rcode.NOERROR, records, provenance=Provenance("x", signatures=sigs)
    )


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def _keys_sig(signer: Signer, start: float, end: float) -> tuple:
    rrset = dns.rrset.from_rdata(dns.name.from_text(ZONE + "."), 300, signer.dnskey)
    sig = dns.dnssec.sign(
        rrset,
        signer.key,
        dns.name.from_text(ZONE + "."),
        signer.dnskey,
        inception=int(start),
        expiration=int(end),
    )  # type: ignore[arg-type]
    return (sig,)


def _ds(signer: Signer) -> dns.rdata.Rdata:
    return dns.dnssec.make_ds(ZONE + ".", signer.dnskey, "SHA256")


def test_a_valid_chain_is_unexplained(signer: Signer) -> None:
    rrset, sig = signer.sign(f"mx.{ZONE}", "TXT", '"hello"', start=NOW - DAY, end=NOW + DAY)
    got = analyse_chain(
        ZONE,
        answer(f"mx.{ZONE}", RRType.TXT, tuple(rrset), (sig,)),
        [signer.dnskey],
        _keys_sig(signer, NOW - DAY, NOW + DAY),
        [_ds(signer)],
        now=NOW,
    )
    assert got.kind is BogusKind.UNEXPLAINED


def test_expired_signature_on_the_keys(signer: Signer) -> None:
    _, sig = signer.sign(f"mx.{ZONE}", "TXT", '"hello"', start=NOW - 9 * DAY, end=NOW - DAY)
    got = analyse_chain(
        ZONE,
        answer(f"mx.{ZONE}", RRType.TXT, (), (sig,)),
        [signer.dnskey],
        _keys_sig(signer, NOW - 9 * DAY, NOW - DAY),
        [_ds(signer)],
        now=NOW,
    )
    assert got.kind is BogusKind.EXPIRED_SIGNATURE and "expired on" in got.detail


def test_not_yet_valid_signature(signer: Signer) -> None:
    got = analyse_chain(
        ZONE,
        answer(ZONE, RRType.MX, (), ()),
        [signer.dnskey],
        _keys_sig(signer, NOW + DAY, NOW + 9 * DAY),
        [_ds(signer)],
        now=NOW,
    )
    assert got.kind is BogusKind.SIGNATURE_NOT_YET_VALID


def test_ds_matching_no_key_names_the_ds_to_publish(signer: Signer) -> None:
    stray = Signer()
    got = analyse_chain(
        ZONE,
        answer(ZONE, RRType.MX, (), ()),
        [signer.dnskey],
        _keys_sig(signer, NOW - DAY, NOW + DAY),
        [_ds(stray)],
        now=NOW,
    )
    assert got.kind is BogusKind.DS_MISMATCH
    assert got.expected_ds == expected_ds(ZONE, [signer.dnskey])
    assert got.expected_ds is not None and got.expected_ds.startswith(f"{ZONE}. IN DS ")


def test_missing_dnskey() -> None:
    got = analyse_chain(ZONE, answer(ZONE, RRType.MX, (), ()), [], [], ["ds"], now=NOW)  # type: ignore[list-item]
    assert got.kind is BogusKind.MISSING_DNSKEY and "1 DS" in got.detail


def test_changed_records_do_not_verify(signer: Signer) -> None:
    _, sig = signer.sign(f"mx.{ZONE}", "TXT", '"hello"', start=NOW - DAY, end=NOW + DAY)
    from mailauth_audit.resolver.base import TxtRecord

    got = analyse_chain(
        ZONE,
        answer(f"mx.{ZONE}", RRType.TXT, (TxtRecord((b"tampered",)),), (sig,)),
        [signer.dnskey],
        _keys_sig(signer, NOW - DAY, NOW + DAY),
        [_ds(signer)],
        now=NOW,
    )
    assert got.kind is BogusKind.BAD_SIGNATURE


def test_unsigned_records_in_a_signed_zone(signer: Signer) -> None:
    got = analyse_chain(
        ZONE,
        answer(f"mx.{ZONE}", RRType.A, ("192.0.2.1",), ()),
        [signer.dnskey],
        _keys_sig(signer, NOW - DAY, NOW + DAY),
        [_ds(signer)],
        now=NOW,
    )
    assert got.kind is BogusKind.MISSING_SIGNATURE


def test_evaluate_gives_one_finding_per_name_with_its_severity() -> None:
    facts = DnssecResult(
        "the audit's resolver",
        (
            DnssecName(ZONE, "domain", "MX", DnssecVerdict.SECURE, True, ZONE),
            DnssecName(f"mx.{ZONE}", "mx", "A", DnssecVerdict.INSECURE, False, None),
            DnssecName(
                "mx.other.test",
                "mx",
                "A",
                DnssecVerdict.BOGUS,
                True,
                "other.test",
                ("6 (DNSSEC Bogus): expired",),
                BogusExplanation(BogusKind.EXPIRED_SIGNATURE, "expired on 2020-02-01"),
            ),
            DnssecName(
                "mx.island.test",
                "mx",
                "A",
                DnssecVerdict.INSECURE,
                True,
                "island.test",
                expected_ds="island.test. IN DS 1 13 2 AB",
            ),
        ),
    )
    got = {f.code: f for f in evaluate_dnssec(facts)}
    assert {c: f.severity for c, f in got.items()} == {
        "dnssec.secure": Severity.INFO,
        "dnssec.insecure": Severity.INFO,
        "dnssec.mx_bogus": Severity.HIGH,
        "dnssec.signed_not_anchored": Severity.LOW,
    }
    assert "Re-sign zone other.test" in got["dnssec.mx_bogus"].remediation
    assert "island.test. IN DS 1 13 2 AB" in got["dnssec.signed_not_anchored"].remediation


UNSIGNED = f"""\
$ORIGIN {ZONE}.
@ 300 IN MX 10 mx
mx 300 IN A 192.0.2.1
"""


def test_an_unsigned_zone_is_insecure_not_an_error() -> None:
    report = asyncio.run(audit_domain(ZONE, AuditOptions(), resolver=StaticResolver(UNSIGNED)))
    outcome = report.checks[CheckId.DNSSEC]
    assert outcome.status is CheckStatus.PASS
    assert {f.code for f in outcome.findings} == {"dnssec.insecure"}
    assert {f.code for f in report.checks[CheckId.DANE].findings} == {"dane.not_deployed"}


def test_a_signed_zone_file_cannot_say_secure(signer: Signer) -> None:
    _, sig = signer.sign(ZONE, "MX", f"10 mx.{ZONE}.", start=NOW - DAY, end=NOW + DAY)
    text = UNSIGNED + f"@ 300 IN RRSIG {sig.to_text()}\n"
    report = asyncio.run(audit_domain(ZONE, AuditOptions(), resolver=StaticResolver(text)))
    outcome = report.checks[CheckId.DNSSEC]
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.reason is ErrorReason.RESOLVER_NOT_VALIDATING
