"""DKIM check: the key records published at guessed selectors (RFC 6376, RFC 8301, RFC 8463).

DKIM keys cannot be listed, only guessed: `collect` asks for `<selector>._domainkey.<domain>`
for the user's selectors and a short built-in list. It first asks for `_domainkey.<domain>`
itself: NXDOMAIN there means nothing exists below it (RFC 8020), which spares the selector
queries on every domain without DKIM. `evaluate` judges the keys, and reads the MX, SPF and
DMARC outcomes so that a domain that sends no mail is not told to add DKIM.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from ..errors import DnsCnameLoop
from ..findings import dkim as F
from ..findings.clip import clip_finding, clip_text, more_records, records_count
from ..model import CheckId, Finding, Severity
from ..options import Limits
from ..records.dkim import LIBRARY_MAX_RSA_BITS, looks_like_dkim_key, parse_dkim_key
from ..records.errors import RecordSyntaxError
from ..resolver.base import Answer, RRType
from .base import Check, CheckContext, EvaluationContext
from .concurrent import gather, settle
from .crosscheck import sends_no_mail

# One parse per distinct key record: the key itself is loaded to measure it, and the same
# record recurs wherever selectors are CNAMEd to a provider's shared key. Safe to share: the
# parser is pure, its result frozen; a RecordSyntaxError is not cached, it is raised again.
_parse_key = functools.lru_cache(maxsize=2048)(parse_dkim_key)


class DkimSelectorStatus(StrEnum):
    KEY = "key"  # a DKIM key record that parses (its key may still be corrupt: see error)
    INVALID = "invalid"  # meant as a DKIM key record, but breaks the grammar
    NOT_A_KEY = "not_a_key"  # a TXT record that is not a DKIM key record (often a wildcard)
    DANGLING_CNAME = "dangling_cname"  # a CNAME to a name with no TXT record
    CNAME_LOOP = "cname_loop"  # a CNAME chain that loops or never ends


@dataclass(frozen=True)
class DkimSelectorResult:
    """What one selector holds. Only selectors where something was found are reported."""

    selector: str
    name: str  # <selector>._domainkey.<domain>
    status: DkimSelectorStatus
    record: str | None  # the TXT record judged (strings joined); None for CNAME problems
    other_records: tuple[str, ...]  # further TXT records at the name (RFC 6376: must be one)
    cname_target: str | None  # set when the selector is delegated: the name it leads to
    key_type: str | None  # set when status is key: k= ("rsa" by default), possibly unknown
    key_bits: int | None  # set when the key was analysed: RSA modulus bits, 256 for ed25519
    key_format: str | None  # as key_bits: "spki", "pkcs1" (bare RSAPublicKey) or "raw"
    # set when an RSA key was analysed: its public exponent in decimal, or "<N-bit number>"
    # when longer than 20 digits (a JSON integer that large is not safe to consume)
    key_exponent: str | None
    public_key: str | None  # set when status is key: p= without whitespace ("" when revoked)
    revoked: bool
    testing: bool  # t=y
    strict_subdomains: bool  # t=s
    hash_algorithms: tuple[str, ...]  # h=; () means any
    service_types: tuple[str, ...]  # s=; () means "*"
    error: str | None  # why the selector is unusable: syntax error, corrupt key, CNAME loop
    error_position: int | None  # set for syntax errors: offset in `record`


@dataclass(frozen=True)
class DkimResult:
    """The selectors found, and which were looked for."""

    selectors: tuple[DkimSelectorResult, ...]  # in probing order
    # every selector looked for: asked directly, or known absent because _domainkey is NXDOMAIN
    selectors_probed: tuple[str, ...]
    domainkey_nxdomain: bool  # _domainkey.<domain> does not exist: no selector was asked


def _selector_result(
    selector: str, name: str, status: DkimSelectorStatus, **kw: object
) -> DkimSelectorResult:
    base: dict[str, object] = {
        "selector": selector,
        "name": name,
        "status": status,
        "record": None,
        "other_records": (),
        "cname_target": None,
        "key_type": None,
        "key_bits": None,
        "key_format": None,
        "key_exponent": None,
        "public_key": None,
        "revoked": False,
        "testing": False,
        "strict_subdomains": False,
        "hash_algorithms": (),
        "service_types": (),
        "error": None,
        "error_position": None,
    }
    base.update(kw)
    return DkimSelectorResult(**base)  # type: ignore[arg-type]


def judge_txt(
    selector: str,
    name: str,
    texts: list[str],
    cname_target: str | None,
    text_limit: int = Limits().max_dkim_text_chars,
) -> DkimSelectorResult:
    """Classify and parse the TXT records found at one selector. Pure. The record is parsed
    whole; what the result keeps of it (and of the other records) is clipped at
    `text_limit` characters, at most 8 other records, so a name holding a 64 KB record or
    thousands of records cannot make a report of megabytes."""
    candidates = [t for t in texts if looks_like_dkim_key(t)]
    record = candidates[0] if candidates else texts[0]
    at = texts.index(record)
    others = [clip_text(t, text_limit) for i, t in enumerate(texts[:9]) if i != at][:8]
    if len(texts) > 9:
        others.append(more_records(len(texts) - 1 - len(others)))
    common = {
        "record": clip_text(record, text_limit),
        "other_records": tuple(others),
        "cname_target": cname_target,
    }
    if not candidates:
        return _selector_result(selector, name, DkimSelectorStatus.NOT_A_KEY, **common)
    try:
        key = _parse_key(record)
    except RecordSyntaxError as exc:
        return _selector_result(
            selector,
            name,
            DkimSelectorStatus.INVALID,
            error=exc.message,
            error_position=exc.position,
            **common,
        )
    return _selector_result(
        selector,
        name,
        DkimSelectorStatus.KEY,
        key_type=key.key_type,
        key_bits=key.key_bits,
        key_format=key.key_format,
        key_exponent=_exponent_text(key.rsa_exponent),
        public_key=clip_text(key.public_key_b64, text_limit),
        revoked=key.revoked,
        testing=key.testing,
        strict_subdomains=key.strict_subdomains,
        hash_algorithms=key.hash_algorithms,
        service_types=key.service_types,
        error=key.key_error,
        **common,
    )


def _exponent_text(exponent: int | None) -> str | None:
    if exponent is None:
        return None
    if exponent.bit_length() > 64:
        return f"<{exponent.bit_length()}-bit number>"
    return str(exponent)


class DkimCheck(Check[DkimResult]):
    """DKIM key records at guessed selectors, per RFC 6376, RFC 8301 and RFC 8463."""

    id = CheckId.DKIM
    result_type = DkimResult
    standard = "RFC 6376, RFC 8301, RFC 8463"
    evaluate_after = (CheckId.MX, CheckId.SPF, CheckId.DMARC)

    async def collect(self, ctx: CheckContext) -> DkimResult:
        selectors = ctx.options.dkim_selectors
        top = await ctx.resolver.resolve(f"_domainkey.{ctx.domain}", RRType.TXT)
        if top.nxdomain:
            return DkimResult(selectors=(), selectors_probed=selectors, domainkey_nxdomain=True)
        names = [f"{s}._domainkey.{ctx.domain}" for s in selectors]
        # the questions run concurrently; each answer is then judged without I/O
        answers = await gather([settle(ctx.resolver.resolve(n, RRType.TXT)) for n in names])
        for answer in answers:
            if isinstance(answer, Exception) and not isinstance(answer, DnsCnameLoop):
                raise answer  # the first failure, after every probe has finished
        limit = ctx.options.limits.max_dkim_text_chars
        results = [
            self._judge(s, n, a, limit) for s, n, a in zip(selectors, names, answers, strict=True)
        ]
        found = tuple(r for r in results if r is not None)
        return DkimResult(selectors=found, selectors_probed=selectors, domainkey_nxdomain=False)

    @staticmethod
    def _judge(
        selector: str, name: str, answer: Answer | Exception, text_limit: int
    ) -> DkimSelectorResult | None:
        if isinstance(answer, DnsCnameLoop):
            # a fact about this selector's records, not about the path to the domain
            return _selector_result(
                selector, name, DkimSelectorStatus.CNAME_LOOP, error=answer.detail or str(answer)
            )
        assert isinstance(answer, Answer)  # other exceptions were raised by collect
        target = answer.cname_chain[-1] if answer.cname_chain else None
        texts = [t.text for t in answer.txt()]
        if not texts:
            if target is None:
                return None
            return _selector_result(
                selector, name, DkimSelectorStatus.DANGLING_CNAME, cname_target=target
            )
        return judge_txt(selector, name, texts, target, text_limit)

    def evaluate(self, facts: DkimResult, ctx: EvaluationContext) -> list[Finding]:
        domain = ctx.domain
        findings: list[Finding] = []
        sels = facts.selectors
        keys = [s for s in sels if s.status is DkimSelectorStatus.KEY]
        attempted = keys + [s for s in sels if s.status is DkimSelectorStatus.INVALID]
        no_mail = sends_no_mail(ctx.outcomes)

        if not attempted:
            probed = ", ".join(facts.selectors_probed) or "none"
            if no_mail:
                findings.append(F.NOT_NEEDED_NO_MAIL(domain=domain, selectors=probed))
            else:
                note = (
                    f" _domainkey.{domain} does not exist (NXDOMAIN), so no selector can exist "
                    "below it (RFC 8020)."
                    if facts.domainkey_nxdomain
                    else ""
                )
                findings.append(
                    F.NO_SELECTOR_FOUND(
                        domain=domain,
                        count=len(facts.selectors_probed),
                        selectors=probed,
                        nxdomain_note=note,
                    )
                )

        usable = [s for s in keys if _usable(s)]
        for s in sels:
            findings += _selector_findings(s, domain, usable, no_mail)

        not_keys = [s for s in sels if s.status is DkimSelectorStatus.NOT_A_KEY]
        if not_keys:
            findings.append(
                F.NOT_A_KEY_RECORD(
                    domain=domain,
                    selectors=", ".join(s.selector for s in not_keys),
                    name=not_keys[0].name,
                    evidence=tuple(dict.fromkeys(s.record or "" for s in not_keys)),
                )
            )

        ed = [s for s in usable if s.key_type == "ed25519"]
        if ed and not any(s.key_type == "rsa" for s in usable):
            findings.append(
                F.ED25519_WITHOUT_RSA(
                    domain=domain,
                    selectors=", ".join(s.selector for s in ed),
                    evidence=tuple(s.record or "" for s in ed),
                )
            )
        limit = ctx.options.limits.max_dkim_text_chars
        return [clip_finding(f, limit, limit + 2048) for f in findings]


RFC_MAX_VERIFIED_BITS = 4096  # RFC 8301 §3.2: verifiers must handle 1024 to 4096 bits


def _unusual_exponent(text: str | None) -> tuple[Severity | None, str] | None:
    """(severity, why) when an RSA exponent is not a small odd number, else None."""
    if text is None:
        return None
    if not text.isdigit():
        return None, "one this large makes every verification slow, and verifiers may refuse it."
    e = int(text)
    if e == 1 or e % 2 == 0:
        return Severity.HIGH, "this one cannot make a working RSA key, or makes an insecure one."
    if e > 2**32:
        return None, "one this large makes every verification slow, and verifiers may refuse it."
    return None


def _usable(s: DkimSelectorResult) -> bool:
    """A key a verifier could check a signature with."""
    return (
        s.status is DkimSelectorStatus.KEY
        and not s.revoked
        and s.error is None
        and s.key_type in ("rsa", "ed25519")
        and _hash_ok(s.hash_algorithms)
        and _service_ok(s.service_types)
    )


def _hash_ok(hashes: tuple[str, ...]) -> bool:
    return not hashes or "sha256" in hashes


def _service_ok(services: tuple[str, ...]) -> bool:
    return not services or "*" in services or "email" in services


def _txt_line(name: str, text: str) -> str:
    """A zone-file line for a TXT value, split into character-strings of at most 255."""
    chunks = [text[i : i + 255] for i in range(0, len(text), 255)] or [""]
    quoted = " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
    return f"{name}. 3600 IN TXT {quoted}"


def _fixed_record(
    s: DkimSelectorResult,
    *,
    drop_testing: bool = False,
    drop_hashes: bool = False,
    drop_services: bool = False,
) -> str:
    """The selector's record rebuilt with one problem removed, as a zone-file line."""
    tags = ["v=DKIM1", f"k={s.key_type or 'rsa'}"]
    if s.hash_algorithms and not drop_hashes:
        tags.append("h=" + ":".join(s.hash_algorithms))
    if s.service_types and not drop_services:
        tags.append("s=" + ":".join(s.service_types))
    flags = [
        f for f, on in (("y", s.testing and not drop_testing), ("s", s.strict_subdomains)) if on
    ]
    if flags:
        tags.append("t=" + ":".join(flags))
    tags.append(f"p={s.public_key or ''}")
    return _txt_line(s.name, "; ".join(tags))


def _selector_findings(
    s: DkimSelectorResult, domain: str, usable: list[DkimSelectorResult], no_mail: bool
) -> list[Finding]:
    ev = tuple(t for t in (s.record, *s.other_records) if t is not None)
    base = {"domain": domain, "selector": s.selector, "name": s.name, "evidence": ev}
    out: list[Finding] = []
    if s.other_records:
        out.append(F.MULTIPLE_RECORDS(count=1 + records_count(s.other_records), **base))
    if s.status is DkimSelectorStatus.CNAME_LOOP:
        out.append(F.CNAME_LOOP(chain=s.error or "", **base))
        return out
    if s.status is DkimSelectorStatus.DANGLING_CNAME:
        out.append(F.DANGLING_CNAME(target=s.cname_target, **base))
        return out
    if s.status is DkimSelectorStatus.INVALID:
        note = f" (at character {s.error_position})" if s.error_position is not None else ""
        out.append(F.INVALID_RECORD(error=s.error, position_note=note, **base))
        return out
    if s.status is not DkimSelectorStatus.KEY:
        return out

    if s.revoked:
        alone = not usable
        only = (
            f" No usable key was found at the other selectors probed, so mail from {domain} "
            "cannot be verified with any key found."
            if alone and not no_mail
            else ""
        )
        severity = Severity.MEDIUM if alone and not no_mail else None
        out.append(F.REVOKED_KEY(only_note=only, severity=severity, **base))
        return out
    if s.key_type not in ("rsa", "ed25519"):
        out.append(F.UNKNOWN_KEY_TYPE(key_type=s.key_type, **base))
        return out
    if s.error is not None:
        out.append(F.INVALID_RECORD(error=s.error, position_note="", **base))
        return out

    if s.key_type == "rsa" and s.key_bits is not None:
        if s.key_bits < 1024:
            out.append(F.KEY_TOO_SHORT(bits=s.key_bits, **base))
        elif s.key_bits < 2048:
            out.append(F.KEY_1024(bits=s.key_bits, **base))
        elif s.key_bits > RFC_MAX_VERIFIED_BITS:
            severity = Severity.HIGH if s.key_bits > LIBRARY_MAX_RSA_BITS else None
            out.append(F.KEY_TOO_LONG(bits=s.key_bits, severity=severity, **base))
    unusual = _unusual_exponent(s.key_exponent)
    if unusual is not None:
        severity, why = unusual
        out.append(F.UNUSUAL_EXPONENT(exponent=s.key_exponent, why=why, severity=severity, **base))
    if s.hash_algorithms and "sha256" not in s.hash_algorithms:
        spec = F.SHA1_ONLY if "sha1" in s.hash_algorithms else F.NO_SUPPORTED_HASH
        fixed = _fixed_record(s, drop_hashes=True)
        out.append(spec(hashes=":".join(s.hash_algorithms), fixed_record=fixed, **base))
    if not _service_ok(s.service_types):
        fixed = _fixed_record(s, drop_services=True)
        out.append(
            F.SERVICE_TYPE_EXCLUDES_EMAIL(
                services=":".join(s.service_types), fixed_record=fixed, **base
            )
        )
    if s.testing:
        out.append(F.TESTING_MODE(fixed_record=_fixed_record(s, drop_testing=True), **base))
    return out
