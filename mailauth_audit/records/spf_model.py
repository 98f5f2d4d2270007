"""The typed SPF record (RFC 7208 §4.6, §5, §6): its terms, qualifiers and the views the
checks ask of it (cached per record), frozen. The parser that builds it is `records/spf.py`
(which re-exports these names); this module only names the parts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..fastinit import cached_once, fast_init

__all__ = [
    "LOOKUP_MECHANISMS",
    "SpfMechanism",
    "SpfMechanismKind",
    "SpfModifier",
    "SpfQualifier",
    "SpfRecord",
    "SpfTerm",
]


class SpfQualifier(StrEnum):
    """The result a matching mechanism yields (§4.6.2); `+` when none is written."""

    PASS = "+"
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"


class SpfMechanismKind(StrEnum):
    ALL = "all"
    INCLUDE = "include"
    A = "a"
    MX = "mx"
    PTR = "ptr"
    IP4 = "ip4"
    IP6 = "ip6"
    EXISTS = "exists"


# §4.6.4: the mechanisms (and the redirect modifier) that cost a DNS lookup.
LOOKUP_MECHANISMS = frozenset(
    {
        SpfMechanismKind.INCLUDE,
        SpfMechanismKind.A,
        SpfMechanismKind.MX,
        SpfMechanismKind.PTR,
        SpfMechanismKind.EXISTS,
    }
)


@fast_init
@dataclass(frozen=True)
class SpfMechanism:
    """One directive. `domain_spec` is as written (macros unexpanded); None when omitted."""

    qualifier: SpfQualifier
    kind: SpfMechanismKind
    domain_spec: str | None  # include/exists always; a/mx/ptr when written with ':'
    cidr4: int | None  # a/mx dual-cidr IPv4 length, ip4 prefix length, when written
    cidr6: int | None  # a/mx dual-cidr IPv6 length, ip6 prefix length, when written
    position: int  # 0-based offset of the term in the record text
    text: str  # the term exactly as written, qualifier included
    address: str | None = None  # ip4/ip6 only: the address as written

    @property
    def counts_lookup(self) -> bool:
        """Whether evaluating this term costs one of the ten DNS lookups (§4.6.4)."""
        return self.kind in LOOKUP_MECHANISMS

    @property
    def has_macros(self) -> bool:
        """A macro target cannot be resolved without a message to expand it against."""
        return self.domain_spec is not None and "%" in self.domain_spec

    @property
    def explicit_qualifier(self) -> bool:
        return self.text[:1] in "+-~?"


@fast_init
@dataclass(frozen=True)
class SpfModifier:
    name: str  # lowercase: "redirect", "exp" or an unknown modifier's name
    value: str  # as written (macros unexpanded)
    position: int  # 0-based offset of the term in the record text
    text: str  # the term exactly as written

    @property
    def has_macros(self) -> bool:
        return "%" in self.value


SpfTerm = SpfMechanism | SpfModifier


@fast_init
@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[SpfTerm, ...]

    # Computed once per record (cached_once: the record is frozen) and shared with every
    # domain that meets it: parse_spf is lru-cached, and a bulk run asks these again and again
    # of the same providers' includes. SpfRecord is internal (results carry the text), so the
    # cached values never reach a report.

    @cached_once
    def mechanisms(self) -> tuple[SpfMechanism, ...]:
        return tuple([t for t in self.terms if type(t) is SpfMechanism])

    @cached_once
    def modifiers(self) -> tuple[SpfModifier, ...]:
        return tuple([t for t in self.terms if type(t) is SpfModifier])

    def modifier(self, name: str) -> SpfModifier | None:
        name = name.lower()
        for t in self.terms:
            if type(t) is SpfModifier and t.name == name:
                return t
        return None

    @cached_once
    def redirect(self) -> SpfModifier | None:
        return self.modifier("redirect")

    @cached_once
    def exp(self) -> SpfModifier | None:
        return self.modifier("exp")

    @cached_once
    def all(self) -> SpfMechanism | None:
        """The first `all`: evaluation ends there, so later terms are never reached (§5.1)."""
        for t in self.terms:
            if type(t) is SpfMechanism and t.kind is SpfMechanismKind.ALL:
                return t
        return None

    @cached_once
    def evaluated_mechanisms(self) -> tuple[SpfMechanism, ...]:
        """Mechanisms up to and including the first `all`: the only ones a receiver tests."""
        out: list[SpfMechanism] = []
        for t in self.terms:
            if type(t) is SpfMechanism:
                out.append(t)
                if t.kind is SpfMechanismKind.ALL:
                    break
        return tuple(out)

    @cached_once
    def lookup_mechanisms(self) -> tuple[SpfMechanism, ...]:
        """The evaluated mechanisms that each cost one of the ten DNS lookups (§4.6.4)."""
        return tuple([m for m in self.evaluated_mechanisms if m.kind in LOOKUP_MECHANISMS])

    @cached_once
    def effective_redirect(self) -> SpfModifier | None:
        """`redirect` is ignored when the record has an `all` mechanism (§6.1)."""
        return None if self.all is not None else self.redirect
