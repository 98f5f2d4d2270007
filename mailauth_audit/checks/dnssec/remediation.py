"""What to change for a bogus chain: the fix for each kind of break, with the exact DS line
when it can be computed from the zone's key."""

from __future__ import annotations

from .result import BogusExplanation, BogusKind, DnssecName


def bogus_fix(item: DnssecName, bogus: BogusExplanation) -> str:
    zone = item.zone or item.name
    kind = bogus.kind
    if kind is BogusKind.EXPIRED_SIGNATURE or kind is BogusKind.SIGNATURE_NOT_YET_VALID:
        return (
            f"Re-sign zone {zone} now (e.g. `ldns-signzone`, `dnssec-signzone`, or your DNS "
            "host's signer) and make sure re-signing runs automatically well before the "
            "signatures expire; check the signing server's clock."
        )
    if kind is BogusKind.DS_MISMATCH:
        line = f": `{bogus.expected_ds}`" if bogus.expected_ds else ""
        return (
            f"Replace the DS record of {zone} at the parent's registrar with the one for the "
            f"zone's current key-signing key{line}, or, if the key changed by mistake, put the "
            "old key back."
        )
    if kind is BogusKind.MISSING_DNSKEY:
        return (
            f"Publish {zone}'s DNSKEY records again (re-sign the zone), or, to turn DNSSEC off, "
            "first remove the DS record at the parent's registrar and wait for its TTL."
        )
    if kind is BogusKind.MISSING_SIGNATURE or kind is BogusKind.BAD_SIGNATURE:
        return (
            f"Re-sign zone {zone} after every change to its records (serve only the signed "
            "zone file), so every RRset carries a valid RRSIG."
        )
    return (
        f"Find the broken link above {zone}: check the DS and DNSKEY of each parent zone "
        "(e.g. with https://dnsviz.net), and the extended error the resolver gave."
    )
