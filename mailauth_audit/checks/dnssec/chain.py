"""Why a chain is bogus: the zone's DNSKEY and DS and the answer's RRSIGs, fetched with
checking disabled (RFC 4035 §3.2.2), checked with dnspython's `dns.dnssec`.

The validator already said "bogus"; this only finds the reason a zone's operator can act on,
in the order a validator meets them: the DS at the parent must match a DNSKEY (RFC 4035
§5.2), the DNSKEY RRset must be signed by it, the data's RRSIGs must be in their validity
window and verify (§5.3). A reason found nowhere at the zone is said to lie higher up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

import dns.dnssec
import dns.dnssectypes
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from ...errors import ResolverError
from ...resolver.base import Answer, MxRecord, RecordValue, Resolver, RRType, TxtRecord
from .result import BogusExplanation, BogusKind

_TEXT_NAMES = (RRType.CNAME, RRType.NS, RRType.PTR)


def _rdata(rdtype: RRType, value: RecordValue) -> dns.rdata.Rdata:
    """The dnspython form of an answer's record (the fast-path types are decoded to text)."""
    if isinstance(value, MxRecord):
        return dns.rdata.from_text("IN", "MX", f"{value.preference} {value.exchange}.")
    if isinstance(value, TxtRecord):
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, value.strings)
    if isinstance(value, str):
        text = value + "." if rdtype in _TEXT_NAMES else value
        return dns.rdata.from_text("IN", rdtype.name, text)
    return value


def _rdataset(rdtype: int, values: Sequence[dns.rdata.Rdata]) -> dns.rdataset.Rdataset:
    rds = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype))
    for value in values:
        rds.add(value)
    return rds


def _when(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _window(sigs: Sequence[dns.rdata.Rdata], what: str, now: float) -> BogusExplanation | None:
    """An RRSIG outside its validity window (RFC 4035 §5.3.1), when every one is."""
    if not sigs:
        return None
    expired = [s for s in sigs if getattr(s, "expiration", now) < now]
    if len(expired) == len(sigs):
        last = max(int(getattr(s, "expiration", 0)) for s in expired)
        return BogusExplanation(
            BogusKind.EXPIRED_SIGNATURE, f"the RRSIG over {what} expired on {_when(last)}"
        )
    early = [s for s in sigs if getattr(s, "inception", now) > now]
    if len(early) == len(sigs):
        first = min(int(getattr(s, "inception", 0)) for s in early)
        return BogusExplanation(
            BogusKind.SIGNATURE_NOT_YET_VALID,
            f"the RRSIG over {what} is valid only from {_when(first)}",
        )
    return None


def _verifies(
    owner: dns.name.Name,
    rds: dns.rdataset.Rdataset,
    sigs: Sequence[dns.rdata.Rdata],
    zone: dns.name.Name,
    keys: dns.rdataset.Rdataset,
    now: float,
) -> bool:
    try:
        dns.dnssec.validate(
            (owner, rds), (owner, _rdataset(dns.rdatatype.RRSIG, sigs)), {zone: keys}, now=now
        )
    except (dns.exception.ValidationFailure, dns.exception.UnsupportedAlgorithm):
        return False
    return True


def expected_ds(zone: str, keys: Sequence[dns.rdata.Rdata]) -> str | None:
    """The DS line the parent should hold: SHA-256 of the key-signing key (flag 257, or the
    first key when none has the SEP bit)."""
    if not keys:
        return None
    ksk = next((k for k in keys if getattr(k, "flags", 0) & 1), keys[0])
    try:
        ds = dns.dnssec.make_ds(zone + ".", ksk, "SHA256")
    except (dns.exception.UnsupportedAlgorithm, ValueError):
        return None
    return f"{zone}. IN DS {ds.to_text()}"


def _matches(zone: str, ds: dns.rdata.Rdata, keys: Sequence[dns.rdata.Rdata]) -> bool:
    for key in keys:
        try:
            if (
                dns.dnssec.make_ds(
                    zone + ".", key, dns.dnssectypes.DSDigest.make(getattr(ds, "digest_type", 2))
                )
                == ds
            ):
                return True
        except (dns.exception.UnsupportedAlgorithm, ValueError):
            continue
    return False


def analyse_chain(
    zone: str,
    answer: Answer,
    dnskeys: Sequence[dns.rdata.Rdata],
    dnskey_sigs: Sequence[dns.rdata.Rdata],
    ds_records: Sequence[dns.rdata.Rdata],
    now: float | None = None,
) -> BogusExplanation:
    """Pure: the first broken link found between the parent's DS and the answer's RRSIGs."""
    moment = time.time() if now is None else now
    if not dnskeys:
        return BogusExplanation(
            BogusKind.MISSING_DNSKEY,
            f"zone {zone} publishes no DNSKEY"
            + (f", but its parent holds {len(ds_records)} DS record(s)" if ds_records else ""),
        )
    if ds_records and not any(_matches(zone, ds, dnskeys) for ds in ds_records):
        tags = ", ".join(str(getattr(ds, "key_tag", "?")) for ds in ds_records)
        keys = ", ".join(str(dns.dnssec.key_id(k)) for k in dnskeys)  # type: ignore[arg-type]
        return BogusExplanation(
            BogusKind.DS_MISMATCH,
            f"the DS at the parent of {zone} (key tag {tags}) matches none of the zone's "
            f"DNSKEYs (key tag {keys})",
            expected_ds(zone, dnskeys),
        )
    zone_name = dns.name.from_text(zone + ".")
    key_set = _rdataset(dns.rdatatype.DNSKEY, dnskeys)
    window = _window(dnskey_sigs, f"{zone}'s DNSKEY RRset", moment)
    if window is not None:
        return window
    if dnskey_sigs and not _verifies(zone_name, key_set, dnskey_sigs, zone_name, key_set, moment):
        return BogusExplanation(
            BogusKind.BAD_SIGNATURE, f"the RRSIG over {zone}'s DNSKEY RRset does not verify"
        )
    what = f"{answer.canonical_name} {answer.rdtype.name}"
    sigs = answer.signatures
    if answer.records and not sigs:
        return BogusExplanation(
            BogusKind.MISSING_SIGNATURE, f"{what} comes without any RRSIG in signed zone {zone}"
        )
    window = _window(sigs, what, moment)
    if window is not None:
        return window
    if answer.records and sigs:
        owner = dns.name.from_text(answer.canonical_name + ".")
        data = _rdataset(answer.rdtype, [_rdata(answer.rdtype, r) for r in answer.records])
        if not _verifies(owner, data, sigs, zone_name, key_set, moment):
            return BogusExplanation(
                BogusKind.BAD_SIGNATURE,
                f"the RRSIG over {what} does not verify with {zone}'s DNSKEY (the records "
                "were changed after signing, or signed with another key)",
            )
    return BogusExplanation(
        BogusKind.UNEXPLAINED,
        f"the DS, DNSKEY and signatures of zone {zone} check out; the break is in a zone "
        "above it, or in a denial of existence",
    )


async def explain_bogus(resolver: Resolver, zone: str | None, answer: Answer) -> BogusExplanation:
    """Fetch the zone's DNSKEY and DS with CD and find the broken link (see the module
    docstring). `zone` is the RRSIG signer; None when the answer came unsigned."""
    if zone is None:
        if answer.records:
            return BogusExplanation(
                BogusKind.MISSING_SIGNATURE,
                f"{answer.canonical_name} {answer.rdtype.name} comes without any RRSIG",
            )
        return BogusExplanation(BogusKind.UNEXPLAINED, "the denial of existence does not validate")
    try:
        keys = await resolver.resolve(zone, RRType.DNSKEY, dnssec_ok=True, checking_disabled=True)
        ds = await resolver.resolve(zone, RRType.DS, dnssec_ok=True, checking_disabled=True)
    except ResolverError as exc:
        return BogusExplanation(
            BogusKind.UNEXPLAINED, f"the zone's keys could not be fetched to tell why ({exc})"
        )
    return analyse_chain(zone, answer, keys.rdata(), keys.signatures, ds.rdata())
