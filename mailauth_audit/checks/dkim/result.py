"""The DKIM check's facts: what each probed selector holds, and which were looked for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ...fastinit import fast_init
from .providers import DetectedProvider
from .selectors import DkimSelectorList


class DkimSelectorStatus(StrEnum):
    KEY = "key"  # a DKIM key record that parses (its key may still be corrupt: see error)
    INVALID = "invalid"  # meant as a DKIM key record, but breaks the grammar
    NOT_A_KEY = "not_a_key"  # a TXT record that is not a DKIM key record (often a wildcard)
    DANGLING_CNAME = "dangling_cname"  # a CNAME to a name with no TXT record
    CNAME_LOOP = "cname_loop"  # a CNAME chain that loops or never ends


@fast_init
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
    ttl: int | None = None  # set when `record` is: the TTL its answer carried
    # set only when the selectors found were answered by different servers: who answered
    # this one ("127.0.0.1:53"); otherwise DkimResult.server says it for all of them
    server: str | None = None


@fast_init
@dataclass(frozen=True)
class DkimResult:
    """The selectors found, and which were looked for."""

    selectors: tuple[DkimSelectorResult, ...]  # in probing order
    # every selector looked for: asked directly, or known absent because _domainkey is NXDOMAIN
    selectors_probed: tuple[str, ...]
    domainkey_nxdomain: bool  # _domainkey.<domain> does not exist: no selector was asked
    # where the names in selectors_probed came from (given, provider, date-style, built-in),
    # in probing order; each name is in the first list that names it
    selector_lists: tuple[DkimSelectorList, ...] = ()
    # mail providers recognised from the MX hosts or the SPF record (set when _domainkey
    # exists: without it no selector is asked, so the provider is not looked for)
    providers: tuple[DetectedProvider, ...] = ()
    # names past Limits.max_dkim_selectors, not asked (the first 20; the count is exact)
    selectors_not_probed: tuple[str, ...] = ()
    selectors_not_probed_count: int = 0
    # set when the MX or TXT question used to recognise a provider failed (e.g. "MX:
    # dns_timeout"): provider lists may be missing from the probes
    provider_lookup_error: str | None = None
    # the audit's date (ISO 8601), set by collect: the date-style names probed and the
    # selector suggested for a new key follow from it, so saved facts give the same advice
    # on any later day; None in facts saved before it was kept (then: the judging day)
    audit_date: str | None = None
    # who answered the questions of the selectors found, when one server answered them all
    # (else each selector's `server`); with none found, who answered _domainkey.<domain>.
    # None in facts saved before it was kept
    server: str | None = None


def selector_result(
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
