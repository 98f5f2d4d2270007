"""Findings of the starttls check (RFC 3207 STARTTLS, RFC 8996 TLS 1.0/1.1 deprecated,
RFC 6125 names, RFC 8461/7672 for when a certificate problem becomes fatal)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_TLS = CheckId.STARTTLS
_OPPORTUNISTIC = (
    " Mail TLS is opportunistic: senders without MTA-STS or DANE deliver anyway, so this "
    "costs no mail today; with an MTA-STS policy in enforce mode or DANE TLSA records, "
    "senders that honour them refuse to deliver to this MX (the mta_sts and dane checks "
    "say so when that applies)."
)

NOT_OFFERED = FindingSpec(
    code="starttls.not_offered",
    severity=Severity.MEDIUM,
    check=_TLS,
    title="MX does not offer STARTTLS",
    detail="{where} did not offer STARTTLS in its EHLO reply: mail to it travels in clear "
    "text.{scope_note}",
    remediation="Enable STARTTLS on the mail server with a certificate for its MX name, e.g. "
    "in Postfix: `smtpd_tls_security_level = may`, `smtpd_tls_chain_files = "
    "/etc/ssl/private/{host}.pem`.",
    references=("RFC 3207 §4", "RFC 8314"),
)

REFUSED = FindingSpec(
    code="starttls.refused",
    severity=Severity.MEDIUM,
    check=_TLS,
    title="MX offers STARTTLS but refuses the command",
    detail="{where} listed STARTTLS but answered the STARTTLS command with {reply}: senders "
    "fall back to clear text.",
    remediation="Fix the server's TLS configuration (certificate and key readable by the SMTP "
    "daemon), or stop advertising STARTTLS until it works.",
    references=("RFC 3207 §4",),
)

HANDSHAKE_FAILED = FindingSpec(
    code="starttls.handshake_failed",
    severity=Severity.MEDIUM,
    check=_TLS,
    title="STARTTLS offered, but the TLS handshake fails",
    detail="{where} accepted STARTTLS but the handshake failed ({reason}). Most senders then "
    "retry in clear text; some queue the mail.",
    remediation="Fix the server's TLS settings (protocol versions, cipher suites, certificate "
    "and key) so that a TLS 1.2 or 1.3 handshake completes.",
    references=("RFC 3207 §4", "RFC 8446"),
)

OLD_VERSION = FindingSpec(
    code="starttls.old_tls_version",
    severity=Severity.MEDIUM,
    check=_TLS,
    title="MX negotiates only an old TLS version",
    detail="{where} negotiated {version} when offered TLS 1.3: TLS 1.0 and 1.1 are "
    "deprecated and many senders no longer use them.",
    remediation="Enable TLS 1.2 and 1.3 on the server, e.g. in Postfix: "
    "`smtpd_tls_protocols = >=TLSv1.2`.",
    references=("RFC 8996", "RFC 7525 §3.1.1"),
)

LEGACY_ACCEPTED = FindingSpec(
    code="starttls.legacy_tls_accepted",
    severity=Severity.LOW,
    check=_TLS,
    title="MX still accepts TLS 1.0 or 1.1",
    detail="{where} completed a handshake with {version} when offered nothing newer. TLS 1.0 "
    "and 1.1 are deprecated (RFC 8996); a sender that still uses them gets weaker protection.",
    remediation="Refuse TLS before 1.2, e.g. in Postfix: "
    "`smtpd_tls_protocols = >=TLSv1.2` and `smtpd_tls_mandatory_protocols = >=TLSv1.2`.",
    references=("RFC 8996",),
)

UNTRUSTED = FindingSpec(
    code="starttls.certificate_untrusted",
    severity=Severity.LOW,
    check=_TLS,
    title="MX certificate is not trusted",
    detail="The certificate of {where} does not chain to a trusted root ({trust_store}): "
    "{reason}." + _OPPORTUNISTIC,
    remediation="Install a certificate from a public CA (e.g. Let's Encrypt) for {host}, with "
    "its intermediate certificates, in the SMTP server.",
    references=("RFC 3207 §4.1", "RFC 8461 §4.2", "RFC 7672 §3.1"),
)

NAME_MISMATCH = FindingSpec(
    code="starttls.certificate_name_mismatch",
    severity=Severity.LOW,
    check=_TLS,
    title="MX certificate does not name the MX host",
    detail="The certificate of {where} names {names}, not {host}." + _OPPORTUNISTIC,
    remediation="Get a certificate whose subjectAltName lists {host} (the name in the MX "
    "record) and install it in the SMTP server.",
    references=("RFC 6125 §6.4", "RFC 8461 §4.2"),
)

EXPIRED = FindingSpec(
    code="starttls.certificate_expired",
    severity=Severity.HIGH,
    check=_TLS,
    title="MX certificate has expired",
    detail="The certificate of {where} expired on {not_after} ({days} days ago). Senders "
    "that check certificates (MTA-STS, DANE-TA, many providers' policies) refuse it.",
    remediation="Renew the certificate for {host} and reload the SMTP server; automate "
    "renewal (e.g. certbot with a deploy hook that reloads Postfix).",
    references=("RFC 5280 §4.1.2.5", "RFC 8461 §4.2"),
)

EXPIRING = FindingSpec(
    code="starttls.certificate_expiring",
    severity=Severity.MEDIUM,
    check=_TLS,
    title="MX certificate expires within 14 days",
    detail="The certificate of {where} expires on {not_after}, in {days} days.",
    remediation="Renew the certificate for {host} now and check that renewal is automated.",
    references=("RFC 5280 §4.1.2.5",),
)

WEAK_KEY = FindingSpec(
    code="starttls.weak_key",
    severity=Severity.LOW,
    check=_TLS,
    title="MX certificate has a weak key",
    detail="The certificate of {where} has a {key} key; 2048-bit RSA or an EC key of 256 bits "
    "is the minimum current guidance asks for.",
    remediation="Issue a new certificate for {host} with a 2048-bit (or larger) RSA key or "
    "an ECDSA P-256 key.",
    references=("NIST SP 800-57 Part 1", "RFC 7525 §4.3"),
)

WEAK_SIGNATURE = FindingSpec(
    code="starttls.weak_signature",
    severity=Severity.LOW,
    check=_TLS,
    title="MX certificate is signed with SHA-1 or MD5",
    detail="The certificate of {where} is signed with {algorithm}, which is no longer "
    "collision resistant.",
    remediation="Reissue the certificate for {host} with a SHA-256 (or stronger) signature.",
    references=("RFC 9155",),
)

WEAK_GROUP = FindingSpec(
    code="starttls.weak_key_exchange",
    severity=Severity.LOW,
    check=_TLS,
    title="MX agrees on a weak key-exchange group",
    detail="{where} negotiated {group} for the key exchange; current guidance asks for a "
    "finite-field group of at least 2048 bits or an elliptic curve of at least 224 bits. "
    "A recorded session's secrecy is only as strong as this group.",
    remediation="Prefer ECDHE (X25519, P-256) and give DHE a group of 2048 bits or more "
    "(RFC 7919 ffdhe2048), e.g. in Postfix 3.7 or later remove a custom "
    "`smtpd_tls_dh1024_param_file` with a 1024-bit prime (the default `auto` uses "
    "ffdhe2048), or point it at a file made by `openssl dhparam 2048`.",
    references=("RFC 7919", "RFC 7525 §4.3", "NIST SP 800-57 Part 1"),
)

NOT_TESTED = FindingSpec(
    code="starttls.addresses_not_tested",
    severity=Severity.INFO,
    check=_TLS,
    title="Some MX addresses could not be tested",
    detail="{count} MX address(es) could not be tested ({addresses}); the verdict stands on "
    "the {tested} that could. Could not test is not 'no STARTTLS'.",
    remediation="Nothing to change if these servers work; run the audit again later, from a "
    "network that may connect to port 25.",
    references=("RFC 3207",),
)

NOT_PROBED = FindingSpec(
    code="starttls.addresses_not_probed",
    severity=Severity.INFO,
    check=_TLS,
    title="Some MX addresses were not probed",
    detail="{count} MX address(es) were not probed: {reasons}.",
    remediation="Nothing to change for a cap of this tool; publish only the MX hosts that "
    "receive mail (senders try only a few of them).",
    references=("RFC 5321 §5.1",),
)
