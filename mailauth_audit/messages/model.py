"""The typed facts of one verified message: what each mechanism found, and the findings.

A message report is a different thing from a domain report (a message has no MX check and a
domain has no DKIM signature to verify), so it has its own check identifiers
(`MessageCheckId`) and its own finding type (`MessageFinding`) instead of new members of
`model.CheckId`, which would change the domain audit's registry and JSON schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..changes import RecordChange
from ..model import CheckStatus, Severity

__all__ = [
    "ArcResult",
    "ArcSetResult",
    "AuthResult",
    "BodyHashResult",
    "DkimSignatureResult",
    "DmarcDisposition",
    "DmarcEvaluation",
    "Envelope",
    "EnvelopeSource",
    "HygieneResult",
    "MessageCheckId",
    "MessageFinding",
    "MessageReport",
    "SpfEvaluation",
    "SpfIdentityResult",
]


class MessageCheckId(StrEnum):
    """What a message finding is about; the prefix of its code."""

    MESSAGE = "message"  # parsing, size and header hygiene (RFC 5322, RFC 8058)
    DKIM_SIG = "dkim_sig"  # one DKIM-Signature (RFC 6376)
    SPF_AUTH = "spf_auth"  # SPF evaluated for this delivery (RFC 7208)
    DMARC_AUTH = "dmarc_auth"  # DMARC evaluated for this message (RFC 7489 / RFC 9989)
    ARC = "arc"  # the ARC chain (RFC 8617)


class AuthResult(StrEnum):
    """RFC 8601 §2.7 result values (the union of those DKIM, SPF, DMARC and ARC use)."""

    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    POLICY = "policy"
    PERMERROR = "permerror"
    TEMPERROR = "temperror"


class BodyHashResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_CHECKED = "not_checked"  # the signature failed before the body was hashed


class EnvelopeSource(StrEnum):
    """Where the SMTP values SPF was evaluated with came from."""

    GIVEN = "given"  # command-line options
    SMTP_SESSION = "smtp_session"  # the real values of a session our `receive` server took
    RECEIVED_HEADER = "received_header"  # the topmost Received header and Return-Path
    NONE = "none"  # nothing known: SPF not evaluated


class DmarcDisposition(StrEnum):
    """What a receiver applying the policy does with the message (RFC 7489 §6.3)."""

    NONE = "none"  # deliver
    QUARANTINE = "quarantine"
    REJECT = "reject"


@dataclass(frozen=True)
class MessageFinding:
    code: str  # stable, e.g. "dkim_sig.body_hash_mismatch"
    severity: Severity
    check: MessageCheckId
    title: str
    detail: str
    remediation: str
    evidence: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # the records the remediation proposes, typed (as a domain finding's `changes`): the
    # renderers show them as zone lines and never read them back out of the prose
    changes: tuple[RecordChange, ...] = ()


@dataclass(frozen=True)
class Envelope:
    """The SMTP facts of the delivery, as far as they are known."""

    client_ip: str | None
    helo: str | None
    mail_from: str | None  # "" for the null reverse-path <>
    source: EnvelopeSource
    tls: bool | None = None  # set by `receive`: whether STARTTLS was used
    tls_version: str | None = None  # set when tls: "TLSv1.3"
    tls_cipher: str | None = None  # set when tls


@dataclass(frozen=True)
class DkimSignatureResult:
    """One DKIM-Signature header field and what verifying it gave."""

    index: int  # 0 = topmost DKIM-Signature
    result: AuthResult  # pass, fail, permerror, temperror; policy: not verified (a limit)
    reason: str | None  # set unless result is pass: why, in one line
    domain: str | None  # d=; None when the signature is too broken to say
    selector: str | None  # s=
    algorithm: str | None  # a=, e.g. "rsa-sha256"
    canonicalization: str | None  # c=, default "simple/simple" applied
    identity: str | None  # i=, when present
    signed_headers: tuple[str, ...]  # h=, lowercase, in order (repeats kept: oversigning)
    body_length: int | None  # l=, when present (lets anyone append to the body)
    timestamp: int | None  # t=, when present
    expiration: int | None  # x=, when present
    key_record_name: str | None  # "<s>._domainkey.<d>"
    key_record: str | None  # the TXT text found there, when any
    key_type: str | None  # k= of the key record ("rsa", "ed25519"), when a key was found
    key_bits: int | None  # RSA modulus size or 256 for ed25519, when the key parsed
    body_hash: BodyHashResult
    covers_from: bool  # "from" is in h=
    header_b: str | None  # the first 8 characters of b= (RFC 6008 header.b)


@dataclass(frozen=True)
class SpfIdentityResult:
    """SPF for one identity (RFC 7208 §2.3 HELO, §2.4 MAIL FROM)."""

    identity: str  # "mailfrom" or "helo"
    domain: str  # the domain whose record was evaluated
    sender: str  # the address checked: the MAIL FROM, or postmaster@<helo>
    result: AuthResult
    explanation: str  # pyspf's one-line explanation


@dataclass(frozen=True)
class SpfEvaluation:
    envelope: Envelope
    mail_from: SpfIdentityResult | None  # set when there was a client IP and a domain to check
    helo: SpfIdentityResult | None  # set when there was a client IP and a HELO name
    not_checked_reason: str | None  # set when neither could be evaluated


@dataclass(frozen=True)
class DmarcEvaluation:
    """DMARC for the RFC5322.From domain (RFC 7489 §4.2, RFC 9989 §4.10)."""

    from_domain: str | None  # None when the message has no single From domain
    result: AuthResult  # pass, fail, none (no policy), temperror, permerror
    reason: str | None  # set unless result is pass
    disposition: DmarcDisposition  # what the policy asks receivers to do with this message
    record: str | None  # the record applied, when one was found
    record_domain: str | None  # "_dmarc.example.com", when a record was found
    organizational_domain: str | None
    policy: str | None  # effective policy for the From domain (p, sp or np)
    testing: bool  # t=y: receivers should apply one level lower
    adkim: str  # "r" or "s"
    aspf: str  # "r" or "s"
    spf_domain: str | None  # the domain SPF passed for (MAIL FROM domain), when SPF passed
    spf_aligned: bool
    spf_aligned_strict: bool
    dkim_domains: tuple[str, ...]  # d= of the signatures that passed
    dkim_aligned: bool
    dkim_aligned_strict: bool
    dkim_aligned_domain: str | None  # the first passing d= aligned in the record's mode
    # set when the From header names several domains (RFC 7489 §6.6.1): each domain's own
    # evaluation, in From order; the fields above are then those of the strictest one
    per_domain: tuple[DmarcEvaluation, ...] = ()
    domains_not_evaluated: int = 0  # From domains past MessageLimits.max_from_domains


@dataclass(frozen=True)
class ArcSetResult:
    instance: int
    domain: str | None  # d= of the ARC-Seal
    selector: str | None
    chain_validation: str | None  # cv= as the ARC-Seal states it
    seal_valid: bool
    message_signature_valid: bool


@dataclass(frozen=True)
class ArcResult:
    """The ARC chain's validation (RFC 8617 §5.2)."""

    result: AuthResult  # none (no ARC headers), pass, fail; policy: not validated (a limit)
    reason: str
    sets: tuple[ArcSetResult, ...]  # newest first, as far as validation got
    oldest_pass: int | None = None  # reserved for RFC 8617 §5.2 oldest-pass; None for now


@dataclass(frozen=True)
class HygieneResult:
    """Header facts RFC 5322 §3.6 and RFC 8058 ask for."""

    from_header_count: int
    from_addresses: tuple[str, ...]  # every address in every From header
    from_domain: str | None  # set when there is exactly one From address with a domain
    date: str | None  # the first Date header, when present
    date_valid: bool
    message_id: str | None
    message_id_valid: bool
    duplicate_headers: tuple[str, ...]  # single-instance headers that occur more than once
    mime_defects: tuple[str, ...]  # defects Python's MIME parser reported
    non_ascii_headers: tuple[str, ...]  # names of headers with raw 8-bit bytes
    list_unsubscribe: str | None
    list_unsubscribe_post: str | None
    one_click: bool  # RFC 8058: List-Unsubscribe-Post: List-Unsubscribe=One-Click + https URI
    unsubscribe_signed: bool  # both headers covered by a DKIM signature that passed
    # the line count when the message was too long to walk its MIME structure
    # (MessageLimits.max_mime_scan_lines); None when the structure was checked
    mime_not_checked_lines: int | None = None
    # the distinct domains of the addresses of the one From header, in order; () when there
    # is not exactly one From header or one of its addresses has no domain
    from_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageReport:
    """Everything `verify` found out about one message."""

    verified_at: str  # ISO 8601, UTC
    size: int  # bytes of the message as received
    size_limit: int
    too_large: bool  # over size_limit: nothing else was checked
    parsed: bool  # the header section could be read
    subject: str | None
    message_id: str | None
    envelope: Envelope
    dkim: tuple[DkimSignatureResult, ...]
    spf: SpfEvaluation | None  # None when not checked (too large / unparsable)
    dmarc: DmarcEvaluation | None
    arc: ArcResult | None
    hygiene: HygieneResult | None
    authentication_results: str  # the RFC 8601 header field, folded, without trailing CRLF
    status: CheckStatus  # pass / warn / fail from the worst finding
    findings: tuple[MessageFinding, ...]
    dns_queries: int = 0
