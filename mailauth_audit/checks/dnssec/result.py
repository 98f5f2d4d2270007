"""What the DNSSEC check saw for the domain and each MX host: the facts `evaluate` judges."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DnssecVerdict(StrEnum):
    """RFC 4033 §5 / RFC 4035 §4.3, as a validating resolver reports them."""

    SECURE = "secure"  # the AD bit was set
    INSECURE = "insecure"  # answered without AD: no chain of trust reaches the data
    BOGUS = "bogus"  # SERVFAIL without CD, an answer with CD: validation failed


class BogusKind(StrEnum):
    """Why a chain fails, as found by checking the records fetched with CD."""

    EXPIRED_SIGNATURE = "expired_signature"
    SIGNATURE_NOT_YET_VALID = "signature_not_yet_valid"
    DS_MISMATCH = "ds_mismatch"  # no DS at the parent matches any DNSKEY of the zone
    MISSING_DNSKEY = "missing_dnskey"  # the zone publishes no DNSKEY, its parent a DS
    MISSING_SIGNATURE = "missing_signature"  # the records come without any RRSIG
    BAD_SIGNATURE = "bad_signature"  # an RRSIG that does not verify with the zone's key
    UNEXPLAINED = "unexplained"  # nothing wrong at the zone itself: a link higher up


@dataclass(frozen=True)
class BogusExplanation:
    kind: BogusKind
    detail: str  # one line with the values: dates, key tags, the RRset
    # set for ds_mismatch and missing_dnskey when the zone has a key: the DS record the
    # parent should hold, computed from the zone's key-signing key (SHA-256)
    expected_ds: str | None = None


@dataclass(frozen=True)
class DnssecName:
    """One name's verdict: the domain (its MX RRset) or an MX host (its addresses)."""

    name: str  # lower case, no trailing dot
    role: str  # "domain" or "mx"
    rdtype: str  # the type asked: "MX" for the domain, "A" or "AAAA" for a host
    verdict: DnssecVerdict
    signed: bool  # RRSIGs came with the answer (with checking disabled, when bogus)
    zone: str | None  # the RRSIG signer: the zone holding the name; None when unsigned
    extended_errors: tuple[str, ...] = ()  # RFC 8914, "6 (DNSSEC Bogus): why", bounded
    bogus: BogusExplanation | None = None  # set when verdict is bogus
    # set when signed but insecure: the DS the parent lacks, from the zone's key
    expected_ds: str | None = None


@dataclass(frozen=True)
class DnssecResult:
    # "the audit's resolver" or the --dnssec-resolver servers: whose AD bit was read
    resolver: str
    # the domain first, then each MX host once (the domain again, role "mx", when it has no
    # MX records but an address: its own implicit MX host, RFC 5321 §5.1)
    names: tuple[DnssecName, ...] = ()
    # the resolver was seen validating (an AD bit, or a bogus answer refused); None: only
    # unsigned answers came back, nothing to tell
    resolver_validates: bool | None = None
