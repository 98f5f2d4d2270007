"""The fixture fakes: answers from dicts and JSON files, errors by name, nothing sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from probe_servers import MX_NAME, LoopbackCA

from mailauth_audit.errors import (
    ConfigurationError,
    ProbeConnectionRefused,
    ProbeTemporarilyUnavailable,
    ProbeTimeout,
)
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import (
    CachingSmtpProber,
    HttpsFetcher,
    SmtpProber,
    StaticHttpsFetcher,
    StaticSmtpProber,
)

ADDRESS = "192.0.2.10"  # documentation range: a fake never connects anywhere


def test_smtp_fixture_dict(probe_ca: LoopbackCA) -> None:
    chain = probe_ca.ca.issue_cert(MX_NAME).cert_chain_pems[0].bytes().decode()
    prober = StaticSmtpProber(
        {
            MX_NAME: {
                "banner": "220 mx.example.test ESMTP",
                "ehlo": ["mx.example.test hello", "PIPELINING", "SIZE 1000", "STARTTLS"],
                "tls": {"version": "TLSv1.2", "chain_pem": chain, "trusted": False},
            },
            "plain.example.test": {"ehlo": ["plain", "8BITMIME"]},
            "busy.example.test": {"error": "temporarily_unavailable", "code": 421},
            "slow.example.test": ProbeTimeout,
        }
    )
    assert isinstance(prober, SmtpProber)
    result = asyncio.run(prober.probe(MX_NAME, ADDRESS))
    assert result.address == ADDRESS and result.port == 25
    assert result.starttls_offered and dict(result.extensions)["SIZE"] == "1000"
    assert result.tls is not None and result.tls.version == "TLSv1.2"
    assert not result.tls.trusted and result.tls.hostname_matches  # computed from the leaf
    assert result.tls.chain[0].dns_names == (MX_NAME,)
    plain = asyncio.run(prober.probe("plain.example.test", ADDRESS, 587))
    assert not plain.starttls_offered and plain.tls is None and plain.port == 587
    with pytest.raises(ProbeTemporarilyUnavailable) as info:
        asyncio.run(prober.probe("busy.example.test", ADDRESS))
    assert info.value.code == 421
    with pytest.raises(ProbeTimeout):
        asyncio.run(prober.probe("slow.example.test", ADDRESS))
    with pytest.raises(ProbeConnectionRefused):
        asyncio.run(prober.probe("unknown.example.test", ADDRESS))
    assert len(prober.calls) == 5


def test_address_specific_fixture_wins() -> None:
    prober = StaticSmtpProber(
        {MX_NAME: {"ehlo": ["a"]}, f"{MX_NAME}@192.0.2.2": {"error": "connection_refused"}}
    )
    assert asyncio.run(prober.probe(MX_NAME, "192.0.2.1")).banner.code == 220
    with pytest.raises(ProbeConnectionRefused):
        asyncio.run(prober.probe(MX_NAME, "192.0.2.2"))


def test_fake_behind_the_cache_is_asked_once() -> None:
    fake = StaticSmtpProber({MX_NAME: {"ehlo": ["a", "STARTTLS"], "tls": {}}})
    prober = CachingSmtpProber(fake)

    async def go() -> None:
        await asyncio.gather(*(prober.probe(MX_NAME, ADDRESS) for _ in range(10)))

    asyncio.run(go())
    assert len(fake.calls) == 1


def test_https_fixture_file(tmp_path: Path) -> None:
    (tmp_path / "policy.txt").write_text("version: STSv1\nmode: testing\n")
    url = "https://mta-sts.example.test/.well-known/mta-sts.txt"
    (tmp_path / "https.json").write_text(
        json.dumps(
            {
                url: {"content_type": "text/plain", "body_file": "policy.txt"},
                "https://mta-sts.example.test/moved": {"status": 302, "location": "/x"},
                "https://big.example.test/p": {"body": "x" * 100},
                "https://down.example.test/p": {"error": "probe_timeout"},
            }
        )
    )
    fetcher = StaticHttpsFetcher.from_file(
        tmp_path / "https.json", limits=ProbeLimits(max_body_bytes=10)
    )
    assert isinstance(fetcher, HttpsFetcher)
    host = "mta-sts.example.test"
    result = asyncio.run(fetcher.fetch(host, ADDRESS, "/.well-known/mta-sts.txt"))
    assert result.status == 200 and result.media_type == "text/plain"
    assert result.body == b"version: S" and result.truncated  # capped like the real one
    moved = asyncio.run(fetcher.fetch(host, ADDRESS, "/moved"))
    assert moved.is_redirect and moved.location == "/x"
    with pytest.raises(ProbeTimeout):
        asyncio.run(fetcher.fetch("down.example.test", ADDRESS, "/p"))
    with pytest.raises(ProbeConnectionRefused):
        asyncio.run(fetcher.fetch(host, ADDRESS, "/other"))


def test_bad_fixtures_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        StaticHttpsFetcher({"http://plain.example.test/": {}})
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigurationError):
        StaticSmtpProber.from_file(tmp_path / "bad.json")
    prober = StaticSmtpProber({MX_NAME: {"error": "no_such_error"}})
    with pytest.raises(ConfigurationError):
        asyncio.run(prober.probe(MX_NAME, ADDRESS))
