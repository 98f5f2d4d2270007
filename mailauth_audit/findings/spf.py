"""Findings of the SPF check (RFC 7208).

Most of these are what receivers call `permerror`: SPF then fails for every message, which
under DMARC means the domain's mail leans entirely on DKIM. Those are high.
"""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_SPF = CheckId.SPF

MISSING = FindingSpec(
    code="spf.missing",
    severity=Severity.HIGH,
    check=_SPF,
    title="No SPF record",
    detail="{domain} publishes no TXT record starting with `v=spf1`, so receivers cannot tell "
    "which hosts may send mail for it and anyone can use its name in MAIL FROM.{ignored}",
    remediation="Publish one SPF record listing the hosts that send mail for {domain}. If its "
    "mail leaves through its own MX hosts: `{mx_line}`. If {domain} sends no mail at all: "
    "`{none_line}`. Add `include:` terms for any provider that sends for you (see the "
    "provider's documentation).",
    references=("RFC 7208 §4.5", "RFC 7208 §3"),
)

VERSION_MALFORMED = FindingSpec(
    code="spf.version_malformed",
    severity=Severity.MEDIUM,
    check=_SPF,
    title="A TXT record looks like SPF but receivers ignore it",
    detail="{domain} has {count} TXT record(s) that look like SPF but do not start with exactly "
    "`v=spf1` followed by a space, so receivers skip them: {records}",
    remediation="Rewrite the record so that it starts with `v=spf1 ` (no leading space, no "
    "tab, no other version), or delete it if another SPF record is already published.",
    references=("RFC 7208 §4.5",),
)

MULTIPLE_RECORDS = FindingSpec(
    code="spf.multiple_records",
    severity=Severity.HIGH,
    check=_SPF,
    title="More than one SPF record",
    detail="{domain} publishes {count} TXT records starting with `v=spf1`. Receivers must "
    "answer permerror, so SPF fails for every message.",
    remediation="Merge them into one record and delete the others.{merged}",
    references=("RFC 7208 §4.5", "RFC 7208 §3.2"),
)

STRINGS_JOINED_WITHOUT_SPACE = FindingSpec(
    code="spf.strings_joined_without_space",
    severity=Severity.HIGH,
    check=_SPF,
    title="SPF record split into strings that join without a space",
    detail="The SPF record of {domain} is published as {count} strings. Receivers join them "
    "with nothing in between, which glues two terms together at {joins}, changing what the "
    "record says.",
    remediation="End each string with a space where a term ends (or start the next one with "
    "it).{fix}",
    references=("RFC 7208 §3.3",),
)

SYNTAX_ERROR = FindingSpec(
    code="spf.syntax_error",
    severity=Severity.HIGH,
    check=_SPF,
    title="SPF record has a syntax error",
    detail="The SPF record of {domain} has a syntax error at position {position}: {message} "
    "(near `{context}`). Receivers answer permerror, so SPF fails for every message.",
    remediation="Correct the term at position {position}.{suggestion}",
    references=("RFC 7208 §4.6", "RFC 7208 §12"),
)

LOOKUP_LIMIT_EXCEEDED = FindingSpec(
    code="spf.lookup_limit_exceeded",
    severity=Severity.HIGH,
    check=_SPF,
    title="SPF needs more than 10 DNS lookups",
    detail="Evaluating the SPF record of {domain} takes {count} DNS lookups{bound}, {over} more "
    "than the limit of 10. Receivers stop at the 11th and answer permerror, so SPF fails for "
    "every message that is not matched before that point.",
    remediation="Remove `include:` terms of services you no longer use, replace `a`/`mx` terms "
    "by `ip4:`/`ip6:` ranges, and drop `ptr`. The heaviest terms are: {heaviest}.",
    references=("RFC 7208 §4.6.4",),
)

VOID_LOOKUP_LIMIT_EXCEEDED = FindingSpec(
    code="spf.void_lookup_limit_exceeded",
    severity=Severity.HIGH,
    check=_SPF,
    title="More than 2 SPF lookups return no answer",
    detail="{count}{bound} of the DNS lookups in the SPF tree of {domain} return NXDOMAIN or "
    "no records (limit 2; the address lookup of each MX host an `mx` term finds counts too): "
    "{terms}. Receivers stop at the third and answer permerror, so SPF fails for every "
    "message that is not matched before that point.",
    remediation="Remove the terms that point at names that do not exist, or publish the "
    "records they are meant to find (A/AAAA records for MX hosts): {terms}.",
    references=("RFC 7208 §4.6.4",),
)

VOID_LOOKUP = FindingSpec(
    code="spf.void_lookup",
    severity=Severity.LOW,
    check=_SPF,
    title="SPF term points at a name with no records",
    detail="These terms in the SPF tree of {domain} look up names that return NXDOMAIN or no "
    "records, so they can never match and only spend lookups: {terms}.",
    remediation="Remove them, or publish the records they are meant to find: {terms}.",
    references=("RFC 7208 §4.6.4", "RFC 7208 §5"),
)

MX_TOO_MANY_NAMES = FindingSpec(
    code="spf.mx_too_many_names",
    severity=Severity.HIGH,
    check=_SPF,
    title="An `mx` mechanism points at more than 10 MX names",
    detail="`{term}` (in the record of {owner}) finds {count} MX names at {target}; an `mx` "
    "mechanism may use at most 10, beyond which receivers answer permerror.",
    remediation="Replace `{term}` by `ip4:`/`ip6:` ranges covering the MX hosts that really "
    "send mail, or by `a:` terms for at most a few of them.",
    references=("RFC 7208 §4.6.4",),
)

INCLUDE_LOOP = FindingSpec(
    code="spf.include_loop",
    severity=Severity.HIGH,
    check=_SPF,
    title="SPF include or redirect loop",
    detail="`{term}` in the record of {owner} leads back to {target}, which is already being "
    "evaluated ({path}). Receivers loop until the lookup limit and answer permerror.",
    remediation="Remove `{term}` from the record of {owner}.",
    references=("RFC 7208 §4.6.4", "RFC 7208 §5.2"),
)

INCLUDE_MISSING_RECORD = FindingSpec(
    code="spf.include_missing_record",
    severity=Severity.HIGH,
    check=_SPF,
    title="An SPF include or redirect target has no SPF record",
    detail="`{term}` (in the record of {owner}) points at {target}, which {why}. An include or "
    "redirect without a record is a permerror: SPF fails for every message that reaches it.",
    remediation="Remove `{term}` or correct its domain (check the provider's documentation for "
    "the right include name).{corrected}",
    references=("RFC 7208 §5.2", "RFC 7208 §6.1"),
)

INCLUDE_MULTIPLE_RECORDS = FindingSpec(
    code="spf.include_multiple_records",
    severity=Severity.HIGH,
    check=_SPF,
    title="An SPF include or redirect target publishes more than one SPF record",
    detail="`{term}` (in the record of {owner}) points at {target}, which publishes {count} "
    "SPF records: a permerror at every receiver.",
    remediation="The owner of {target} must merge its records into one; until then remove "
    "`{term}`.",
    references=("RFC 7208 §4.5", "RFC 7208 §5.2"),
)

INCLUDE_SYNTAX_ERROR = FindingSpec(
    code="spf.include_syntax_error",
    severity=Severity.HIGH,
    check=_SPF,
    title="An SPF include or redirect target has a syntax error",
    detail="`{term}` (in the record of {owner}) points at {target}, whose record has a syntax "
    "error at position {position}: {message}. Receivers answer permerror.",
    remediation="The owner of {target} must correct its record; until then remove `{term}`.",
    references=("RFC 7208 §4.6", "RFC 7208 §5.2"),
)

PLUS_ALL = FindingSpec(
    code="spf.plus_all",
    severity=Severity.CRITICAL,
    check=_SPF,
    title="SPF authorises every host on the internet (`+all`)",
    detail="{where} ends in `{term}`, which passes mail from any IP address: SPF gives no "
    "protection and lets anyone pass SPF (and so DMARC) as {domain}.",
    remediation="{fix}",
    references=("RFC 7208 §5.1", "RFC 7208 §10"),
)

NEUTRAL_ALL = FindingSpec(
    code="spf.neutral_all",
    severity=Severity.MEDIUM,
    check=_SPF,
    title="SPF ends in `?all` (neutral)",
    detail="{where} ends in `{term}`: mail from hosts that are not listed gets a neutral "
    "result, which receivers treat as no SPF at all.",
    remediation="Once every sending host is listed, end the record with `-all` (or `~all` while "
    "you check): `{line}`",
    references=("RFC 7208 §5.1", "RFC 7208 §8.2"),
)

SOFTFAIL_ALL = FindingSpec(
    code="spf.softfail_all",
    severity=Severity.INFO,
    check=_SPF,
    title="SPF ends in `~all` (softfail)",
    detail="{where} ends in `{term}`: mail from unlisted hosts is marked suspicious rather "
    "than rejected. With DMARC at p=quarantine or p=reject this is usually enough.",
    remediation="When you are sure every sending host is listed you may end with `-all`: `{line}`",
    references=("RFC 7208 §8.5",),
)

NO_ALL = FindingSpec(
    code="spf.no_all",
    severity=Severity.MEDIUM,
    check=_SPF,
    title="SPF record has no `all` and no `redirect`",
    detail="The SPF record of {domain} ends without `all` or `redirect=`, so mail from hosts "
    "that are not listed gets the default neutral result: SPF rejects nothing.",
    remediation="End the record with `-all` (or `~all` while you check that every sender is "
    "listed): `{line}`",
    references=("RFC 7208 §4.7", "RFC 7208 §5.1"),
)

PTR_DEPRECATED = FindingSpec(
    code="spf.ptr_deprecated",
    severity=Severity.LOW,
    check=_SPF,
    title="SPF uses the `ptr` mechanism",
    detail="{terms}: `ptr` is slow, unreliable and SHOULD NOT be used; some receivers skip "
    "it, so hosts it should authorise may fail.",
    remediation="Replace `ptr` by `ip4:`/`ip6:` ranges or `a:` terms for the sending hosts.{fix}",
    references=("RFC 7208 §5.5",),
)

REDIRECT_IGNORED = FindingSpec(
    code="spf.redirect_ignored",
    severity=Severity.LOW,
    check=_SPF,
    title="`redirect=` is ignored because the record has `all`",
    detail="The SPF record of {domain} has both `{all_term}` and `{redirect_term}`; receivers "
    "ignore `redirect` when an `all` mechanism is present, so {target} is never consulted.",
    remediation="Keep one: remove `{all_term}` to delegate to {target}, or remove "
    "`{redirect_term}`.",
    references=("RFC 7208 §6.1",),
)

TERMS_AFTER_ALL = FindingSpec(
    code="spf.terms_after_all",
    severity=Severity.LOW,
    check=_SPF,
    title="SPF terms after `all` are never evaluated",
    detail="In the SPF record of {domain}, {terms} come after `{all_term}`; evaluation stops "
    "at `all`, so they have no effect.",
    remediation="Move `{all_term}` to the end of the record (or remove the dead terms).{fix}",
    references=("RFC 7208 §5.1",),
)

MECHANISM_AS_MODIFIER = FindingSpec(
    code="spf.mechanism_as_modifier",
    severity=Severity.MEDIUM,
    check=_SPF,
    title="A mechanism is written as a modifier (`=` instead of `:`)",
    detail="The SPF record of {domain} contains {terms}: with `=` these are unknown modifiers, "
    "which receivers silently ignore, so the hosts they name are not authorised.",
    remediation="Write them with `:` instead of `=`.{fix}",
    references=("RFC 7208 §5", "RFC 7208 §6"),
)

STRING_TOO_LONG = FindingSpec(
    code="spf.string_too_long",
    severity=Severity.MEDIUM,
    check=_SPF,
    title="A TXT character-string is longer than 255 bytes",
    detail="A TXT record at {domain} contains a character-string of {length} bytes; DNS allows "
    "at most 255, so this data is malformed and may be truncated or rejected.",
    remediation="Split the record into quoted strings of at most 255 bytes each.{fix}",
    references=("RFC 7208 §3.3", "RFC 1035 §3.3"),
)

ANSWER_TOO_LARGE = FindingSpec(
    code="spf.answer_too_large",
    severity=Severity.LOW,
    check=_SPF,
    title="The TXT answer for the domain exceeds 512 bytes",
    detail="The TXT records at {domain} (count: {count}) make a DNS answer of about {size} "
    "bytes, more than 512: receivers must retry over TCP or EDNS0, and some SPF lookups "
    "fail as temperror.",
    remediation="Remove TXT records that are no longer needed (old verification tokens) and "
    "shorten the SPF record, e.g. replace several `ip4:` terms by one wider range.",
    references=("RFC 7208 §3.4",),
)

MACRO_UNRESOLVED = FindingSpec(
    code="spf.macro_unresolved",
    severity=Severity.INFO,
    check=_SPF,
    title="SPF terms use macros and were not resolved",
    detail="{terms} depend on the message being checked, so their targets were counted as "
    "lookups but not queried.",
    remediation="Nothing to do if the macros are intended.",
    references=("RFC 7208 §7",),
)

TREE_TRUNCATED = FindingSpec(
    code="spf.tree_truncated",
    severity=Severity.LOW,
    check=_SPF,
    title="The SPF tree is too large to follow completely",
    detail="The include/redirect tree of {domain} goes deeper or wider than the audit follows: "
    "it stops at depth {depth} after {nodes} records and {terms} terms, with {not_followed} "
    "terms not followed and {not_drawn} not drawn at all{hosts}. The tree in this report is "
    "truncated there and its lookup counts are lower bounds.",
    remediation="Flatten the tree: remove includes that include further includes, or replace "
    "them by `ip4:`/`ip6:` ranges.",
    references=("RFC 7208 §4.6.4",),
)

FINDINGS_LIMITED = FindingSpec(
    code="spf.findings_limited",
    severity=Severity.INFO,
    check=_SPF,
    title="More problems in the SPF tree than the report lists",
    detail="The SPF tree of {domain} has more problems of one kind than the {limit} listed "
    "per kind; not listed: {codes}.",
    remediation="Correct the problems listed, then audit again to see the rest.",
    references=("RFC 7208 §4.6.4",),
)
