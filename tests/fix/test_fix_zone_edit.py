"""Applying a change set to zone text: only the changed records' lines move."""

from __future__ import annotations

import dns.zone

from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.fix.zone import apply_changes

ZONE = """; the owner's comment
$ORIGIN example.com.
$TTL 600
@        IN SOA ns1 hostmaster 1 3600 600 86400 300
@        IN NS  ns1
ns1      IN A   192.0.2.1
@        IN TXT "v=spf1 ptr mx ?all" ; keep me
         IN TXT "google-site-verification=abc"
_dmarc   IN TXT ( "v=DMARC1; p=none;"
                  " rua=mailto:d@example.com" )
$ORIGIN sub.example.com.
@   120  IN TXT "v=spf1 -all"
"""


def change(
    action: ChangeAction, name: str, current: str | None, proposed: str | None
) -> RecordChange:
    return RecordChange(action, name, "TXT", 3600, current, proposed, (), ("x",))


def test_only_changed_lines_move_and_ttls_are_the_records_own() -> None:
    edit = apply_changes(
        ZONE,
        [
            change(ChangeAction.REPLACE, "example.com", "v=spf1 ptr mx ?all", "v=spf1 mx -all"),
            change(
                ChangeAction.REPLACE,
                "_dmarc.example.com",
                "v=DMARC1; p=none; rua=mailto:d@example.com",
                "v=DMARC1; p=reject; rua=mailto:d@example.com",
            ),
            change(ChangeAction.REPLACE, "sub.example.com", "v=spf1 -all", "v=spf1 a -all"),
            change(ChangeAction.ADD, "_dmarc.sub.example.com", None, "v=DMARC1; p=reject"),
            change(ChangeAction.ADD, "elsewhere.example", None, "v=spf1 -all"),
            change(ChangeAction.REMOVE, "example.com", "not there", None),
        ],
        zones=["example.com"],
    )
    out = edit.text.split("\n")
    kept = [line for line in ZONE.split("\n") if line not in out]
    assert kept == [
        '@        IN TXT "v=spf1 ptr mx ?all" ; keep me',
        '_dmarc   IN TXT ( "v=DMARC1; p=none;"',
        '                  " rua=mailto:d@example.com" )',
        '@   120  IN TXT "v=spf1 -all"',
    ]
    assert 'example.com. 600 IN TXT "v=spf1 mx -all"  ; keep me' in out
    assert 'sub.example.com. 120 IN TXT "v=spf1 a -all"' in out
    assert '_dmarc.sub.example.com. 3600 IN TXT "v=DMARC1; p=reject"' in out
    assert [c.name for c in edit.outside] == ["elsewhere.example"]
    assert [c.current for c in edit.not_found] == ["not there"]
    # the blank-owner line after the replaced one still belongs to example.com
    zone = dns.zone.from_text(edit.text, relativize=False, check_origin=False)
    txt = zone.get_rdataset("example.com.", "TXT")
    assert txt is not None and len(txt) == 2


def test_removing_a_record_keeps_the_owner_of_the_next_blank_owner_line() -> None:
    edit = apply_changes(
        ZONE,
        [change(ChangeAction.REMOVE, "example.com", "v=spf1 ptr mx ?all", None)],
        zones=["example.com"],
    )
    zone = dns.zone.from_text(edit.text, relativize=False, check_origin=False)
    txt = zone.get_rdataset("example.com.", "TXT")
    assert txt is not None and [b"".join(r.strings) for r in txt] == [
        b"google-site-verification=abc"
    ]
    assert "; the owner's comment" in edit.text and "$TTL 600" in edit.text
