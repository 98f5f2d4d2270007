"""HTTPS fetcher for small documents from strangers' servers (an MTA-STS policy, RFC 8461).

httpx does the HTTP; we decide where it connects and what it may cost:
- the URL holds the IP address we were given, while the `sni_hostname` request extension
  puts the host name in the ClientHello and the Host header carries it to the server, so
  httpx never resolves a name;
- redirects are never followed (RFC 8461 §3.3); a 3xx is a result with its Location;
- the body is read raw (never decompressed: `Accept-Encoding: identity`) and cut at
  `max_body_bytes`, with `truncated` set; the rest is not read;
- one timeout per stage (connect with TLS, each read) and a deadline for the whole fetch;
- no keep-alive: a pooled connection opened with one name's SNI must not serve another's;
- no proxy or netrc from the environment (`trust_env=False`): a probe goes where it says.
"""

from __future__ import annotations

import asyncio
import os
import ssl

import httpx

from ..errors import (
    ProbeConnectionRefused,
    ProbeError,
    ProbeNetworkError,
    ProbeProtocolError,
    ProbeTimeout,
    ProbeTlsHandshakeFailed,
)
from ..options import ProbeLimits
from ..version import __version__
from .base import HttpsFetcher, check_target, split_content_type
from .cache import AddressLimiter, ProbeCache, ProbeCacheStats
from .certs import TrustStore
from .handshake import HandshakeObservers
from .results import HttpsFetchResult
from .tls import probe_ssl_context, server_name_indication, tls_session

__all__ = ["CachingHttpsFetcher", "HttpxHttpsFetcher"]


class HttpxHttpsFetcher:
    """One GET per call; `ca_file` replaces the system trust store for the trust verdict
    (the connection itself never requires trust, see tls.py)."""

    def __init__(
        self,
        limits: ProbeLimits | None = None,
        *,
        ca_file: str | os.PathLike[str] | None = None,
        user_agent: str = f"mailauth-audit/{__version__}",
    ) -> None:
        self.limits = limits or ProbeLimits()
        self.user_agent = user_agent
        self._ca_file = ca_file
        self._trust: TrustStore | None = None
        self._limiter = AddressLimiter(self.limits.max_connections_per_address)
        context = probe_ssl_context(alpn=("http/1.1",))
        # the key-exchange group of each connection, as the SMTP probe reads it (handshake.py)
        self._handshakes = HandshakeObservers.attach(context)
        self._client = httpx.AsyncClient(
            verify=context,
            http1=True,
            http2=False,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.limits.https_timeout, connect=self.limits.connect_timeout),
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    @property
    def trust(self) -> TrustStore:
        if self._trust is None:
            self._trust = TrustStore(self._ca_file)
        return self._trust

    async def fetch(self, host: str, address: str, path: str, port: int = 443) -> HttpsFetchResult:
        address = check_target(host, address, port)
        if not path.startswith("/") or any(c.isspace() for c in path):
            raise ValueError(f"not an absolute path: {path!r}")
        netloc = f"[{address}]" if ":" in address else address
        name = host.rstrip(".")
        headers = {
            "Host": name if port == 443 else f"{name}:{port}",
            "User-Agent": self.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        }
        sni = server_name_indication(host)
        extensions = {"sni_hostname": sni} if sni else {}
        total = self.limits.https_total_timeout
        stage = ["connect"]
        async with self._limiter.slot(address):
            try:
                async with asyncio.timeout(total):
                    return await self._get(
                        f"https://{netloc}:{port}{path}",
                        headers,
                        extensions,
                        (host, address, port, path),
                        stage,
                    )
            except TimeoutError:
                raise ProbeTimeout(
                    host, address, port, stage=stage[0], detail=f"no result within {total:g} s"
                ) from None
            except httpx.HTTPError as exc:
                raise _probe_error(exc, host, address, port, stage[0]) from None

    async def _get(
        self,
        url: str,
        headers: dict[str, str],
        extensions: dict[str, str],
        target: tuple[str, str, int, str],
        stage: list[str],
    ) -> HttpsFetchResult:
        host, address, port, path = target
        limit = self.limits.max_body_bytes
        request = self._client.build_request("GET", url, headers=headers, extensions=extensions)
        response = await self._client.send(request, stream=True)
        try:
            stage[0] = "certificate"
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
                raise ProbeTlsHandshakeFailed(
                    host, address, port, stage="tls", detail="no TLS session on the connection"
                )
            tls = tls_session(
                ssl_object,
                host=host,
                trust=self.trust,
                max_chain=self.limits.max_chain_certificates,
                observer=self._handshakes.observer(ssl_object) if self._handshakes else None,
            )
            stage[0] = "body"
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_raw():
                room = limit - len(body)
                if len(chunk) > room:
                    body += chunk[:room]
                    truncated = True
                    break
                body += chunk
        finally:
            await response.aclose()
        content_type = response.headers.get("content-type")
        media_type, charset = split_content_type(content_type)
        length = response.headers.get("content-length", "").strip()
        return HttpsFetchResult(
            host=host,
            address=address,
            port=port,
            path=path,
            status=response.status_code,
            reason=response.reason_phrase,
            content_type=content_type,
            media_type=media_type,
            charset=charset,
            content_encoding=response.headers.get("content-encoding"),
            content_length=int(length) if length.isdigit() else None,
            body=bytes(body),
            truncated=truncated,
            location=response.headers.get("location") if response.is_redirect else None,
            http_version=response.http_version,
            tls=tls,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _probe_error(
    exc: httpx.HTTPError, host: str, address: str, port: int, stage: str
) -> ProbeError:
    cause = _root_cause(exc)
    detail = str(cause) or str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        where = "connect" if isinstance(exc, httpx.ConnectTimeout) else stage
        return ProbeTimeout(host, address, port, stage=where, detail=type(exc).__name__)
    if isinstance(exc, httpx.ConnectError):
        if isinstance(cause, ConnectionRefusedError):
            return ProbeConnectionRefused(host, address, port, stage="connect", detail=detail)
        if isinstance(cause, ssl.SSLError):
            return ProbeTlsHandshakeFailed(host, address, port, stage="tls", detail=detail)
        return ProbeNetworkError(host, address, port, stage="connect", detail=detail)
    if isinstance(exc, httpx.NetworkError):
        return ProbeNetworkError(host, address, port, stage=stage, detail=detail)
    return ProbeProtocolError(host, address, port, stage=stage, detail=detail)


def _root_cause(exc: BaseException) -> BaseException:
    seen = 0
    while seen < 10:  # httpx -> httpcore -> OS or ssl error; never a long chain
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc, seen = nxt, seen + 1
    return exc


class CachingHttpsFetcher:
    """Wraps any HttpsFetcher with the run-wide cache: one fetch per (host, port, address,
    path) — the path belongs in the key, unlike SMTP, because one host serves many URLs."""

    def __init__(self, inner: HttpsFetcher, limits: ProbeLimits | None = None) -> None:
        self.inner = inner
        size = (limits or ProbeLimits()).max_cached_probes
        self._cache: ProbeCache[tuple[str, int, str, str], HttpsFetchResult] = ProbeCache(size)

    @property
    def stats(self) -> ProbeCacheStats:
        return self._cache.stats

    async def fetch(self, host: str, address: str, path: str, port: int = 443) -> HttpsFetchResult:
        address = check_target(host, address, port)
        key = (host.rstrip(".").lower(), port, address, path)
        return await self._cache.get(key, lambda: self.inner.fetch(host, address, path, port))

    async def aclose(self) -> None:
        await self.inner.aclose()
