"""The fuzz targets: bytes in, and the property each parser promises.

Every target is built by a factory that imports the package only when called, so the
atheris engine can instrument `mailauth_audit` on import. A target raises only the errors
its module documents (`Target.expected`); `PropertyViolation` marks a result that parsed
but breaks a stated invariant (a TTL out of range, an error position outside the text, an
Authentication-Results field with a line break a stranger put there).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

from . import seeds

Run = Callable[[bytes], object]


class PropertyViolation(Exception):
    """A call returned, but its result breaks what the module promises about it."""


@dataclass(frozen=True)
class Target:
    name: str
    summary: str
    make_run: Callable[[], Run]  # imports the code under test; call once per process
    expected: Callable[[], tuple[type[BaseException], ...]]  # the documented errors
    seeds: Callable[[], list[bytes]]
    tokens: tuple[bytes, ...]  # a libFuzzer dictionary: the grammar's words
    packages: tuple[str, ...] = ("mailauth_audit",)  # what atheris instruments
    max_len: int = 4096  # "a small input": one call on it must take well under a second


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise PropertyViolation(what)


def _touch(obj: object, depth: int = 0) -> None:
    """Read every field and property of a result, recursively: a lazy property that raises
    on hostile data is as much a crash as the parser raising."""
    if depth > 6:
        return
    if isinstance(obj, tuple | list):
        for item in obj:
            _touch(item, depth + 1)
        return
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    fields, properties = _attributes(type(obj))
    for name in fields:
        _touch(getattr(obj, name), depth + 1)
    for name in properties:
        getattr(obj, name)
    repr(obj)


@functools.cache
def _attributes(klass: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    fields = tuple(f.name for f in dataclasses.fields(klass))
    properties = tuple(
        name for k in klass.__mro__ for name, attr in vars(k).items() if isinstance(attr, property)
    )
    return fields, properties


def _position_ok(exc: BaseException, text: str) -> None:
    position = getattr(exc, "position", 0)
    _check(
        isinstance(position, int) and 0 <= position <= len(text),
        f"error position {position!r} outside a text of {len(text)} characters",
    )


# --- wire ------------------------------------------------------------------------------------

# the question the reply answers, picked by the first input byte
WIRE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("example.test", "A"),
    ("example.test", "TXT"),
    ("_dmarc.example.test", "TXT"),
    ("example.test", "MX"),
    ("www.example.test", "AAAA"),
    ("example.test", "NS"),
    ("s1._domainkey.example.test", "CNAME"),
)


def _wire_expected() -> tuple[type[BaseException], ...]:
    from mailauth_audit.errors import ResolverError
    from mailauth_audit.resolver.codec import WireFormatError

    return (WireFormatError, ResolverError)


def _make_wire() -> Run:
    from mailauth_audit.resolver import answers, codec, wire
    from mailauth_audit.resolver.base import MxRecord, RRType, TxtRecord

    resolver = wire.WireResolver([("127.0.0.1", 53)])  # no socket until a query is sent
    questions = []
    for name, rdtype in WIRE_QUESTIONS:
        question = codec.encode_name(name) + codec.QUESTION_TAIL[RRType[rdtype]]
        # what WireResolver._ask hands the codec: the name and its wire form
        questions.append((name, RRType[rdtype], question, (name, question[:-4])))
    value_types = (str, MxRecord, TxtRecord, type(None))

    def run(data: bytes) -> object:
        if not data:
            return None
        name, rdtype, question, asked = questions[data[0] % len(questions)]
        reply = data[1:]
        # what the transport does before the codec sees a datagram: too short or an answer
        # to another question is dropped (and waited past), never parsed
        if len(reply) < 12 or not codec.matches_query(reply, question):
            return None
        # `codec._parse` (private) rather than the public `parse_message`: the latter turns
        # a stray IndexError or struct.error into WireFormatError, which would hide a
        # missing bounds check from the fuzzer. The public one must agree with it below.
        message = codec._parse(reply, asked)
        _check(codec.parse_message(reply, asked) == message, "parse_message disagrees")
        _check(codec.parse_message(reply) == message, "decoding the question again differs")
        _check(isinstance(message, codec.WireMessage), "not a WireMessage")
        _check(isinstance(message.qname, str) and 0 <= message.qtype < 65536, "question")
        _check(0 <= message.negative_ttl <= 0x7FFFFFFF, f"negative TTL {message.negative_ttl}")
        # RFC 6891 §6.1.3: 4 header bits below the OPT record's 8 extended bits
        _check(0 <= message.rcode < 4096, f"rcode {message.rcode}")
        _check(message.rcode & 0x0F == message.flags & 0x0F, "the header's rcode bits changed")
        for owner, rtype, ttl, value in message.answers:
            _check(isinstance(owner, str) and 0 <= rtype < 65536, "answer owner/type")
            _check(0 <= ttl <= 0x7FFFFFFF, f"TTL {ttl} outside RFC 2181 §8's range")
            _check(isinstance(value, value_types), f"value of type {type(value).__name__}")
        if message.truncated:
            # WireResolver._ask: a truncated UDP reply goes to TCP unread; over TCP it is a
            # DnsProtocolError. Either way no records of it are used.
            return None
        # what WireResolver._ask/_without_edns do with a reply before an Answer is built
        # (private: the rcode mapping, FORMERR-to-EDNS fallback test and CNAME walk have no
        # public entry point that does not send a query)
        checked = answers.check_rcode(message, name, rdtype)
        _check(checked.rcode in (0, 3), f"rcode {checked.rcode} passed as an answer")
        records, hops, ttl = answers.follow_chain(
            checked, name, rdtype, {name}, [], name, resolver.max_cname_hops
        )
        _check(isinstance(records, tuple) and isinstance(hops, list), "follow result types")
        _check(len(hops) <= resolver.max_cname_hops, f"{len(hops)} CNAME hops followed")
        _check(0 <= ttl <= 0x7FFFFFFF, f"answer TTL {ttl}")
        answers.negative_for(checked, hops[-1] if hops else name)
        return records

    return run


# --- records -----------------------------------------------------------------------------------


def _records_expected() -> tuple[type[BaseException], ...]:
    from mailauth_audit.records.errors import RecordSyntaxError

    return (RecordSyntaxError,)


def _text(data: bytes) -> str:
    # how TXT strings reach the parsers (resolver.base.TxtRecord.text)
    return data.decode("utf-8", "replace")


def _make_spf() -> Run:
    from mailauth_audit.records.errors import RecordSyntaxError
    from mailauth_audit.records.spf import (
        SpfMechanism,
        expand_domain_macros,
        is_spf_record,
        parse_spf,
        validate_macro_string,
    )

    def run(data: bytes) -> object:
        text = _text(data)
        is_spf_record(text)
        for explanation in (False, True):
            try:
                validate_macro_string(text, explanation=explanation)
            except RecordSyntaxError as exc:
                _position_ok(exc, text)
        try:
            record = parse_spf(text)
        except RecordSyntaxError as exc:
            _position_ok(exc, text)
            return None
        _touch(record)
        for term in record.terms:
            _check(0 <= term.position < len(text), f"term position {term.position}")
            spec = term.domain_spec if isinstance(term, SpfMechanism) else term.value
            if spec:
                expanded = expand_domain_macros(spec, "mail.example.test")
                _check(expanded is None or isinstance(expanded, str), "expansion type")
        return record

    return run


def _make_dmarc() -> Run:
    from mailauth_audit.records.dmarc import looks_like_dmarc, parse_dmarc, parse_dmarc_lenient
    from mailauth_audit.records.errors import RecordSyntaxError

    def run(data: bytes) -> object:
        text = _text(data)
        looks_like_dmarc(text)
        try:
            record, issues = parse_dmarc_lenient(text)
        except RecordSyntaxError as exc:
            _position_ok(exc, text)
            return None
        _touch(record)
        for issue in issues:
            _check(0 <= issue.position <= len(text), f"issue position {issue.position}")
        try:
            strict = parse_dmarc(text)
        except RecordSyntaxError as exc:
            _position_ok(exc, text)
            _check(bool(issues), "strict parser refused a record the lenient one found clean")
            return record
        _check(not issues, "strict parser accepted a record with issues")
        _check(strict == record, "strict and lenient parsers disagree on a clean record")
        return record

    return run


def _make_dkim() -> Run:
    from mailauth_audit.records.dkim import looks_like_dkim_key, parse_dkim_key
    from mailauth_audit.records.errors import RecordSyntaxError

    def run(data: bytes) -> object:
        text = _text(data)
        looks_like_dkim_key(text)
        try:
            record = parse_dkim_key(text)
        except RecordSyntaxError as exc:
            _position_ok(exc, text)
            return None
        _touch(record)
        _check(record.key_bits is None or record.key_bits > 0, f"key_bits {record.key_bits}")
        return record

    return run


# --- message -----------------------------------------------------------------------------------


def _message_expected() -> tuple[type[BaseException], ...]:
    return ()  # verify_message "raises for no bytes": everything must come back as a value


# the DMARC policy the fuzzer's From domains are given: a record, without DNS
FUZZ_DMARC = ("reject", "r", "r")


def _make_message() -> Run:
    import dkim

    from mailauth_audit.errors import DnsTimeout
    from mailauth_audit.messages.alignment import aligned, disposition, dmarc_result, strictest
    from mailauth_audit.messages.arc import verify_arc
    from mailauth_audit.messages.authresults import authentication_results
    from mailauth_audit.messages.bounds import Deadline
    from mailauth_audit.messages.dkim_verify import verify_dkim_signatures
    from mailauth_audit.messages.findings import (
        arc_findings,
        dkim_findings,
        dmarc_findings,
        hygiene_findings,
        spf_findings,
    )
    from mailauth_audit.messages.headers import HeaderLimitError, HeaderSyntaxError, parse_message
    from mailauth_audit.messages.hygiene import check_hygiene
    from mailauth_audit.messages.model import (
        AuthResult,
        DkimSignatureResult,
        DmarcDisposition,
        DmarcEvaluation,
        SpfEvaluation,
    )
    from mailauth_audit.messages.spf_eval import envelope_from_headers
    from mailauth_audit.options import MessageLimits

    limits = MessageLimits()
    keys = {
        f"{seeds.DKIM_SELECTOR}._domainkey.{seeds.DKIM_DOMAIN}": seeds.dkim_key_record().encode(),
        f"{seeds.ARC_SELECTOR}._domainkey.{seeds.DKIM_DOMAIN}": seeds.arc_key_record().encode(),
    }

    class MemoryDns:
        """Answers the keys the seed messages are signed and sealed with; every other name
        is a timeout. Stands in for `dnsbridge.SyncDns` (its `txt`): no DNS while fuzzing."""

        queries = 0

        def txt(self, name: str) -> list[bytes]:
            if name in keys:
                return [keys[name]]
            raise DnsTimeout(name, "TXT", "no DNS while fuzzing")

    dns = MemoryDns()
    policy, adkim, aspf = FUZZ_DMARC

    def dmarc_for(domain: str, sigs: tuple[DkimSignatureResult, ...]) -> DmarcEvaluation:
        """What verify._evaluate_domain computes once the DMARC record is known (the lookup
        is the domain audit's, so it is left out), from the public alignment functions."""
        passed = tuple(dict.fromkeys(s.domain for s in sigs if s.result is AuthResult.PASS))
        dkim_domains = tuple(d for d in passed if d)
        match = next((d for d in dkim_domains if aligned(d, domain, adkim)), None)
        result = dmarc_result(False, match is not None)
        return DmarcEvaluation(
            from_domain=domain,
            result=result,
            reason=None if result is AuthResult.PASS else "neither SPF nor DKIM passed aligned",
            disposition=disposition(result, policy, False),
            record=f"v=DMARC1; p={policy}",
            record_domain=f"_dmarc.{domain}",
            organizational_domain=domain,
            policy=policy,
            testing=False,
            adkim=adkim,
            aspf=aspf,
            spf_domain=None,
            spf_aligned=False,
            spf_aligned_strict=False,
            dkim_domains=dkim_domains,
            dkim_aligned=match is not None,
            dkim_aligned_strict=any(aligned(d, domain, "s") for d in dkim_domains),
            dkim_aligned_domain=match,
        )

    def no_dmarc() -> DmarcEvaluation:
        return DmarcEvaluation(
            None, AuthResult.PERMERROR, "the message has no single From domain",
            DmarcDisposition.NONE, None, None, None, None, False, "r", "r",
            None, False, False, (), False, False, None,
        )  # fmt: skip

    def run(raw: bytes) -> object:
        # the steps of verify.verify_message that need no DNS, in its order
        try:
            parsed = parse_message(raw, limits.max_header_fields, limits.max_header_bytes)
        except (HeaderLimitError, HeaderSyntaxError):
            return None  # verify_message reports message.header_limit / message.unparsable
        headers = parsed.header_pairs()
        # the caps are exact: the same message under a cap of its own field count parses,
        # one field fewer is refused
        count = len(headers)
        _check(len(parse_message(raw, count, limits.max_header_bytes).headers) == count, "cap")
        if count:
            try:
                parse_message(raw, count - 1, limits.max_header_bytes)
            except HeaderLimitError:
                pass
            else:
                raise PropertyViolation(f"{count} fields parsed under a cap of {count - 1}")
        # headers.py promises dkimpy's parse of the same bytes, which the signatures hash
        try:
            theirs = dkim.rfc822_parse(raw)
        except dkim.MessageFormatError:
            theirs = None
        if theirs is not None:
            _check(theirs[0] == parsed.headers, "header fields differ from dkimpy's parse")
            _check(theirs[1] == parsed.body, "body differs from dkimpy's parse")
        env = envelope_from_headers(headers)
        deadline = Deadline(limits.verify_seconds)
        sigs = verify_dkim_signatures(parsed, dns, limits=limits, deadline=deadline)  # type: ignore[arg-type]
        arc = verify_arc(parsed, dns, limits, deadline)  # type: ignore[arg-type]
        spf = SpfEvaluation(env, None, None, "no DNS while fuzzing")
        hygiene = check_hygiene(raw, headers, sigs, limits.max_mime_scan_lines)
        for result in (env, arc, hygiene, *sigs):
            _touch(result)
        _check(len(sigs) == len([n for n, _ in headers if n.lower() == b"dkim-signature"]), "sigs")
        domains = hygiene.from_domains
        if hygiene.from_domain is not None or len(domains) == 1:
            dmarc = dmarc_for(hygiene.from_domain or domains[0], sigs)
        elif domains:
            evaluated = [dmarc_for(d, sigs) for d in domains[: limits.max_from_domains]]
            dmarc = strictest(evaluated, len(domains))
        else:
            dmarc = no_dmarc()
        _touch(dmarc)
        findings = [
            *hygiene_findings(hygiene, sigs, limits.max_mime_scan_lines),
            *dkim_findings(sigs),
            *spf_findings(spf),
            *dmarc_findings(dmarc, hygiene),
            *arc_findings(arc),
        ]
        for finding in findings:
            _touch(finding)
        field = authentication_results("mailauth-audit", sigs, spf, dmarc, arc)
        folds = field.count("\r\n\t")
        _check(
            field.count("\r") == folds and field.count("\n") == folds,
            "a line break from the message reached the Authentication-Results field",
        )
        return field

    return run


SPF_TOKENS = (
    b"v=spf1",
    b" ",
    b"include:",
    b"a",
    b"mx",
    b"ptr",
    b"exists:",
    b"ip4:",
    b"ip6:",
    b"all",
    b"redirect=",
    b"exp=",
    b"-",
    b"~",
    b"?",
    b"+",
    b"/",
    b"//",
    b":",
    b".",
    b"%{d}",
    b"%{i}",
    b"%{l1r-}",
    b"%{d2r}",
    b"%{ir}",
    b"%%",
    b"%_",
    b"%-",
    b"192.0.2.0/24",
    b"2001:db8::/32",
    b"::ffff:192.0.2.1",
    b"_spf.example.com",
    b"%{d9999999999}",
)
DMARC_TOKENS = (
    b"v=DMARC1",
    b";",
    b" ",
    b"p=",
    b"sp=",
    b"np=",
    b"adkim=",
    b"aspf=",
    b"fo=",
    b"pct=",
    b"rf=",
    b"ri=",
    b"rua=",
    b"ruf=",
    b"psd=",
    b"t=",
    b"reject",
    b"quarantine",
    b"none",
    b"r",
    b"s",
    b"y",
    b"n",
    b"u",
    b"mailto:",
    b"https://",
    b"@",
    b"!",
    b"10m",
    b"99999999999999999999k",
    b",",
    b":",
    b"%40",
    b"%",
    b"afrf",
    b"iodef",
    b"[192.0.2.1]",
    b"d:s:0:1",
)
DKIM_TOKENS = (
    b"v=DKIM1",
    b";",
    b" ",
    b"k=",
    b"p=",
    b"h=",
    b"s=",
    b"t=",
    b"n=",
    b"g=",
    b"rsa",
    b"ed25519",
    b"sha1",
    b"sha256",
    b"email",
    b"*",
    b"y",
    b":",
    b"=",
    b"==",
    b"\r\n\t",
    b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ",
    b"MCowBQYDK2VwAyEA",
    b"AAAA",
)
MESSAGE_TOKENS = (
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b": ",
    b"\r\n\t",
    b"From",
    b"To",
    b"Date",
    b"Subject",
    b"Message-ID",
    b"DKIM-Signature",
    b"ARC-Seal",
    b"Received",
    b"Return-Path",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"List-Unsubscribe=One-Click",
    b"Content-Type: multipart/mixed; boundary=",
    b"--",
    b"=?utf-8?q?",
    b"?=",
    b"v=1; a=ed25519-sha256; c=relaxed/relaxed; ",
    b"a=rsa-sha256",
    b"d=example.test",
    b"s=fuzz",
    b"h=from:to:subject",
    b"bh=",
    b"b=",
    b"l=",
    b"t=",
    b"x=",
    b"i=@example.test",
    b"(" * 64,
    b"<" * 32,
    b"\\(" * 16,
    b"<a@example.test>",
    b'"a" <b@c>',
    b", ",
    b"(comment)",
    b"from mx.example.test ([192.0.2.1])",
)
WIRE_TOKENS = (
    b"\xc0\x0c",
    b"\xc0\x00",
    b"\x00\x01\x00\x01",
    b"\x00\x10\x00\x01",
    b"\x00\x05",
    b"\x00\x06",
    b"\x00\x0f",
    b"\x81\x80",
    b"\x81\x83",
    b"\x83\x80",
    b"\x00\x00\x29",
)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "wire",
            "DNS reply parser (resolver.wire._parse) + the resolver's rcode and CNAME handling",
            _make_wire,
            _wire_expected,
            seeds.wire_seeds,
            WIRE_TOKENS,
            max_len=8192,
        ),
        Target(
            "spf",
            "records.spf: parse_spf, validate_macro_string, expand_domain_macros",
            _make_spf,
            _records_expected,
            seeds.spf_seeds,
            SPF_TOKENS,
        ),
        Target(
            "dmarc",
            "records.dmarc: parse_dmarc_lenient, parse_dmarc",
            _make_dmarc,
            _records_expected,
            seeds.dmarc_seeds,
            DMARC_TOKENS,
        ),
        Target(
            "dkim",
            "records.dkim: parse_dkim_key",
            _make_dkim,
            _records_expected,
            seeds.dkim_seeds,
            DKIM_TOKENS,
        ),
        Target(
            "message",
            "message verification before DNS: header split, envelope, hygiene, From, "
            "DKIM-Signature and ARC sets checked against in-memory keys, Authentication-Results",
            _make_message,
            _message_expected,
            seeds.message_seeds,
            MESSAGE_TOKENS,
            packages=("mailauth_audit", "dkim"),
            max_len=8192,
        ),
    )
}
