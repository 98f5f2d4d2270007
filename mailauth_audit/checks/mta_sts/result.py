"""The facts the MTA-STS check collects (RFC 8461): frozen, so saved facts can be re-judged.

The policy body itself is not kept (a stranger's server decides its size, up to 64 KiB per
domain in a bulk run): the parsed policy is, and for a policy that does not parse, the line
that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ...records.mta_sts import MtaStsPolicy, MtaStsTxtRecord

__all__ = [
    "MtaStsResult",
    "PolicyAttempt",
    "PolicyFetch",
    "PolicyFetchState",
    "PolicyProblem",
]


class PolicyFetchState(StrEnum):
    """How the policy fetch ended. Only `unreachable` and `rejected` (and a `fetched` policy
    that does not parse) are statements about the domain; `not_probed` and `skipped` are
    statements about this run."""

    FETCHED = "fetched"  # HTTP 200, text/plain, within the size cap, valid certificate
    REJECTED = "rejected"  # an HTTP answer a sender must refuse: see `problem`
    # no address for the policy host, or each address tried refused the connection, failed
    # the TLS handshake or did not speak HTTP
    UNREACHABLE = "unreachable"
    NOT_PROBED = "not_probed"  # the address rule (probes/targets.py) forbade every address
    SKIPPED = "skipped"  # --no-probes: the DNS part was checked, the policy was not fetched


class PolicyProblem(StrEnum):
    """Why senders refuse an HTTP answer (RFC 8461 §3.3), in the order a sender meets them."""

    CERTIFICATE = "certificate"  # not trusted, or not valid for mta-sts.<domain>
    REDIRECT = "redirect"  # a 3xx: senders must not follow it
    HTTP_STATUS = "http_status"  # any status other than 200
    CONTENT_TYPE = "content_type"  # not text/plain
    TOO_LARGE = "too_large"  # more than ProbeLimits.max_body_bytes


@dataclass(frozen=True)
class PolicyAttempt:
    """One address of the policy host, and what came of it."""

    address: str
    # "http" (an HTTP answer came), "not_probed" (the address rule), "not_tried" (past
    # Limits.max_mta_sts_policy_addresses, or an earlier address answered), or the
    # probe's failure: "connection_refused", "tls_handshake_failed", "protocol_error", ...
    outcome: str
    detail: str | None = None  # set for every outcome but "http": why, in one line


@dataclass(frozen=True)
class PolicyFetch:
    """The GET of https://mta-sts.<domain>/.well-known/mta-sts.txt, redirects not followed."""

    url: str
    host: str  # mta-sts.<domain>
    state: PolicyFetchState
    reason: str | None  # set unless fetched and parsed: one line saying what went wrong
    addresses: tuple[str, ...] = ()  # the host's A then AAAA addresses, as resolved
    attempts: tuple[PolicyAttempt, ...] = ()
    problem: PolicyProblem | None = None  # set when state is rejected
    address: str | None = None  # set when an HTTP answer came: the address that gave it
    status: int | None = None  # set with address
    content_type: str | None = None  # set with address: the header as sent
    location: str | None = None  # set for a 3xx with a Location header (never followed)
    body_bytes: int | None = None  # set with address: bytes read, at most the cap
    truncated: bool = False  # the server had more than ProbeLimits.max_body_bytes to send
    certificate_trusted: bool | None = None  # set with address
    certificate_name_matches: bool | None = None  # set with address
    certificate_error: str | None = None  # set when not trusted: the verifier's reason
    policy: MtaStsPolicy | None = None  # set when fetched and parsed
    syntax_error: str | None = None  # set when fetched and the text does not parse
    syntax_error_position: int | None = None  # set with syntax_error: character offset
    syntax_error_line: str | None = None  # set with syntax_error: the line, cut to 200 chars
    # set when the parser's bounds (Limits.max_mta_sts_*) stopped it: the limit's name; the
    # policy is then not judged (it was not shown to be wrong)
    parser_limit: str | None = None
    # the TLS handshake of the answer, as the starttls probe records it (probes/handshake.py)
    tls_version: str | None = None  # set with address: "TLSv1.3", "TLSv1.2", ...
    tls_cipher: str | None = None  # set with address: the OpenSSL cipher suite name
    # set with address when the TLS library reported it (else null: never guessed): the
    # key-exchange group, "X25519", "secp256r1", "X25519MLKEM768"; "DHE" for a server's own
    # TLS 1.2 prime; tls_group_bits its size (curve bits, or the prime's)
    tls_group: str | None = None
    tls_group_bits: int | None = None

    @property
    def handshake_text(self) -> str:
        """The handshake in one line (`TLSv1.3, TLS_AES_256_GCM_SHA384, group X25519`); ""
        when no answer came."""
        if self.tls_version is None:
            return ""
        if self.tls_group is None:
            group = "not reported"
        elif self.tls_group == "DHE" and self.tls_group_bits:
            group = f"DHE {self.tls_group_bits}-bit"
        else:
            group = self.tls_group
        return f"{self.tls_version}, {self.tls_cipher or 'unknown'}, group {group}"


@dataclass(frozen=True)
class MtaStsResult:
    """What a sender finds for the domain: the `_mta-sts` TXT record and the policy."""

    txt_name: str  # _mta-sts.<domain>
    records_found: tuple[str, ...]  # TXT strings there beginning with v=STSv1
    # TXT strings there that look like MTA-STS but that senders discard (wrong case of the
    # version, leading spaces): the domain may believe it has MTA-STS
    lookalikes: tuple[str, ...]
    record: MtaStsTxtRecord | None  # set when exactly one record parses: its id
    record_text: str | None  # set with record
    syntax_error: str | None  # set when the one record (or the set) is invalid
    syntax_error_position: int | None  # set with syntax_error
    # the hosts senders deliver to (the MX RRset's exchanges, or the domain itself for an
    # implicit MX): what the policy's mx patterns must cover
    mx_hosts: tuple[str, ...]
    null_mx: bool  # the domain accepts no mail (RFC 7505): MTA-STS has nothing to protect
    # set when a v=STSv1 record was published (valid or not): the policy fetch; None
    # otherwise (senders look no further than the TXT record)
    policy: PolicyFetch | None = None
    probes_enabled: bool = True  # False under --no-probes: the policy is `skipped`
    # the audit's date (ISO 8601), set by collect: a proposed record's new id follows from
    # it, so saved facts give the same advice on any later day; None in facts saved before
    # it was kept (then: the judging day)
    audit_date: str | None = None
