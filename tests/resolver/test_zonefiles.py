"""Loading --zone-file text strictly: the origin, several files, AXFR style, clean errors,
names outside the loaded zones, and names with escaped characters. No network."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from mailauth_audit.errors import ConfigurationError, OutsideZoneFile
from mailauth_audit.resolver.base import Rcode, RRType
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.resolver.zonefiles import (
    ZoneFileResolver,
    load_zone_files,
    parse_zone_text,
)

SOA = "ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300"
# a BIND zone as named.conf would load it: relative names, the origin given only by the SOA
BIND_NO_ORIGIN = f"""$TTL 3600
example.com. IN SOA {SOA}
@        IN NS  ns1
@        IN MX  10 mail
mail     IN A   192.0.2.25
@        IN TXT "v=spf1 mx -all"
_dmarc   IN TXT "v=DMARC1; p=reject"
"""
AXFR = f"""example.com.\t3600\tIN\tSOA\t{SOA}
example.com.\t3600\tIN\tNS\tns1.example.com.
example.com.\t3600\tIN\tMX\t10 mail.example.com.
mail.example.com.\t3600\tIN\tA\t192.0.2.25
example.com.\t3600\tIN\tTXT\t"v=spf1 mx -all"
example.com.\t3600\tIN\tSOA\t{SOA}
"""


def ask(resolver: object, name: str, rdtype: RRType = RRType.TXT):  # type: ignore[no-untyped-def]
    return asyncio.run(resolver.resolve(name, rdtype))  # type: ignore[attr-defined]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_relative_names_without_origin_take_the_soa_owner(tmp_path: Path) -> None:
    # Given a BIND zone with no $ORIGIN: relative names and an absolute SOA owner
    zones = load_zone_files([write(tmp_path, "example.com.zone", BIND_NO_ORIGIN)])
    r = zones.resolver()
    # Then the names land under example.com, not under the root
    assert [m.exchange for m in ask(r, "example.com", RRType.MX).mx()] == ["mail.example.com"]
    assert ask(r, "_dmarc.example.com").txt()[0].text == "v=DMARC1; p=reject"
    assert ask(r, "mail", RRType.A).rcode is Rcode.NXDOMAIN
    assert zones.files[0].origin == "example.com"
    assert zones.zones == ("example.com",)


def test_the_old_reader_read_that_zone_against_the_root() -> None:
    # the regression: StaticResolver's own reader puts "_dmarc" at the root
    r = StaticResolver(BIND_NO_ORIGIN.replace("example.com. IN SOA", "@ IN SOA"))
    assert ask(r, "_dmarc.example.com").rcode is Rcode.NXDOMAIN
    assert ask(r, "_dmarc").txt()


def test_no_origin_anywhere_is_an_error_that_says_what_to_add() -> None:
    text = BIND_NO_ORIGIN.replace("example.com. IN SOA", "@ IN SOA")
    with pytest.raises(ConfigurationError) as info:
        parse_zone_text(text, source="draft.zone")
    message = str(info.value)
    assert "draft.zone" in message and "$ORIGIN" in message and "--origin" in message
    assert "\n" not in message


def test_origin_option_supplies_the_origin() -> None:
    text = BIND_NO_ORIGIN.replace("example.com. IN SOA", "@ IN SOA")
    rrsets, info = parse_zone_text(text, origin="example.com")
    assert info.zones == ("example.com",)
    assert {r.name.to_text() for r in rrsets} >= {"_dmarc.example.com.", "mail.example.com."}


def test_axfr_style_file_loads(tmp_path: Path) -> None:
    # absolute names, no $ORIGIN, the SOA first and last as dig AXFR prints it
    zones = load_zone_files([write(tmp_path, "axfr.txt", AXFR)])
    assert zones.zones == ("example.com",)
    assert ask(zones.resolver(), "example.com").txt()[0].text == "v=spf1 mx -all"


def test_several_files_are_merged_and_each_one_is_cited(tmp_path: Path) -> None:
    other = f'$ORIGIN example.net.\n@ 300 IN SOA {SOA}\n@ 300 IN TXT "v=spf1 -all"\n'
    a = write(tmp_path, "a.zone", BIND_NO_ORIGIN)
    b = write(tmp_path, "b.zone", other)
    zones = load_zone_files([a, b])
    r = zones.resolver()
    assert ask(r, "example.com").txt() and ask(r, "example.net").txt()
    assert [f.sha256 for f in zones.files] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)
    ]
    assert zones.zones == ("example.com", "example.net")


def test_two_files_defining_the_same_zone_are_an_error(tmp_path: Path) -> None:
    a = write(tmp_path, "a.zone", BIND_NO_ORIGIN)
    b = write(tmp_path, "b.zone", AXFR)
    with pytest.raises(ConfigurationError, match=r"example\.com is defined in both .*a\.zone"):
        load_zone_files([a, b])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("$ORIGIN example.com.\n@ 300 IN FOO bar\n", "line 2: unknown record type"),
        ("$ORIGIN example.com.\n" + "a" * 64 + " 300 IN A 192.0.2.1\n", "longer than 63"),
        ("$ORIGIN example.com.\n@ 300 IN A not-an-address\n", "malformed record"),
        ("$ORIGIN example.com.\n$INCLUDE /etc/passwd\n", "directive not allowed"),
        ('$ORIGIN example.com.\n@ 300 IN TXT ( "a"\n', "line"),
        ("this is not ( a zone file\n", "cannot parse zone"),
    ],
)
def test_dnspython_texts_never_reach_the_user(text: str, needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_zone_text(text, source="draft.zone")
    message = str(info.value)
    assert needle in message and "draft.zone" in message, message
    for raw in ("caught exception", "dns.", "<zone>", "Rdatatype", "LabelTooLong"):
        assert raw not in message, message


def test_names_outside_every_zone_are_not_checked_rather_than_missing(tmp_path: Path) -> None:
    zones = load_zone_files([write(tmp_path, "a.zone", BIND_NO_ORIGIN)])
    r = ZoneFileResolver(zones)
    assert ask(r, "example.com").txt()
    assert ask(r, "nothing.example.com").rcode is Rcode.NXDOMAIN  # inside: a real NXDOMAIN
    with pytest.raises(OutsideZoneFile) as info:
        ask(r, "_spf.provider.example")
    assert info.value.reason.value == "outside_zone_file"


def test_a_cname_out_of_the_files_is_not_checked(tmp_path: Path) -> None:
    text = BIND_NO_ORIGIN + "alias IN CNAME target.elsewhere.example.\n"
    r = ZoneFileResolver(load_zone_files([write(tmp_path, "a.zone", text)]))
    with pytest.raises(OutsideZoneFile):
        ask(r, "alias.example.com")


def test_escaped_characters_in_names_are_answered_like_a_server_does() -> None:
    # regression (issue item 9): `a\032b` in a zone is the label "a b"; nsd answers the
    # question "a b.example.com", and so must the zone-file resolver
    text = BIND_NO_ORIGIN + 'a\\032b IN TXT "spaced"\nsp\\ ace IN TXT "also"\n'
    rrsets, _ = parse_zone_text(text)
    r = StaticResolver("", rrsets=rrsets)
    assert ask(r, "a b.example.com").txt()[0].text == "spaced"
    assert ask(r, "sp ace.example.com").txt()[0].text == "also"


def test_zone_file_size_cap_still_applies(tmp_path: Path) -> None:
    path = write(tmp_path, "big.zone", AXFR * 50)
    with pytest.raises(ConfigurationError, match="larger than"):
        load_zone_files([path], max_bytes=1000)
