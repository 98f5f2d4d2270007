"""The HTTPS fetcher against Python's http.server behind TLS on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from probe_servers import (
    BIG_BODY_BYTES,
    LOOPBACK,
    POLICY,
    STS_NAME,
    HttpsServer,
    LoopbackCA,
    free_port,
    https_server,
)

from mailauth_audit.errors import ProbeConnectionRefused
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import HttpsFetcher, HttpsFetchResult, HttpxHttpsFetcher

POLICY_PATH = "/.well-known/mta-sts.txt"
LIMITS = ProbeLimits(connect_timeout=5, https_timeout=5, https_total_timeout=20)


@pytest.fixture(scope="module")
def sts_server(probe_ca: LoopbackCA) -> Iterator[HttpsServer]:
    with https_server(probe_ca.server_context(STS_NAME)) as server:
        yield server


def fetch(
    port: int,
    path: str,
    *,
    ca_file: str | None = None,
    host: str = STS_NAME,
    address: str = LOOPBACK,
    limits: ProbeLimits = LIMITS,
) -> HttpsFetchResult:
    async def go() -> HttpsFetchResult:
        fetcher = HttpxHttpsFetcher(limits, ca_file=ca_file)
        try:
            return await fetcher.fetch(host, address, path, port)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def test_real_fetcher_satisfies_the_protocol() -> None:
    assert isinstance(HttpxHttpsFetcher(), HttpsFetcher)


def test_policy_200_text_plain_with_sni_and_host(
    sts_server: HttpsServer, probe_ca: LoopbackCA
) -> None:
    before = len(sts_server.requests)
    result = fetch(sts_server.port, POLICY_PATH, ca_file=probe_ca.ca_file)
    assert result.status == 200 and result.body == POLICY and not result.truncated
    assert result.media_type == "text/plain" and result.charset == "utf-8"
    assert result.content_length == len(POLICY) and result.content_encoding is None
    assert result.location is None and not result.is_redirect
    assert result.http_version == "HTTP/1.1"
    assert result.tls.trusted and result.tls.hostname_matches and result.tls.sni == STS_NAME
    # connected to the address, yet the server saw the name in SNI and in Host
    path, host_header, sni = sts_server.requests[before]
    assert path == POLICY_PATH and sni == STS_NAME
    assert host_header == f"{STS_NAME}:{sts_server.port}"


def test_redirect_is_recorded_not_followed(sts_server: HttpsServer) -> None:
    before = len(sts_server.requests)
    result = fetch(sts_server.port, "/moved")
    assert result.status == 301 and result.is_redirect
    assert result.location == "https://elsewhere.test/x"
    assert [r[0] for r in sts_server.requests[before:]] == ["/moved"]


def test_404_is_a_result(sts_server: HttpsServer) -> None:
    result = fetch(sts_server.port, "/nothing-here")
    assert result.status == 404 and result.media_type == "text/plain"


def test_wrong_content_type_is_reported_as_sent(sts_server: HttpsServer) -> None:
    result = fetch(sts_server.port, "/html")
    assert result.status == 200 and result.media_type == "text/html"
    assert result.content_type == "text/html"


def test_ten_megabyte_body_is_capped(sts_server: HttpsServer) -> None:
    started = time.monotonic()
    result = fetch(sts_server.port, "/big")
    elapsed = time.monotonic() - started
    assert result.truncated and len(result.body) == LIMITS.max_body_bytes == 64 * 1024
    assert result.content_length == BIG_BODY_BYTES
    assert elapsed < 10
    # the server could not push the whole body: we stopped reading and closed
    deadline = time.monotonic() + 5
    while not sts_server.body_bytes_sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sts_server.body_bytes_sent and sts_server.body_bytes_sent[-1] < BIG_BODY_BYTES


def test_small_cap_truncates_exactly(sts_server: HttpsServer) -> None:
    limits = ProbeLimits(https_timeout=5, https_total_timeout=20, max_body_bytes=10)
    result = fetch(sts_server.port, POLICY_PATH, limits=limits)
    assert result.body == POLICY[:10] and result.truncated
    exact = ProbeLimits(https_timeout=5, https_total_timeout=20, max_body_bytes=len(POLICY))
    result = fetch(sts_server.port, POLICY_PATH, limits=exact)
    assert result.body == POLICY and not result.truncated


def test_wrong_name_certificate_is_recorded(probe_ca: LoopbackCA) -> None:
    with https_server(probe_ca.server_context("wrong.example.test")) as server:
        result = fetch(server.port, POLICY_PATH, ca_file=probe_ca.ca_file)
    assert result.status == 200
    assert result.tls.trusted and not result.tls.hostname_matches
    assert result.tls.chain[0].dns_names == ("wrong.example.test",)


def test_untrusted_certificate_is_recorded(sts_server: HttpsServer, other_ca: LoopbackCA) -> None:
    result = fetch(sts_server.port, POLICY_PATH, ca_file=other_ca.ca_file)
    assert result.status == 200 and not result.tls.trusted and result.tls.trust_error


def test_refused_port() -> None:
    with pytest.raises(ProbeConnectionRefused):
        fetch(free_port(), POLICY_PATH)


def test_ipv6_loopback(probe_ca: LoopbackCA) -> None:
    with https_server(probe_ca.server_context(STS_NAME), host="::1") as server:
        result = fetch(server.port, POLICY_PATH, ca_file=probe_ca.ca_file, address="::1")
    assert result.status == 200 and result.address == "::1" and result.tls.trusted
    assert server.requests[-1][1:] == (f"{STS_NAME}:{server.port}", STS_NAME)


def test_path_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        fetch(443, "no-slash")
