import pytest

from mailauth_audit.domain import normalize_domain
from mailauth_audit.errors import InvalidDomainError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("  mail.example.org  ", "mail.example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("a-b.c-d.example", "a-b.c-d.example"),
    ],
)
def test_normalises_valid_names(text: str, expected: str) -> None:
    assert normalize_domain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "localhost",
        "exa mple.com",
        "example..com",
        ".example.com",
        "-bad.example.com",
        "bad-.example.com",
        "http://example.com",
        "user@example.com",
        "192.0.2.1",
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "<script>.com",
        "exa\x00mple.com",
        "example.com;rm -rf",
    ],
)
def test_rejects_garbage_with_one_line(text: str) -> None:
    with pytest.raises(InvalidDomainError) as info:
        normalize_domain(text)
    assert "\n" not in str(info.value)
