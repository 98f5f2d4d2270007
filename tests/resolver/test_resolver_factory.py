"""Nameserver specs and the resolver a run gets. Nothing here sends a query: the system's
resolv.conf may name a server off this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailauth_audit.errors import ConfigurationError
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.base import Resolver
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.factory import make_resolver, parse_nameserver, system_nameservers
from mailauth_audit.resolver.wire import WireResolver


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        (" 127.0.0.1:5300 ", ("127.0.0.1", 5300)),
        ("::1", ("::1", 53)),
        ("[::1]:5300", ("::1", 5300)),
        ("[::1]", ("::1", 53)),
        ("2001:DB8::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]:853", ("2001:db8::53", 853)),
        ("192.0.2.1:65535", ("192.0.2.1", 65535)),
        # dig / kdig / unbound style
        ("127.0.0.1#5300", ("127.0.0.1", 5300)),
        (" 127.0.0.1#53 ", ("127.0.0.1", 53)),
        ("::1#5300", ("::1", 5300)),
        ("[::1]#5300", ("::1", 5300)),
        ("2001:db8::53#853", ("2001:db8::53", 853)),
    ],
)
def test_valid_specs(spec: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty"),
        ("dns.example", "expected an IP address"),
        ("300.1.1.1", "expected an IP address"),
        ("127.0.0.1:", "port"),
        ("127.0.0.1:0", "port"),
        ("127.0.0.1:65536", "port"),
        ("127.0.0.1:53x", "port"),
        ("127.0.0.1:-1", "port"),
        ("[::1", "missing ']'"),
        ("[127.0.0.1]:53", "brackets are for IPv6"),
        ("[::1]5300", "expected ':PORT'"),
        ("::1:5300:x", "expected an IP address"),
        ("#53", "no address before '#'"),
        ("127.0.0.1#", "port"),
        ("127.0.0.1#0", "port"),
        ("127.0.0.1#53x", "port"),
        ("127.0.0.1#5300#53", "expected an IP address"),
        ("dns.example#53", "expected an IP address"),
    ],
)
def test_invalid_specs_give_one_clear_line(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_nameserver(spec)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_resolv_conf_nameservers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# comment\nsearch example.test\nnameserver 192.0.2.53\n"
        "nameserver ::1 # trailing comment\nnameserver not-an-ip\noptions ndots:2\n"
    )
    assert system_nameservers(conf) == [("192.0.2.53", 53), ("::1", 53)]


@pytest.mark.parametrize("text", [None, "", "search example.test\n", "nameserver bogus\n"])
def test_no_usable_resolv_conf_is_a_configuration_error(tmp_path: Path, text: str | None) -> None:
    conf = tmp_path / "resolv.conf"
    if text is not None:
        conf.write_text(text)
    with pytest.raises(ConfigurationError) as info:
        system_nameservers(conf)
    assert "--nameserver" in str(info.value)


def test_make_resolver_from_options() -> None:
    limits = Limits(dns_timeout=0.5, dns_attempts=2, max_dns_in_flight=64, max_cname_hops=4)
    resolver = make_resolver(AuditOptions(nameservers=("127.0.0.1:5300", "[::1]"), limits=limits))
    assert isinstance(resolver, Resolver)
    assert isinstance(resolver, CachingResolver)
    wire = resolver.inner
    assert isinstance(wire, WireResolver)
    assert wire.nameservers == (("127.0.0.1", 5300), ("::1", 53))
    assert (wire.timeout, wire.attempts, wire.max_in_flight, wire.max_cname_hops) == (
        0.5,
        2,
        64,
        4,
    )


def test_make_resolver_uses_resolv_conf_without_nameservers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.53\n")
    resolver = make_resolver(AuditOptions(), resolv_conf=conf)
    assert isinstance(resolver, CachingResolver)
    assert resolver.inner.nameservers == (("127.0.0.53", 53),)  # type: ignore[attr-defined]


def test_make_resolver_rejects_a_bad_spec() -> None:
    with pytest.raises(ConfigurationError):
        make_resolver(AuditOptions(nameservers=("127.0.0.1:99999",)))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1:5502", ("127.0.0.1:5502",)),
        ("192.0.2.1, 192.0.2.2#5300", ("192.0.2.1", "192.0.2.2#5300")),
        (["::1"], ("::1",)),
        (("[::1]:53",), ("[::1]:53",)),
        ("", ()),
    ],
)
def test_audit_options_accept_a_string_or_a_sequence(
    given: object, expected: tuple[str, ...]
) -> None:
    """One string is one (or a comma-separated list of) server(s), never a list of its
    characters ("invalid nameserver '1'")."""
    options = AuditOptions(nameservers=given)  # type: ignore[arg-type]
    assert options.nameservers == expected
    for spec in options.nameservers:
        parse_nameserver(spec)


def test_audit_options_string_selectors_are_not_split_into_characters() -> None:
    assert AuditOptions(selectors="s2026").dkim_selectors[0] == "s2026"
    assert "s" not in AuditOptions(selectors="s2026").dkim_selectors


@pytest.mark.parametrize("given", [5, b"127.0.0.1", [b"127.0.0.1"], [("127.0.0.1", 53)]])
def test_audit_options_say_what_was_expected(given: object) -> None:
    with pytest.raises(TypeError, match="nameservers must be a string or a sequence of strings"):
        AuditOptions(nameservers=given)  # type: ignore[arg-type]


def test_make_resolver_from_a_string_nameserver() -> None:
    resolver = make_resolver(AuditOptions(nameservers="127.0.0.1#5502"))
    assert isinstance(resolver, CachingResolver)
    assert resolver.inner.nameservers == (("127.0.0.1", 5502),)  # type: ignore[attr-defined]
