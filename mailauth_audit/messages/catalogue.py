"""The findings catalogue of message verification: one spec per stable code.

The spec type is `finding_spec.MessageFindingSpec`; the specs of the message itself (parsing,
size, hygiene) are here, those of the authentication results (DKIM, SPF, DMARC, ARC) in
`catalogue_auth.py`, re-exported here so callers use one module.
"""

from __future__ import annotations

from ..model import Severity
from .catalogue_auth import (
    ARC_FAIL,
    ARC_NOT_VERIFIED,
    DKIM_BODY_HASH,
    DKIM_BODY_LENGTH,
    DKIM_EXPIRED,
    DKIM_FAIL,
    DKIM_FROM_UNSIGNED,
    DKIM_KEY_ALGORITHM_MISMATCH,
    DKIM_KEY_MISSING,
    DKIM_KEY_NOT_ACCEPTABLE,
    DKIM_KEY_REVOKED,
    DKIM_NONE,
    DKIM_NOT_VERIFIED,
    DKIM_PERMERROR,
    DKIM_SHA1,
    DKIM_TEMPERROR,
    DKIM_WEAK_KEY,
    DMARC_DKIM_UNALIGNED,
    DMARC_FAIL,
    DMARC_NONE,
    DMARC_NOT_CHECKED,
    DMARC_SPF_UNALIGNED,
    DMARC_TEMPERROR,
    SPF_FAIL,
    SPF_NEUTRAL,
    SPF_NONE,
    SPF_NOT_CHECKED,
    SPF_PERMERROR,
    SPF_SOFTFAIL,
    SPF_TEMPERROR,
)
from .finding_spec import MessageFindingSpec
from .model import MessageCheckId

M = MessageCheckId
S = Severity

__all__ = [
    "ARC_FAIL",
    "ARC_NOT_VERIFIED",
    "DKIM_BODY_HASH",
    "DKIM_BODY_LENGTH",
    "DKIM_EXPIRED",
    "DKIM_FAIL",
    "DKIM_FROM_UNSIGNED",
    "DKIM_KEY_ALGORITHM_MISMATCH",
    "DKIM_KEY_MISSING",
    "DKIM_KEY_NOT_ACCEPTABLE",
    "DKIM_KEY_REVOKED",
    "DKIM_NONE",
    "DKIM_NOT_VERIFIED",
    "DKIM_PERMERROR",
    "DKIM_SHA1",
    "DKIM_TEMPERROR",
    "DKIM_WEAK_KEY",
    "DMARC_DKIM_UNALIGNED",
    "DMARC_FAIL",
    "DMARC_NONE",
    "DMARC_NOT_CHECKED",
    "DMARC_SPF_UNALIGNED",
    "DMARC_TEMPERROR",
    "DUPLICATE_HEADER",
    "FROM_NO_DOMAIN",
    "HEADER_LIMIT",
    "INVALID_DATE",
    "INVALID_MESSAGE_ID",
    "MIME_DEFECT",
    "MIME_NOT_CHECKED",
    "MISSING_DATE",
    "MISSING_MESSAGE_ID",
    "MULTIPLE_FROM",
    "NON_ASCII_HEADER",
    "NO_FROM",
    "NO_UNSUBSCRIBE",
    "SPF_FAIL",
    "SPF_NEUTRAL",
    "SPF_NONE",
    "SPF_NOT_CHECKED",
    "SPF_PERMERROR",
    "SPF_SOFTFAIL",
    "SPF_TEMPERROR",
    "TOO_LARGE",
    "UNPARSABLE",
    "UNSUBSCRIBE_UNSIGNED",
    "MessageFindingSpec",
]

# --- message: parsing, size, hygiene ------------------------------------------------------------

TOO_LARGE = MessageFindingSpec(
    "message.too_large",
    S.HIGH,
    M.MESSAGE,
    "Message is larger than the verification size limit",
    "The message is {size} bytes; the limit is {limit} bytes, so it was not verified.",
    "Send a smaller test message, or raise the limit with --max-size if this size is expected.",
    ("RFC 5321 §4.5.3.1.7",),
)
UNPARSABLE = MessageFindingSpec(
    "message.unparsable",
    S.HIGH,
    M.MESSAGE,
    "The header section cannot be parsed",
    "The header section is not RFC 5322 syntax: {error}.",
    "Make the sender emit 'Name: value' header lines separated from the body by an empty line.",
    ("RFC 5322 §2.2",),
)
HEADER_LIMIT = MessageFindingSpec(
    "message.header_limit",
    S.HIGH,
    M.MESSAGE,
    "Message refused: its header section is over a limit",
    "Message refused: {what}. Nothing else was checked.",
    "Send fewer and shorter header fields (a real message has a few dozen, a few kilobytes), "
    "or raise the limits with --max-header-fields / --max-header-bytes if this is expected.",
    ("RFC 5322 §2.1.1", "RFC 5322 §3.6"),
)
NO_FROM = MessageFindingSpec(
    "message.no_from",
    S.HIGH,
    M.MESSAGE,
    "Message has no From header",
    "RFC 5322 requires exactly one From header; without it DMARC has no domain to evaluate.",
    "Add one From header with one address, e.g. 'From: Alerts <alerts@example.com>'.",
    ("RFC 5322 §3.6", "RFC 7489 §6.6.1"),
)
MULTIPLE_FROM = MessageFindingSpec(
    "message.multiple_from",
    S.HIGH,
    M.MESSAGE,
    "Message has more than one From header or address",
    "Found {headers} From header(s) with {count} address(es): {addresses}. Receivers reject "
    "such messages or cannot apply DMARC to them.",
    "Send exactly one From header containing exactly one address.",
    ("RFC 5322 §3.6", "RFC 7489 §6.6.1"),
)
FROM_NO_DOMAIN = MessageFindingSpec(
    "message.from_without_domain",
    S.HIGH,
    M.MESSAGE,
    "From address has no domain",
    "The From address {address!r} has no domain, so DMARC cannot be evaluated.",
    "Use a full address with a domain in From, e.g. 'alerts@example.com'.",
    ("RFC 5322 §3.4.1",),
)
MISSING_DATE = MessageFindingSpec(
    "message.missing_date",
    S.MEDIUM,
    M.MESSAGE,
    "Message has no Date header",
    "RFC 5322 requires a Date header; many receivers score its absence as spam.",
    "Add a Date header, e.g. 'Date: Wed, 25 Nov 2026 10:00:00 +0000'.",
    ("RFC 5322 §3.6",),
)
INVALID_DATE = MessageFindingSpec(
    "message.invalid_date",
    S.MEDIUM,
    M.MESSAGE,
    "Date header is not a valid RFC 5322 date",
    "Date is {date!r}.",
    "Emit the date in RFC 5322 form, e.g. 'Date: Wed, 25 Nov 2026 10:00:00 +0000'.",
    ("RFC 5322 §3.3",),
)
MISSING_MESSAGE_ID = MessageFindingSpec(
    "message.missing_message_id",
    S.MEDIUM,
    M.MESSAGE,
    "Message has no Message-ID header",
    "RFC 5322 says every message SHOULD have a Message-ID; large receivers penalise its absence.",
    "Add a Message-ID, e.g. 'Message-ID: <20261125100000.12345@mail.example.com>'.",
    ("RFC 5322 §3.6.4",),
)
INVALID_MESSAGE_ID = MessageFindingSpec(
    "message.invalid_message_id",
    S.LOW,
    M.MESSAGE,
    "Message-ID is not of the form <left@right>",
    "Message-ID is {message_id!r}.",
    "Generate Message-IDs as '<unique-part@your-domain>'.",
    ("RFC 5322 §3.6.4",),
)
DUPLICATE_HEADER = MessageFindingSpec(
    "message.duplicate_header",
    S.MEDIUM,
    M.MESSAGE,
    "A header that may occur only once occurs more than once",
    "{header} occurs {count} times.",
    "Emit each of Date, From, Sender, Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To, "
    "References and Subject at most once.",
    ("RFC 5322 §3.6",),
)
MIME_DEFECT = MessageFindingSpec(
    "message.mime_defect",
    S.LOW,
    M.MESSAGE,
    "MIME structure is malformed",
    "The MIME parser reported: {defects}.",
    "Fix the MIME structure (boundaries, Content-Type parameters, transfer encodings).",
    ("RFC 2045", "RFC 2046 §5.1.1"),
)
MIME_NOT_CHECKED = MessageFindingSpec(
    "message.mime_not_checked",
    S.LOW,
    M.MESSAGE,
    "MIME structure was not checked",
    "The message has {lines} lines, more than the {limit} the MIME-structure check walks; "
    "its MIME structure could not be checked.",
    "Nothing to change if the message is meant to be this long; otherwise send a shorter "
    "message, or raise MessageLimits.max_mime_scan_lines to check it.",
    ("RFC 2045", "RFC 2046 §5.1.1"),
)
NON_ASCII_HEADER = MessageFindingSpec(
    "message.non_ascii_header",
    S.LOW,
    M.MESSAGE,
    "Header contains raw 8-bit bytes",
    "Headers with raw non-ASCII bytes: {headers}. Without SMTPUTF8 these must be RFC 2047-encoded.",
    "Encode non-ASCII header text with RFC 2047 encoded-words (or send with SMTPUTF8).",
    ("RFC 5322 §2.2", "RFC 2047", "RFC 6532"),
)
NO_UNSUBSCRIBE = MessageFindingSpec(
    "message.no_one_click_unsubscribe",
    S.INFO,
    M.MESSAGE,
    "No one-click unsubscribe",
    "The message has no List-Unsubscribe with List-Unsubscribe-Post: List-Unsubscribe=One-Click. "
    "Large mailbox providers require it for bulk mail.",
    "For bulk mail add 'List-Unsubscribe: <https://example.com/unsub?u=TOKEN>' and "
    "'List-Unsubscribe-Post: List-Unsubscribe=One-Click', both signed by DKIM.",
    ("RFC 8058 §3.1", "RFC 2369 §3.2"),
)
UNSUBSCRIBE_UNSIGNED = MessageFindingSpec(
    "message.unsubscribe_not_signed",
    S.MEDIUM,
    M.MESSAGE,
    "One-click unsubscribe headers are not covered by a valid DKIM signature",
    "RFC 8058 requires both List-Unsubscribe and List-Unsubscribe-Post to be covered by a "
    "valid DKIM signature; without that receivers ignore one-click unsubscribe.",
    "Add list-unsubscribe and list-unsubscribe-post to the signer's h= list.",
    ("RFC 8058 §4",),
)
