"""The probe address rule, as a pure function: no test here sends a packet anywhere."""

from __future__ import annotations

import pytest

from mailauth_audit.probes.targets import AddressClass, classify_address, refusal_reason

CASES = [
    ("203.0.114.7", AddressClass.GLOBAL),  # next to, not in, 203.0.113.0/24
    ("2a01:db8::1", AddressClass.GLOBAL),  # not in 2001:db8::/32
    ("127.0.0.1", AddressClass.LOOPBACK),
    ("127.255.0.9", AddressClass.LOOPBACK),
    ("::1", AddressClass.LOOPBACK),
    ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
    ("10.0.0.1", AddressClass.PRIVATE),
    ("172.16.0.1", AddressClass.PRIVATE),
    ("172.31.255.254", AddressClass.PRIVATE),
    ("192.168.1.1", AddressClass.PRIVATE),
    ("100.64.0.1", AddressClass.PRIVATE),
    ("fc00::1", AddressClass.PRIVATE),
    ("fd12:3456::1", AddressClass.PRIVATE),
    ("169.254.169.254", AddressClass.LINK_LOCAL),
    ("fe80::1", AddressClass.LINK_LOCAL),
    ("[fe80::1%eth0]", AddressClass.LINK_LOCAL),
    ("192.0.2.10", AddressClass.DOCUMENTATION),
    ("198.51.100.1", AddressClass.DOCUMENTATION),
    ("203.0.113.5", AddressClass.DOCUMENTATION),
    ("2001:db8::25", AddressClass.DOCUMENTATION),
    ("0.0.0.0", AddressClass.UNSPECIFIED),
    ("::", AddressClass.UNSPECIFIED),
    ("224.0.0.1", AddressClass.MULTICAST),
    ("ff02::1", AddressClass.MULTICAST),
    ("mx.example.com", AddressClass.INVALID),
]


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_classify_address(address: str, kind: AddressClass) -> None:
    assert classify_address(address) is kind


def test_172_32_is_outside_the_private_block() -> None:
    assert classify_address("172.32.0.1") is AddressClass.GLOBAL


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_only_global_addresses_are_probed_by_default(address: str, kind: AddressClass) -> None:
    reason = refusal_reason(address, allow_private=False)
    assert (reason is None) == (kind is AddressClass.GLOBAL)
    if reason is not None and kind is not AddressClass.INVALID:
        assert "not probed" in reason


def test_allow_private_targets_opens_internal_ranges_but_not_nonsense() -> None:
    for address in ("127.0.0.1", "::1", "10.1.1.1", "169.254.169.254", "fd00::5"):
        assert refusal_reason(address, allow_private=True) is None
    for address in ("0.0.0.0", "224.0.0.1", "junk"):
        assert refusal_reason(address, allow_private=True) is not None
