"""TLSA records against a presented chain, for SMTP (RFC 7672 §3.1): pure.

DANE-EE(3): the leaf's key or certificate matches; names and dates are not checked
(RFC 7672 §3.1.1). DANE-TA(2): a certificate of the chain matches, an issuer path leads from
the leaf to it, and the leaf names the MX host (§3.1.2, §3.2.3). PKIX usages and undefined
parameters are unusable for SMTP and never authenticate.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...records.errors import RecordSyntaxError
from ...records.tlsa import TlsaRecord, TlsaUsage, association_data, tlsa_from_rdata, tlsa_matches
from .result import DaneAddress


def read_records(rdata_wire: Sequence[bytes]) -> tuple[list[TlsaRecord], list[str]]:
    """(records that parse, "<hex>: why" for those that do not)."""
    good: list[TlsaRecord] = []
    bad: list[str] = []
    for wire in rdata_wire:
        try:
            good.append(tlsa_from_rdata(wire))
        except RecordSyntaxError as exc:
            shown = wire[:40].hex().upper() + ("…" if len(wire) > 40 else "")
            bad.append(f"{shown}: {exc.message}")
    return good, bad


def leaf_tlsa(chain_der: Sequence[bytes]) -> str | None:
    """`3 1 1 <hex>`: the DANE-EE record for the leaf presented (its public key, SHA-256),
    the form that survives certificate renewals with the same key (RFC 7671 §5.1)."""
    if not chain_der:
        return None
    data = association_data(chain_der[0], 1, 1)
    return None if data is None else f"3 1 1 {data.hex().upper()}"


def match_address(
    address: str,
    records: Sequence[TlsaRecord],
    chain_der: Sequence[bytes],
    hostname_matches: bool,
    *,
    max_certificates: int,
) -> DaneAddress:
    """The facts of one address whose TLS session presented `chain_der`."""
    result = tlsa_matches(records, chain_der, max_certificates=max_certificates)
    good: list[str] = []
    unauthenticated: list[str] = []
    for m in result.matches:
        text = m.record.to_text()
        if m.record.usage == TlsaUsage.DANE_EE or (m.issued_path and hostname_matches):
            good.append(text)
        else:
            unauthenticated.append(text)
    return DaneAddress(
        address=address,
        tls=True,
        authenticated_by=tuple(dict.fromkeys(good)),
        ta_unauthenticated=tuple(dict.fromkeys(t for t in unauthenticated if t not in good)),
        leaf_tlsa=leaf_tlsa(chain_der),
        hostname_matches=hostname_matches,
    )
