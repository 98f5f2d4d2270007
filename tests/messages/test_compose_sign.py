"""Composing and DKIM-signing the test message: pure, checked with dkimpy's verifier."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import dkim
import pytest

from mailauth_audit.messages.compose import (
    ComposeError,
    MessageSpec,
    compose_message,
    split_address,
)
from mailauth_audit.messages.keys import DkimKeyType, DkimPrivateKey, generate_key, key_record
from mailauth_audit.messages.sign import DkimAlgorithm, SigningError, headers_to_sign, sign_message

NOW = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
TOKEN = "0123456789abcdef"
KEYS = {t: generate_key(t) for t in DkimKeyType}


def _spec(**kw: object) -> MessageSpec:
    base: dict[str, object] = {
        "from_address": "audit@example.com",
        "to_addresses": ("check@receiver.example",),
        "list_unsubscribe": ("https://example.com/unsub?id=1", "mailto:unsub@example.com"),
    }
    base.update(kw)
    return MessageSpec(**base)  # type: ignore[arg-type]


def _dnsfunc(records: dict[str, str]):
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        value = records.get(name.decode().rstrip(".").lower())
        return value.encode() if value is not None else None

    return lookup


def _sign(key: DkimPrivateKey, **spec_kw: object) -> tuple[bytes, dict[str, str]]:
    msg = compose_message(_spec(**spec_kw), now=NOW, token=TOKEN)
    signed, _ = sign_message(msg.data, key, domain="example.com", selector="s1")
    rec = key_record(key, "example.com", "s1")
    return signed, {rec.name: rec.record}


def _headers(data: bytes | str, name: str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return [str(v) for v in parsed.get_all(name) or []]


# --- composing -----------------------------------------------------------------------------


def test_message_has_exactly_one_of_each_singleton_header() -> None:
    msg = compose_message(_spec(), now=NOW, token=TOKEN)
    for name in ("From", "To", "Date", "Message-ID", "Subject", "MIME-Version"):
        assert len(_headers(msg.data, name)) == 1, name
    assert _headers(msg.data, "Message-ID") == ["<mailauth-audit.0123456789abcdef@example.com>"]
    assert parsedate_to_datetime(_headers(msg.data, "Date")[0]) == NOW
    assert "\r\n" in msg.data and "\n" not in msg.data.replace("\r\n", "")
    parsed = email.message_from_string(msg.data, policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert not parsed.is_multipart()
    assert msg.size == len(msg.data.encode())


def test_composition_is_deterministic_given_clock_and_token() -> None:
    a = compose_message(_spec(), now=NOW, token=TOKEN)
    b = compose_message(_spec(), now=NOW, token=TOKEN)
    c = compose_message(_spec(), now=NOW + timedelta(seconds=1), token=TOKEN)
    assert a == b
    assert a.data != c.data


def test_date_keeps_the_clock_zone() -> None:
    tz = timezone(timedelta(hours=2))
    msg = compose_message(_spec(), now=NOW.astimezone(tz), token=TOKEN)
    assert msg.date.endswith("+0200")


@pytest.mark.parametrize(
    ("uris", "unsub", "post"),
    [
        ((), [], []),
        (("mailto:u@example.com",), ["<mailto:u@example.com>"], []),
        (("https://e.example/u",), ["<https://e.example/u>"], ["List-Unsubscribe=One-Click"]),
        (
            ("https://e.example/u", "mailto:u@example.com"),
            ["<https://e.example/u>, <mailto:u@example.com>"],
            ["List-Unsubscribe=One-Click"],
        ),
    ],
)
def test_unsubscribe_headers(uris: tuple[str, ...], unsub: list[str], post: list[str]) -> None:
    msg = compose_message(_spec(list_unsubscribe=uris), now=NOW, token=TOKEN)
    assert _headers(msg.data, "List-Unsubscribe") == unsub
    assert _headers(msg.data, "List-Unsubscribe-Post") == post


@pytest.mark.parametrize(
    "kw",
    [
        {"from_address": "no-at-sign"},
        {"from_address": "a@b@example.com"},
        {"from_address": "audit@localhost"},
        {"from_address": "audit@example.com\r\nBcc: x@evil.example"},
        {"from_address": "a..b@example.com"},
        {"to_addresses": ()},
        {"to_addresses": ("ok@example.net", "bad address@example.net")},
        {"subject": "hi\r\nBcc: x@evil.example"},
        {"from_name": "Evil\r\nBcc: x@evil.example"},
        {"list_unsubscribe": ("http://e.example/u",)},
        {"list_unsubscribe": ("javascript:alert(1)",)},
        {"list_unsubscribe": ("https://e.example/u>, <https://evil.example",)},
        {"list_unsubscribe": ("mailto:not-an-address",)},
    ],
)
def test_bad_input_is_a_compose_error(kw: dict[str, object]) -> None:
    with pytest.raises(ComposeError):
        compose_message(_spec(**kw), now=NOW, token=TOKEN)


def test_idn_domain_becomes_a_label() -> None:
    assert split_address("audit@bücher.example") == ("audit", "xn--bcher-kva.example")


def test_non_ascii_subject_and_name_are_mime_encoded() -> None:
    msg = compose_message(_spec(subject="Prüfung ✓", from_name="Zoë"), now=NOW, token=TOKEN)
    msg.data.encode("ascii")  # the wire form is ASCII
    assert _headers(msg.data, "Subject") == ["Prüfung ✓"]
    assert "Zoë" in _headers(msg.data, "From")[0]


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError):
        compose_message(_spec(), now=datetime(2026, 1, 1), token=TOKEN)


# --- signing -------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_signature_verifies_and_has_the_promised_tags(key_type: DkimKeyType) -> None:
    key = KEYS[key_type]
    msg = compose_message(_spec(), now=NOW, token=TOKEN)
    signed, sig = sign_message(msg.data, key, domain="example.com", selector="s1")
    rec = key_record(key, "example.com", "s1")
    assert dkim.verify(signed, dnsfunc=_dnsfunc({rec.name: rec.record}))
    expected_alg = "ed25519-sha256" if key_type is DkimKeyType.ED25519 else "rsa-sha256"
    assert sig.algorithm == DkimAlgorithm(expected_alg)
    assert (sig.domain, sig.selector, sig.canonicalization) == (
        "example.com",
        "s1",
        "relaxed/relaxed",
    )
    assert sig.signed_headers.count("from") == 2  # oversigned
    assert sig.signed_headers.count("list-unsubscribe") == 2
    assert sig.signed_headers.count("list-unsubscribe-post") == 2
    for name in ("subject", "date", "message-id", "to", "mime-version", "content-type"):
        assert name in sig.signed_headers
    assert signed.startswith(b"DKIM-Signature: ")
    assert _headers(signed, "DKIM-Signature")[0].replace(" ", "").find("a=" + expected_alg) >= 0


def test_from_is_oversigned_even_without_unsubscribe() -> None:
    msg = compose_message(_spec(list_unsubscribe=()), now=NOW, token=TOKEN)
    names = headers_to_sign(msg.data.encode())
    assert names.count("from") == 2
    assert "list-unsubscribe" not in names


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


TAMPERINGS = {
    "body changed": lambda d: _replace_once(d, b"It needs no reply", b"It needs a reply"),
    "body appended": lambda d: d + b"P.S. click here\r\n",
    "signed header changed": lambda d: _replace_once(
        d, b"Subject: mailauth-audit test message", b"Subject: You won a prize"
    ),
    "second From added": lambda d: _replace_once(
        d, b"\r\nFrom: ", b"\r\nFrom: ceo@example.com\r\nFrom: "
    ),
    "second List-Unsubscribe added": lambda d: _replace_once(
        d,
        b"\r\nList-Unsubscribe: ",
        b"\r\nList-Unsubscribe: <https://evil.example/>\r\nList-Unsubscribe: ",
    ),
    "List-Unsubscribe-Post removed": lambda d: _replace_once(
        d, b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""
    ),
}  # fmt: skip


@pytest.mark.parametrize("key_type", list(DkimKeyType))
@pytest.mark.parametrize("tamper", list(TAMPERINGS))
def test_tampering_breaks_the_signature(key_type: DkimKeyType, tamper: str) -> None:
    signed, records = _sign(KEYS[key_type])
    assert dkim.verify(signed, dnsfunc=_dnsfunc(records))
    assert not dkim.verify(TAMPERINGS[tamper](signed), dnsfunc=_dnsfunc(records))


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_relaxed_canonicalization_survives_refolding_and_unsigned_additions(
    key_type: DkimKeyType,
) -> None:
    signed, records = _sign(KEYS[key_type])
    changed = _replace_once(
        signed,
        b"Subject: mailauth-audit test message",
        b"Subject:  mailauth-audit\r\n test message ",
    )
    changed = (
        b"Received: from relay.example by mx.example; Sun, 1 Mar 2026 12:31:00 +0000\r\n" + changed
    )
    assert dkim.verify(changed, dnsfunc=_dnsfunc(records))


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_wrong_key_fails(key_type: DkimKeyType) -> None:
    signed, _ = _sign(KEYS[key_type])
    other = key_record(generate_key(key_type), "example.com", "s1")
    assert not dkim.verify(signed, dnsfunc=_dnsfunc({other.name: other.record}))


def test_message_without_from_cannot_be_signed() -> None:
    with pytest.raises(SigningError):
        sign_message(
            b"To: a@example.net\r\nSubject: x\r\n\r\nbody\r\n",
            KEYS[DkimKeyType.RSA],
            domain="example.com",
            selector="s1",
        )
