"""Asking a validating resolver, and reading its verdict (shared by DNSSEC and DANE).

A validating resolver says "secure" with the AD bit (RFC 4035 §3.2.3) and "bogus" with
SERVFAIL, the data being given only when checking is disabled (CD, RFC 4035 §3.2.2); RFC 8914
adds why. Without AD the answer is insecure, unless the resolver does not validate at all: a
signed answer without AD may be either, so the root's DNSKEY (signed, and a trust anchor of
every validating resolver) is asked once per run to tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import DnsServfail, ResolverNotValidating
from ...resolver.base import Answer, ExtendedError, Resolver, RRType
from ..base import CheckContext
from .result import DnssecVerdict

# sources that hold records but validate nothing: a signed zone file is never "secure"
_NON_VALIDATING_SOURCES = ("zone-file:", "static")


@dataclass(frozen=True)
class SignedAnswer:
    verdict: DnssecVerdict
    answer: Answer  # the answer without CD; with CD when bogus
    extended_errors: tuple[ExtendedError, ...] = ()  # of the SERVFAIL, when bogus

    @property
    def signed(self) -> bool:
        return bool(self.answer.signatures)

    @property
    def signer(self) -> str | None:
        for sig in self.answer.signatures:
            signer = getattr(sig, "signer", None)
            if signer is not None:
                return str(signer.to_text()).rstrip(".").lower()
        return None


async def signed_lookup(resolver: Resolver, name: str, rdtype: RRType) -> SignedAnswer:
    """The answer with DO, and its verdict. A SERVFAIL that an answer with CD turns into data
    is bogus; a SERVFAIL with CD too is a failure of the path (DnsServfail propagates)."""
    try:
        answer = await resolver.resolve(name, rdtype, dnssec_ok=True)
    except DnsServfail as exc:
        errors: tuple[ExtendedError, ...] = getattr(exc, "extended_errors", ())
        try:
            unchecked = await resolver.resolve(name, rdtype, dnssec_ok=True, checking_disabled=True)
        except DnsServfail:
            raise exc from None
        return SignedAnswer(DnssecVerdict.BOGUS, unchecked, errors)
    verdict = DnssecVerdict.SECURE if answer.authenticated_data else DnssecVerdict.INSECURE
    return SignedAnswer(verdict, answer)


async def implicit_mx_lookup(
    resolver: Resolver, domain: str, mx: SignedAnswer
) -> tuple[RRType, SignedAnswer] | None:
    """The domain's own A (else AAAA) answer, with its verdict, when the domain is its own
    mail host: no MX records on an existing name that has an address (the implicit MX of
    RFC 5321 §5.1, which RFC 7672 §2.2.1 makes the TLSA base domain). None when MX records
    are published (a null MX, RFC 7505, included: no mail host at all), the name does not
    exist or has no address, or the MX answer is bogus (senders defer; they never fall back
    to the address records)."""
    if mx.verdict is DnssecVerdict.BOGUS or mx.answer.records or mx.answer.nxdomain:
        return None
    for rdtype in (RRType.A, RRType.AAAA):
        got = await signed_lookup(resolver, domain, rdtype)
        if got.answer.records:
            return rdtype, got
    return None


def ede_text(errors: tuple[ExtendedError, ...]) -> tuple[str, ...]:
    """RFC 8914 options as "6 (DNSSEC Bogus): text"."""
    return tuple(
        f"{e.info_code} ({EDE_NAMES.get(e.info_code, 'unassigned')})"
        + (f": {e.text}" if e.text else "")
        for e in errors
    )


# RFC 8914 §4 (the codes a validator gives about DNSSEC, and the common others)
EDE_NAMES = {
    0: "Other Error",
    1: "Unsupported DNSKEY Algorithm",
    2: "Unsupported DS Digest Type",
    3: "Stale Answer",
    5: "DNSSEC Indeterminate",
    6: "DNSSEC Bogus",
    7: "Signature Expired",
    8: "Signature Not Yet Valid",
    9: "DNSKEY Missing",
    10: "RRSIGs Missing",
    11: "No Zone Key Bit Set",
    12: "NSEC Missing",
    18: "Prohibited",
    22: "No Reachable Authority",
    23: "Network Error",
}


def resolver_label(ctx: CheckContext) -> str:
    servers = ctx.options.probes.dnssec_resolvers
    return ", ".join(servers) if servers else "the audit's resolver"


async def resolver_validates(ctx: CheckContext, sample: Answer) -> bool:
    """Whether the resolver validates, asked once per run: the root zone's DNSKEY comes with
    AD from every validating resolver (the root is its trust anchor)."""
    if sample.server.startswith(_NON_VALIDATING_SOURCES):
        return False
    resolver = ctx.validating_resolver

    async def ask() -> bool:
        try:
            root = await resolver.resolve(".", RRType.DNSKEY, dnssec_ok=True)
        except DnsServfail:
            return False  # a validator answers its own trust anchor
        return root.authenticated_data

    return await ctx.memo.get_or_compute("dnssec.validates", resolver_label(ctx), ask)


async def require_validation(ctx: CheckContext, answers: list[SignedAnswer]) -> bool | None:
    """True when the resolver showed it validates, None when nothing signed came back (no
    evidence either way, and none needed: unsigned is insecure); raises ResolverNotValidating
    when signed answers came without AD and the root's key does not get AD either."""
    if any(a.verdict is not DnssecVerdict.INSECURE for a in answers):
        return True
    signed = next((a for a in answers if a.signed), None)
    if signed is None:
        return None
    if await resolver_validates(ctx, signed.answer):
        return True
    answer = signed.answer
    raise ResolverNotValidating(
        answer.server or resolver_label(ctx), answer.qname, answer.rdtype.name
    )
