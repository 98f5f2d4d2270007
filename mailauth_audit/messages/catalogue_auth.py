"""The message-verification findings of the authentication results: DKIM signatures, SPF for
the delivery, DMARC for the From domain, the ARC chain. Re-exported by `catalogue.py`, which
callers import (`from . import catalogue as F`)."""

from __future__ import annotations

from ..model import Severity
from .finding_spec import MessageFindingSpec
from .model import MessageCheckId

M = MessageCheckId
S = Severity

# --- DKIM signatures -----------------------------------------------------------------------------

DKIM_NONE = MessageFindingSpec(
    "dkim_sig.none",
    S.HIGH,
    M.DKIM_SIG,
    "Message is not DKIM-signed",
    "There is no DKIM-Signature header, so DMARC can only pass through SPF, which breaks on "
    "forwarding.",
    "Sign outgoing mail with DKIM (rsa-sha256 with a 2048-bit key, or ed25519-sha256) for the "
    "From domain, and publish the key at <selector>._domainkey.<domain>.",
    ("RFC 6376", "RFC 7489 §4.2"),
)
DKIM_FAIL = MessageFindingSpec(
    "dkim_sig.fail",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM signature does not verify",
    "Signature {index} (d={domain}, s={selector}): {reason}.",
    "Check that the message is not altered after signing and that the published key at "
    "{key_name} matches the signing key.",
    ("RFC 6376 §6.1.3",),
)
DKIM_BODY_HASH = MessageFindingSpec(
    "dkim_sig.body_hash_mismatch",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM body hash does not match: the body was changed after signing",
    "Signature {index} (d={domain}, s={selector}): the body hash does not match.",
    "Find what rewrites the body after signing (footers, line-ending or encoding changes) "
    "and sign after it.",
    ("RFC 6376 §3.7",),
)
DKIM_PERMERROR = MessageFindingSpec(
    "dkim_sig.permerror",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM signature cannot be verified",
    "Signature {index} (d={domain}, s={selector}): {reason}.",
    "Fix the signature or the key record named in the detail.",
    ("RFC 6376 §6.1", "RFC 8601 §2.7.1"),
)
DKIM_KEY_MISSING = MessageFindingSpec(
    "dkim_sig.key_missing",
    S.HIGH,
    M.DKIM_SIG,
    "No DKIM key published for the signature's selector",
    "Signature {index} names {key_name}, which has no DKIM key record.",
    "Publish the public key:\n{zone_line}",
    ("RFC 6376 §6.1.2",),
)
DKIM_KEY_REVOKED = MessageFindingSpec(
    "dkim_sig.key_revoked",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM key has been revoked (empty p=)",
    "Signature {index} uses {key_name}, whose key record has an empty p= (revoked).",
    "Sign with a current selector, or publish the key again if the revocation was a mistake.",
    ("RFC 6376 §3.6.1",),
)
DKIM_KEY_NOT_ACCEPTABLE = MessageFindingSpec(
    "dkim_sig.key_not_acceptable",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM key is not acceptable to verifiers (too large, or an unusual exponent)",
    "Signature {index} (d={domain}, s={selector}) uses the key at {key_name}: {reason}. It was "
    "not used.",
    "Publish an RSA key of 2048 bits (at most 4096) with the public exponent 65537, or an "
    "ed25519 key, under a new selector.",
    ("RFC 8301 §3.2", "RFC 6376 §3.3.3"),
)
DKIM_KEY_ALGORITHM_MISMATCH = MessageFindingSpec(
    "dkim_sig.key_algorithm_mismatch",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM key record is for another algorithm than the signature (inappropriate key algorithm)",
    "Signature {index} (d={domain}, s={selector}) uses the key at {key_name}: {reason}.",
    "Publish the key under the selector the signer uses with the k= of its algorithm (k=rsa "
    "for rsa-sha256, k=ed25519 for ed25519-sha256), or sign with the selector of that key.",
    ("RFC 6376 §6.1.2", "RFC 8463 §4"),
)
DKIM_NOT_VERIFIED = MessageFindingSpec(
    "dkim_sig.not_verified",
    S.LOW,
    M.DKIM_SIG,
    "Some DKIM signatures were not verified (a per-message limit)",
    "{count} of {total} DKIM signatures were not verified: {reason}. They count as neither "
    "pass nor fail.",
    "Sign each message once or twice (one signature per signing domain); receivers stop "
    "after a handful.",
    ("RFC 6376 §6.1", "RFC 8601 §2.7.1"),
)
DKIM_EXPIRED = MessageFindingSpec(
    "dkim_sig.expired",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM signature has expired",
    "Signature {index} (d={domain}) expired at x={expiration}.",
    "Use a longer x= validity (days, not minutes) or omit x=.",
    ("RFC 6376 §3.5",),
)
DKIM_TEMPERROR = MessageFindingSpec(
    "dkim_sig.temperror",
    S.MEDIUM,
    M.DKIM_SIG,
    "DKIM key could not be fetched (temporary DNS error)",
    "Signature {index}: {reason}.",
    "Retry; if it persists, check the authoritative servers of {domain}.",
    ("RFC 6376 §6.1.2",),
)
DKIM_WEAK_KEY = MessageFindingSpec(
    "dkim_sig.weak_key",
    S.MEDIUM,
    M.DKIM_SIG,
    "DKIM RSA key is shorter than 2048 bits",
    "Signature {index} (d={domain}, s={selector}) uses a {bits}-bit RSA key.",
    "Generate a 2048-bit key and publish it under a new selector.",
    ("RFC 8301 §3.2",),
)
DKIM_SHA1 = MessageFindingSpec(
    "dkim_sig.sha1",
    S.MEDIUM,
    M.DKIM_SIG,
    "DKIM signature uses rsa-sha1",
    "Signature {index} (d={domain}) uses rsa-sha1, which RFC 8301 forbids for signing.",
    "Sign with rsa-sha256 (or ed25519-sha256).",
    ("RFC 8301 §3.1",),
)
DKIM_BODY_LENGTH = MessageFindingSpec(
    "dkim_sig.body_length_limit",
    S.MEDIUM,
    M.DKIM_SIG,
    "DKIM signature covers only part of the body (l= tag)",
    "Signature {index} (d={domain}) signs only the first {length} bytes of the body; anyone "
    "can append content that still verifies.",
    "Do not use the l= tag.",
    ("RFC 6376 §8.2",),
)
DKIM_FROM_UNSIGNED = MessageFindingSpec(
    "dkim_sig.from_not_signed",
    S.HIGH,
    M.DKIM_SIG,
    "DKIM signature does not cover the From header",
    "Signature {index} (d={domain}) h= does not include From.",
    "Include From in h= (and list it twice to prevent an added From).",
    ("RFC 6376 §5.4",),
)

# --- SPF ----------------------------------------------------------------------------------------

SPF_FAIL = MessageFindingSpec(
    "spf_auth.fail",
    S.HIGH,
    M.SPF_AUTH,
    "SPF fails for the sending IP",
    "SPF for {identity} {domain} gave {result} for client {ip}: {explanation}.",
    "Authorise the sending IP in the SPF record of {domain}: add `{mechanism}` before its "
    "`all` and keep its other terms (`mailauth-audit check {domain}` shows the record).",
    ("RFC 7208 §2.6.4",),
)
SPF_SOFTFAIL = MessageFindingSpec(
    "spf_auth.softfail",
    S.MEDIUM,
    M.SPF_AUTH,
    "SPF softfails for the sending IP",
    "SPF for {identity} {domain} gave softfail for client {ip}.",
    "Authorise the sending IP in the SPF record of {domain} (ip4:{ip} or an include of your "
    "provider).",
    ("RFC 7208 §2.6.5",),
)
SPF_NEUTRAL = MessageFindingSpec(
    "spf_auth.neutral",
    S.LOW,
    M.SPF_AUTH,
    "SPF neither authorises nor forbids the sending IP",
    "SPF for {identity} {domain} gave neutral for client {ip}.",
    "Authorise the sending IP explicitly in the SPF record of {domain}.",
    ("RFC 7208 §2.6.3",),
)
SPF_NONE = MessageFindingSpec(
    "spf_auth.none",
    S.MEDIUM,
    M.SPF_AUTH,
    "No SPF record for the envelope domain",
    "{domain} ({identity}) publishes no SPF record.",
    "Publish one:\n{zone_line}",
    ("RFC 7208 §4.5",),
)
SPF_PERMERROR = MessageFindingSpec(
    "spf_auth.permerror",
    S.HIGH,
    M.SPF_AUTH,
    "SPF record of the envelope domain is broken",
    "SPF for {identity} {domain}: {explanation}.",
    "Fix the SPF record of {domain}; `mailauth-audit check {domain}` shows the error.",
    ("RFC 7208 §2.6.7",),
)
SPF_TEMPERROR = MessageFindingSpec(
    "spf_auth.temperror",
    S.MEDIUM,
    M.SPF_AUTH,
    "SPF could not be evaluated (temporary DNS error)",
    "SPF for {identity} {domain}: {explanation}.",
    "Retry; if it persists, check the authoritative servers of {domain}.",
    ("RFC 7208 §2.6.6",),
)
SPF_NOT_CHECKED = MessageFindingSpec(
    "spf_auth.not_checked",
    S.INFO,
    M.SPF_AUTH,
    "SPF was not evaluated",
    "{reason}.",
    "Pass --client-ip (and --helo, --mail-from), or verify a message that carries a Received "
    "header from the receiving server.",
    ("RFC 7208 §2",),
)

# --- DMARC --------------------------------------------------------------------------------------

DMARC_FAIL = MessageFindingSpec(
    "dmarc_auth.fail",
    S.HIGH,
    M.DMARC_AUTH,
    "DMARC fails: neither SPF nor DKIM passes aligned with the From domain",
    "From domain {domain}: SPF {spf_detail}; DKIM {dkim_detail}. Policy {policy} means "
    "receivers {disposition} this message.",
    "Sign with DKIM for {domain} (d={domain} or a subdomain under relaxed alignment), or send "
    "with a MAIL FROM in {domain} authorised by its SPF record.",
    ("RFC 7489 §4.2", "RFC 9989 §4.4"),
)
DMARC_NONE = MessageFindingSpec(
    "dmarc_auth.none",
    S.MEDIUM,
    M.DMARC_AUTH,
    "The From domain has no DMARC policy",
    "No DMARC record applies to {domain}.",
    "Publish one, starting with monitoring:\n{zone_line}",
    ("RFC 7489 §6.1",),
)
DMARC_TEMPERROR = MessageFindingSpec(
    "dmarc_auth.temperror",
    S.MEDIUM,
    M.DMARC_AUTH,
    "DMARC policy could not be fetched (temporary DNS error)",
    "{reason}.",
    "Retry; if it persists, check the authoritative servers of {domain}.",
    ("RFC 7489 §6.6.3",),
)
DMARC_NOT_CHECKED = MessageFindingSpec(
    "dmarc_auth.not_checked",
    S.MEDIUM,
    M.DMARC_AUTH,
    "DMARC was not evaluated",
    "{reason}.",
    "Send exactly one From header with one address.",
    ("RFC 7489 §6.6.1",),
)
DMARC_SPF_UNALIGNED = MessageFindingSpec(
    "dmarc_auth.spf_not_aligned",
    S.LOW,
    M.DMARC_AUTH,
    "SPF passes, but not for the From domain",
    "SPF passed for {spf_domain}, which is not aligned ({mode}) with the From domain {domain}.",
    "Use a MAIL FROM (bounce address) in {domain}, or rely on aligned DKIM.",
    ("RFC 7489 §3.1.2",),
)
DMARC_DKIM_UNALIGNED = MessageFindingSpec(
    "dmarc_auth.dkim_not_aligned",
    S.MEDIUM,
    M.DMARC_AUTH,
    "DKIM passes, but not for the From domain",
    "Valid signatures are from {dkim_domains}, none aligned ({mode}) with {domain}.",
    "Sign with d={domain} (your provider calls this a custom DKIM domain).",
    ("RFC 7489 §3.1.1",),
)

# --- ARC ----------------------------------------------------------------------------------------

ARC_FAIL = MessageFindingSpec(
    "arc.fail",
    S.MEDIUM,
    M.ARC,
    "ARC chain does not validate",
    "{reason}.",
    "If an intermediary you run adds ARC sets, check its ARC signing key and that nothing "
    "modifies the message after sealing.",
    ("RFC 8617 §5.2",),
)
ARC_NOT_VERIFIED = MessageFindingSpec(
    "arc.not_verified",
    S.LOW,
    M.ARC,
    "ARC chain was not validated (a per-message limit)",
    "{reason}. The chain counts as neither pass nor fail.",
    "Keep ARC chains short: each intermediary adds one set, and RFC 8617 allows at most 50.",
    ("RFC 8617 §4.2.1", "RFC 8617 §5.2"),
)
