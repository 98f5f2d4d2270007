"""The ONE place where exceptions become outcomes.

Checks never catch broadly. Whatever escapes `collect` or `evaluate` arrives here: a
ResolverError says *why* the check could not be completed (never "record missing"); anything
else is our bug, reported as such with the trace kept only in debug mode.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence

from ..errors import MailauthAuditError, OutsideZoneFile, ProbeError, ResolverError
from ..model import (
    CheckError,
    CheckId,
    CheckOutcome,
    CheckStatus,
    ErrorReason,
    ResolverNote,
)

REFUSES_RECURSION = "resolver.refuses_recursion"


class DomainDeadlineExceeded(MailauthAuditError):
    """The domain's wall-clock budget (`Limits.domain_timeout`) ran out before the check
    finished. Says nothing about the domain's records: only that we stopped waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the domain's time budget of {seconds:g} s ran out (--domain-timeout)")


def outcome_from_exception(
    check: CheckId, exc: BaseException, *, debug: bool = False
) -> CheckOutcome:
    if isinstance(exc, DomainDeadlineExceeded):
        error = CheckError(reason=ErrorReason.DOMAIN_DEADLINE, message=f"could not check: {exc}")
    elif isinstance(exc, OutsideZoneFile):
        error = CheckError(
            reason=exc.reason,
            message=f"outside the zone file(s): not checked ({exc.rdtype} {exc.qname}; add "
            "the zone's file, or --nameserver to ask for names outside the files)",
        )
    elif isinstance(exc, ResolverError | ProbeError):
        error = CheckError(reason=exc.reason, message=f"could not check: {exc}")
    elif isinstance(exc, TimeoutError):
        error = CheckError(reason=ErrorReason.DNS_TIMEOUT, message="could not check: timed out")
    elif isinstance(exc, (ConnectionRefusedError, OSError)) and _is_network(exc):
        error = CheckError(
            reason=ErrorReason.NETWORK_UNREACHABLE, message=f"could not check: network error: {exc}"
        )
    else:
        trace = "".join(traceback.format_exception(exc)) if debug else None
        error = CheckError(
            reason=ErrorReason.BUG,
            message=f"could not check: internal error ({type(exc).__name__}: {exc}); "
            "please report it with --debug output",
            trace=trace,
        )
    return CheckOutcome(check=check, status=CheckStatus.ERROR, error=error)


def _is_network(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError) or exc.errno is not None


def resolver_notes(
    outcomes: Mapping[CheckId, CheckOutcome], servers: Sequence[str]
) -> tuple[ResolverNote, ...]:
    """One note when every check in error was refused (REFUSED) by the configured servers.

    The wire resolver raises DnsRefused only when every configured server refused the
    question, so the servers named are the ones that refused. An authoritative-only server
    refuses every name outside its zones: N "could not check" lines would hide the one fix."""
    # a check not run because its dependency was refused has the same cause
    errors = [
        o
        for o in outcomes.values()
        if o.status is CheckStatus.ERROR
        and o.error
        and o.error.reason is not ErrorReason.DEPENDENCY_FAILED
    ]
    if not errors or any(o.error.reason is not ErrorReason.DNS_REFUSED for o in errors if o.error):
        return ()
    who = " and ".join(servers) if servers else "The DNS server"
    verb = "refuse" if len(servers) > 1 else "refuses"
    checks = tuple(o.check for o in errors)
    labels = [c.value.upper() for c in checks]
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    message = (
        f"{who} {verb} recursive queries: give a recursive resolver with --nameserver. "
        f"{names} could not be checked: their lookups of names outside that server's own "
        "zones were answered REFUSED."
    )
    return (ResolverNote(REFUSES_RECURSION, tuple(servers), checks, message),)
