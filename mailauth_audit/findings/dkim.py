"""Findings of the DKIM check (RFC 6376 key records, RFC 8301 key sizes and hashes, RFC 8463)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_DKIM = CheckId.DKIM

# {new_selector} is options.suggested_dkim_selector() (s2026 in 2026): the name `dkim keygen`
# suggests and `check` probes, so following the advice is never "no selector found"
_NEW_KEY = '{new_selector}._domainkey.{domain}. 3600 IN TXT "v=DKIM1; k=rsa; p=<base64 public key>"'

NO_SELECTOR_FOUND = FindingSpec(
    code="dkim.no_selector_found",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="No DKIM key found at the selectors probed",
    detail="No DKIM key record was found for {domain} at the {count} selectors probed: "
    "{lists}.{nxdomain_note} DKIM keys can only be discovered by guessing selector "
    "names, so this is not proof that {domain} has no DKIM key: a sender may sign with a "
    "selector that is not on these lists. Without DKIM, DMARC rests on SPF alone, which "
    "breaks when mail is forwarded.",
    remediation="Turn on DKIM signing at your mail provider with a 2048-bit RSA key (most "
    "providers generate the key and show the record to publish), and publish its public key "
    "under a selector: `" + _NEW_KEY + "` (split a long key into strings of at most 255 "
    "bytes). If you already sign with another selector, re-run with `--selector NAME`, "
    "`--selectors-file FILE` (one name per line) or `--selectors-from MESSAGE` (a message "
    "you sent: the s= of its DKIM-Signature fields).",
    references=("RFC 6376 §3.6.1", "RFC 6376 §3.6.2.1", "RFC 8301 §3.2"),
)

NOT_NEEDED_NO_MAIL = FindingSpec(
    code="dkim.not_needed_no_mail",
    severity=Severity.INFO,
    check=_DKIM,
    title="No DKIM key, and the domain declares that it sends no mail",
    detail="No DKIM key was found for {domain} at the selectors probed ({selectors}), and "
    "the domain says it sends no mail (no MX or a null MX, SPF `v=spf1 -all`, DMARC "
    "p=reject). It needs no DKIM key.",
    # no record proposed: a domain that sends no mail needs no key
    remediation="Nothing to do. If {domain} starts sending mail, publish a DKIM key first, "
    "under a new selector such as {new_selector}.",
    references=("RFC 6376 §3.6.1", "RFC 7505", "RFC 7489 §6.3"),
)

KEY_TOO_SHORT = FindingSpec(
    code="dkim.key_too_short",
    severity=Severity.HIGH,
    check=_DKIM,
    title="DKIM RSA key shorter than 1024 bits",
    detail="Selector {selector} of {domain} publishes a {bits}-bit RSA key. RFC 8301 requires "
    "at least 1024 bits: verifiers may treat its signatures as failing, and keys this short "
    "can be factored and used to forge mail from {domain}.",
    remediation="Generate a 2048-bit key, publish it under a new selector (`"
    + _NEW_KEY
    + "`), switch signing to it, then revoke the old key: "
    '`{selector}._domainkey.{domain}. 3600 IN TXT "v=DKIM1; p="`.',
    references=("RFC 8301 §3.2", "RFC 6376 §3.3.3"),
)

KEY_TOO_LONG = FindingSpec(
    code="dkim.key_too_long",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="DKIM RSA key longer than 4096 bits",
    detail="Selector {selector} of {domain} publishes a {bits}-bit RSA key. RFC 8301 only "
    "requires verifiers to handle keys of up to 4096 bits, and common libraries (OpenSSL) "
    "refuse keys over 16384 bits, so some or all verifiers fail signatures made with it.",
    remediation="Generate a 2048-bit key (or 4096 at most), publish it under a new selector "
    "(`" + _NEW_KEY + "`), switch signing to it, then revoke the old key: "
    '`{selector}._domainkey.{domain}. 3600 IN TXT "v=DKIM1; p="`.',
    references=("RFC 8301 §3.2",),
)

UNUSUAL_EXPONENT = FindingSpec(
    code="dkim.unusual_exponent",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="DKIM RSA key with an unusual public exponent",
    detail="Selector {selector} of {domain} publishes an RSA key whose public exponent is "
    "{exponent}. Signers use a small odd exponent (65537, sometimes 3); {why}",
    remediation="Generate a new key with the usual exponent 65537 (any key generator's "
    "default), publish it under a new selector (`" + _NEW_KEY + "`), switch signing to it, "
    'then revoke the old key: `{selector}._domainkey.{domain}. 3600 IN TXT "v=DKIM1; p="`.',
    references=("RFC 8017 §3.1", "RFC 8301 §3.2"),
)

KEY_1024 = FindingSpec(
    code="dkim.key_1024",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="DKIM RSA key shorter than the recommended 2048 bits",
    detail="Selector {selector} of {domain} publishes a {bits}-bit RSA key. RFC 8301 accepts "
    "1024 bits as the minimum but says signers should use at least 2048; 1024-bit RSA is "
    "within reach of well-funded attackers.",
    remediation="Generate a 2048-bit key, publish it under a new selector (`"
    + _NEW_KEY
    + "`), switch signing to it, then revoke the old key: "
    '`{selector}._domainkey.{domain}. 3600 IN TXT "v=DKIM1; p="`.',
    references=("RFC 8301 §3.2",),
)

REVOKED_KEY = FindingSpec(
    code="dkim.revoked_key",
    severity=Severity.INFO,
    check=_DKIM,
    title="DKIM key revoked (empty p=)",
    detail="Selector {selector} of {domain} publishes an empty p= tag: its key is revoked, "
    "which is the normal state after a key rotation.{only_note}",
    remediation="Nothing to do if mail is signed with another, published selector. If this "
    "was the selector in use, publish a new key: `" + _NEW_KEY + "`.",
    references=("RFC 6376 §3.6.1",),
)

TESTING_MODE = FindingSpec(
    code="dkim.testing_mode",
    severity=Severity.LOW,
    check=_DKIM,
    title="DKIM key in testing mode (t=y)",
    detail="Selector {selector} of {domain} has t=y: verifiers must not treat its signatures "
    "differently from unsigned mail, so they protect nothing.",
    remediation="Once signing works, remove the y flag: `{fixed_record}`",
    references=("RFC 6376 §3.6.1",),
)

SHA1_ONLY = FindingSpec(
    code="dkim.sha1_only",
    severity=Severity.HIGH,
    check=_DKIM,
    title="DKIM key allows only SHA-1 signatures",
    detail="Selector {selector} of {domain} has h={hashes}: the key may be used only with "
    "SHA-1, which RFC 8301 forbids; verifiers treat rsa-sha1 signatures as failing.",
    remediation="Sign with rsa-sha256 and remove the h= tag (or set h=sha256): `{fixed_record}`",
    references=("RFC 8301 §3.1",),
)

NO_SUPPORTED_HASH = FindingSpec(
    code="dkim.no_supported_hash",
    severity=Severity.HIGH,
    check=_DKIM,
    title="DKIM key allows no hash algorithm verifiers support",
    detail="Selector {selector} of {domain} has h={hashes}, which names neither sha256 nor "
    "sha1: no signature made with this key can verify.",
    remediation="Remove the h= tag (or set h=sha256): `{fixed_record}`",
    references=("RFC 6376 §3.6.1", "RFC 8301 §3.1"),
)

SERVICE_TYPE_EXCLUDES_EMAIL = FindingSpec(
    code="dkim.service_type_excludes_email",
    severity=Severity.HIGH,
    check=_DKIM,
    title="DKIM key is not for email (s= tag)",
    detail="Selector {selector} of {domain} has s={services}: verifiers must not use it for "
    "email, so mail signed with it fails DKIM.",
    remediation="Remove the s= tag (or set s=email): `{fixed_record}`",
    references=("RFC 6376 §3.6.1",),
)

INVALID_RECORD = FindingSpec(
    code="dkim.invalid_record",
    severity=Severity.HIGH,
    check=_DKIM,
    title="DKIM key record is invalid",
    detail="The DKIM key record at {name} cannot be used: {error}{position_note}. Verifiers "
    "fail every signature made with selector {selector}.",
    remediation="Republish the record at {name} exactly as your mail provider or signing "
    "software gives it: v=DKIM1, the key type and the whole public key (a long key split "
    "into quoted strings of at most 255 bytes, with nothing cut off).",
    references=("RFC 6376 §3.6.1", "RFC 6376 §3.2", "RFC 8463 §4"),
)

UNKNOWN_KEY_TYPE = FindingSpec(
    code="dkim.unknown_key_type",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="DKIM key of a type verifiers do not know",
    detail="Selector {selector} of {domain} has k={key_type}; verifiers know rsa and ed25519 "
    "and ignore other key types, so signatures made with it fail.",
    remediation='Publish the key with its real type, e.g. `{name}. 3600 IN TXT "v=DKIM1; '
    'k=rsa; p=<base64 public key>"`.',
    references=("RFC 6376 §3.6.1", "RFC 8463 §4"),
)

CNAME_LOOP = FindingSpec(
    code="dkim.cname_loop",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="DKIM selector is a CNAME that loops",
    detail="The selector {selector} of {domain} is an alias chain that never ends ({chain}): "
    "verifiers find no key for it and fail its signatures.",
    remediation="Make {name} a single CNAME to the name your provider gives (which must hold "
    "the TXT key record), or replace the alias with the key record itself.",
    references=("RFC 6376 §3.6.2.2", "RFC 1034 §3.6.2"),
)

DANGLING_CNAME = FindingSpec(
    code="dkim.dangling_cname",
    severity=Severity.LOW,
    check=_DKIM,
    title="DKIM selector delegated by CNAME to a name with no key",
    detail="{name} is an alias of {target}, which has no TXT record: verifiers find no key "
    "for selector {selector}. This is typical when DKIM was prepared at a provider but never "
    "turned on there, or after leaving the provider.",
    remediation="Turn DKIM signing on at the provider that owns {target}, or delete the CNAME "
    "at {name} if you no longer use that provider.",
    references=("RFC 6376 §3.6.2.2",),
)

NOT_A_KEY_RECORD = FindingSpec(
    code="dkim.not_a_key_record",
    severity=Severity.LOW,
    check=_DKIM,
    title="TXT record at a DKIM selector that is not a DKIM key",
    detail="At selector(s) {selectors} of {domain} the TXT record is not a DKIM key record "
    "(no v=DKIM1 and no p= tag). Verifiers that look up these selectors get no key; a "
    "wildcard TXT record often causes this.",
    remediation="Remove the TXT record (or narrow the wildcard) if no selector of that name "
    "is meant to exist; if a key is meant to be there, publish it as "
    '`{name}. 3600 IN TXT "v=DKIM1; k=rsa; p=<base64 public key>"`.',
    references=("RFC 6376 §3.6.1", "RFC 6376 §3.6.2.2"),
)

MULTIPLE_RECORDS = FindingSpec(
    code="dkim.multiple_records",
    severity=Severity.MEDIUM,
    check=_DKIM,
    title="More than one TXT record at a DKIM selector",
    detail="{name} has {count} TXT records. RFC 6376 says the result is undefined: a "
    "verifier may pick the wrong one and fail the signature.",
    remediation="Keep only the DKIM key record at {name} and delete the others.",
    references=("RFC 6376 §3.6.2.2",),
)

ED25519_WITHOUT_RSA = FindingSpec(
    code="dkim.ed25519_without_rsa",
    severity=Severity.LOW,
    check=_DKIM,
    title="Only ed25519 DKIM keys: verifiers without ed25519 see unsigned mail",
    detail="{domain} publishes ed25519 key(s) ({selectors}) but no usable RSA key at the "
    "selectors probed. Many verifiers do not support ed25519 yet; RFC 8463 expects signers "
    "to add an RSA signature alongside.",
    remediation="Also sign with a 2048-bit RSA key under a second selector: `" + _NEW_KEY + "`.",
    references=("RFC 8463 §4", "RFC 8301 §3.2"),
)

SELECTORS_NOT_PROBED = FindingSpec(
    code="dkim.selectors_not_probed",
    severity=Severity.INFO,
    check=_DKIM,
    title="Some DKIM selectors were not probed (per-domain limit)",
    detail="{count} DKIM selector names for {domain} were not probed: at most {limit} are "
    "asked per domain, the selectors given first, then the detected providers', the "
    "date-style and the built-in names. Not probed: {selectors}.",
    remediation="If a key may be published at one of these, re-run with a higher "
    "`--max-selectors`, or with `--no-default-selectors` and only the names you need.",
    references=("RFC 6376 §3.6.2.1",),
)
