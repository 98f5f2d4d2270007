"""DKIM key generation: sizes, file safety, and records that pass our own DKIM check."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailauth_audit.checks.base import CheckContext, EvaluationContext
from mailauth_audit.checks.dkim import DkimCheck, DkimSelectorStatus
from mailauth_audit.cli.main import main
from mailauth_audit.messages.keys import (
    DkimKeyType,
    KeyFileError,
    KeyParameterError,
    generate_key,
    key_record,
    load_private_key,
    read_private_key,
    suggested_selector,
    txt_zone_line,
    validate_key_parameters,
    write_private_key,
)
from mailauth_audit.model import Severity
from mailauth_audit.options import AuditOptions
from mailauth_audit.records.dkim import parse_dkim_key
from mailauth_audit.resolver.base import RRType
from mailauth_audit.resolver.static import StaticResolver

ZONE_HEAD = """$ORIGIN example.com.
$TTL 300
example.com. IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300
"""


def keygen(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["dkim", "keygen", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("key_type", "bits", "expected"),
    [
        (DkimKeyType.RSA, None, 2048),
        (DkimKeyType.RSA, 1024, 1024),
        (DkimKeyType.RSA, 3072, 3072),
        (DkimKeyType.RSA, 4096, 4096),
        (DkimKeyType.ED25519, None, 256),
    ],
)
def test_allowed_sizes(key_type: DkimKeyType, bits: int | None, expected: int) -> None:
    assert validate_key_parameters(key_type, bits) == expected


@pytest.mark.parametrize(
    ("key_type", "bits"),
    [
        (DkimKeyType.RSA, 512),
        (DkimKeyType.RSA, 1023),
        (DkimKeyType.RSA, 8192),
        (DkimKeyType.RSA, 2047),
        (DkimKeyType.ED25519, 2048),
    ],
)
def test_refused_sizes(key_type: DkimKeyType, bits: int) -> None:
    with pytest.raises(KeyParameterError):
        validate_key_parameters(key_type, bits)


def _check_findings(zone: str, selectors: tuple[str, ...]) -> tuple[list, list]:
    resolver = StaticResolver(zone)
    options = AuditOptions(selectors=selectors, use_default_selectors=False)
    check = DkimCheck()
    facts = asyncio.run(check.collect(CheckContext("example.com", resolver, options)))
    findings = check.evaluate(facts, EvaluationContext("example.com", options))
    return list(facts.selectors), findings


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_printed_record_passes_our_dkim_check(key_dir: Path, key_type: DkimKeyType) -> None:
    # Given: keygen's stdout, pasted into a zone (with an RSA key next to an ed25519 one,
    # as RFC 8463 advises: alone, ed25519 is a deliberate low finding)
    code, out, err = keygen(
        ["--domain", "example.com", "--selector", "s2026", "--type", key_type.value,
         "--out", str(key_dir)]
    )  # fmt: skip
    assert code == 0, err
    line = out.strip()
    assert line.startswith("s2026._domainkey.example.com. 3600 IN TXT ")
    zone = ZONE_HEAD + line + "\n"
    selectors: tuple[str, ...] = ("s2026",)
    if key_type is DkimKeyType.ED25519:
        rsa_line = key_record(generate_key(DkimKeyType.RSA), "example.com", "rsa1").zone_line
        zone += rsa_line + "\n"
        selectors = ("s2026", "rsa1")
    # When: our own parser and check read it back
    answer = asyncio.run(StaticResolver(zone).resolve("s2026._domainkey.example.com", RRType.TXT))
    record = parse_dkim_key(answer.txt()[0].text)
    found, findings = _check_findings(zone, selectors)
    # Then: the key parses as generated and nothing above info is reported
    expected_bits = 2048 if key_type is DkimKeyType.RSA else 256
    assert record.key_type == key_type.value
    assert record.key_bits == expected_bits
    assert record.key_format == ("spki" if key_type is DkimKeyType.RSA else "raw")
    assert record.key_error is None and not record.testing
    assert found[0].status is DkimSelectorStatus.KEY
    assert [f.code for f in findings if f.severity is not Severity.INFO] == []
    # and the key file matches the published key
    key = read_private_key(key_dir / "s2026.key")
    assert key.public_key_b64() == record.public_key_b64


def test_1024_bit_key_warns_and_is_reported(key_dir: Path) -> None:
    code, out, err = keygen(
        ["--domain", "example.com", "--selector", "old", "--bits", "1024", "--out", str(key_dir)]
    )
    assert code == 0
    assert "warning" in err and "1024" in err
    _, findings = _check_findings(ZONE_HEAD + out, ("old",))
    assert [f.code for f in findings] == ["dkim.key_1024"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--bits", "512"],
        ["--bits", "1000"],
        ["--type", "ed25519", "--bits", "2048"],
        ["--type", "dsa"],
    ],
)
def test_refused_parameters_exit_2_and_write_nothing(key_dir: Path, extra: list[str]) -> None:
    code, out, _ = keygen(
        ["--domain", "example.com", "--selector", "s", "--out", str(key_dir), *extra]
    )
    assert code == 2
    assert out == ""
    assert list(key_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("domain", "selector"),
    [("not a domain", "s1"), ("example.com", "bad selector"), ("example.com", "-x")],
)
def test_bad_names_are_usage_errors(key_dir: Path, domain: str, selector: str) -> None:
    code, _, _ = keygen(["--domain", domain, "--selector", selector, "--out", str(key_dir)])
    assert code == 2


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_key_file_is_0600_even_with_permissive_umask(key_dir: Path, key_type: DkimKeyType) -> None:
    old = os.umask(0)
    try:
        write_private_key(key_dir / "k.key", generate_key(key_type))
    finally:
        os.umask(old)
    mode = stat.S_IMODE((key_dir / "k.key").stat().st_mode)
    assert mode == 0o600
    # no temporary file left behind
    assert [p.name for p in key_dir.iterdir()] == ["k.key"]


def test_existing_key_is_never_overwritten_without_force(key_dir: Path) -> None:
    args = ["--domain", "example.com", "--selector", "s1", "--out", str(key_dir)]
    assert keygen(args)[0] == 0
    before = (key_dir / "s1.key").read_bytes()
    code, out, err = keygen(args)
    assert code == 2 and "already exists" in err and out == ""
    assert (key_dir / "s1.key").read_bytes() == before
    code, _, _ = keygen([*args, "--force"])
    assert code == 0
    after = key_dir / "s1.key"
    assert after.read_bytes() != before
    assert stat.S_IMODE(after.stat().st_mode) == 0o600


def test_symlink_at_key_path_is_not_followed(key_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (key_dir / "s1.key").symlink_to(target)
    with pytest.raises(KeyFileError):
        write_private_key(key_dir / "s1.key", generate_key(DkimKeyType.ED25519))
    assert not target.exists()


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_private_key_never_printed(
    key_dir: Path, key_type: DkimKeyType, assert_no_secrets: Callable[..., None]
) -> None:
    code, out, err = keygen(
        ["--domain", "example.com", "--selector", "s1", "--type", key_type.value,
         "--out", str(key_dir)]
    )  # fmt: skip
    assert code == 0
    assert_no_secrets([out, err], key_pem=(key_dir / "s1.key").read_bytes())


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_pem_round_trip_and_repr_hides_secret(key_type: DkimKeyType) -> None:
    key = generate_key(key_type)
    again = load_private_key(key.private_pem())
    assert again.public_key_b64() == key.public_key_b64()
    assert again.key_type is key_type
    body = key.private_pem().decode().splitlines()[1]
    assert body not in repr(key)


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        generate_key(DkimKeyType.ED25519).key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        ),
    ],
)
def test_unusable_key_files_raise_key_file_error(pem: bytes) -> None:
    with pytest.raises(KeyFileError) as info:
        load_private_key(pem, source="key file k.pem")
    assert "k.pem" in str(info.value)


@pytest.mark.parametrize("length", [0, 1, 254, 255, 256, 510, 511, 800])
def test_zone_line_strings_are_at_most_255(length: int) -> None:
    text = "v=DKIM1; p=" + "A" * length
    line = txt_zone_line("s._domainkey.example.com", text)
    resolver = StaticResolver(ZONE_HEAD + line + "\n")
    answer = asyncio.run(resolver.resolve("s._domainkey.example.com", RRType.TXT))
    assert answer.txt()[0].text == text
    quoted = line.split(" IN TXT ", 1)[1]
    assert all(len(part) <= 255 for part in quoted.strip('"').split('" "'))


@pytest.mark.parametrize("key_type", list(DkimKeyType))
def test_keygen_without_selector_uses_a_name_check_finds_with_default_options(
    key_dir: Path, key_type: DkimKeyType
) -> None:
    # Given: keygen with no --selector (it suggests one), its record pasted into a zone
    code, out, err = keygen(
        ["--domain", "example.com", "--type", key_type.value, "--out", str(key_dir)]
    )
    assert code == 0, err
    suggested = suggested_selector(key_type)
    assert out.startswith(f"{suggested}._domainkey.example.com. 3600 IN TXT ")
    assert (key_dir / f"{suggested}.key").exists()
    # When: check runs with its default selector lists (no --selector)
    resolver = StaticResolver(ZONE_HEAD + out)
    options = AuditOptions()
    facts = asyncio.run(DkimCheck().collect(CheckContext("example.com", resolver, options)))
    # Then: the key is found, not "no selector found"
    assert [s.selector for s in facts.selectors] == [suggested]
    assert facts.selectors[0].status is DkimSelectorStatus.KEY
    findings = DkimCheck().evaluate(facts, EvaluationContext("example.com", options))
    assert "dkim.no_selector_found" not in {f.code for f in findings}


def test_remediations_suggest_the_selector_keygen_uses() -> None:
    # a domain with no key: the advice names s<year>, which keygen defaults to for RSA
    resolver = StaticResolver(ZONE_HEAD + '_domainkey.example.com. IN TXT "x"\n')
    options = AuditOptions(today=date(2029, 2, 3))
    facts = asyncio.run(DkimCheck().collect(CheckContext("example.com", resolver, options)))
    [finding] = DkimCheck().evaluate(facts, EvaluationContext("example.com", options))
    suggested = suggested_selector(DkimKeyType.RSA, date(2029, 2, 3))
    assert suggested == "s2029" and suggested in facts.selectors_probed
    assert f"`{suggested}._domainkey.example.com. 3600 IN TXT" in finding.remediation
