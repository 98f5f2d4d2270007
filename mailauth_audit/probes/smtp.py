"""SMTP prober: greeting, EHLO, STARTTLS (RFC 3207), the certificate chain, and nothing
else (no MAIL, no RCPT: a probe never starts a transaction).

Everything a stranger's server sends is bounded by `ProbeLimits`: line length (the stream's
buffer limit), lines and bytes per reply, a deadline per stage and one for the whole probe.
A 4xx anywhere is `ProbeTemporarilyUnavailable` ("could not test"), never "no STARTTLS".
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import ssl
from collections.abc import AsyncIterator, Iterator

from ..errors import (
    ProbeConnectionRefused,
    ProbeError,
    ProbeNetworkError,
    ProbeProtocolError,
    ProbeRejected,
    ProbeReplyTooLarge,
    ProbeTemporarilyUnavailable,
    ProbeTimeout,
    ProbeTlsHandshakeFailed,
)
from ..options import ProbeLimits
from .base import SmtpProber, check_target
from .cache import AddressLimiter, ProbeCache, ProbeCacheStats
from .certs import TrustStore
from .handshake import HandshakeObserver
from .results import SmtpProbeResult, SmtpReply, TlsSession
from .tls import probe_ssl_context, server_name_indication, tls_session

__all__ = ["AsyncSmtpProber", "CachingSmtpProber", "parse_ehlo_reply", "parse_reply_line"]

_Extensions = tuple[tuple[str, str], ...]


def parse_reply_line(raw: bytes) -> tuple[int, bool, str]:
    """(code, is_last, text) of one reply line, CRLF (or a bare LF) included in `raw`.
    RFC 5321 §4.2: three digits, then a space, a hyphen (more lines follow) or nothing."""
    line = raw.rstrip(b"\r\n")
    head, sep = line[:3], line[3:4]
    if len(head) < 3 or not head.isdigit() or head[:1] not in b"2345" or sep not in b" -":
        shown = line[:40].decode("ascii", "backslashreplace")
        raise ValueError(f"not an SMTP reply line: {shown!r}")
    return int(head), sep != b"-", line[4:].decode("utf-8", "replace")


def parse_ehlo_reply(reply: SmtpReply) -> tuple[str, _Extensions]:
    """(greeting, extensions): the first line names the server, each further line is a
    keyword with optional parameters (RFC 5321 §4.1.1.1)."""
    greeting = reply.lines[0] if reply.lines else ""
    extensions = []
    for line in reply.lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        if keyword:
            extensions.append((keyword.upper(), params.strip()))
    return greeting, tuple(extensions)


class AsyncSmtpProber:
    """Probes one server per call, with at most `max_connections_per_address` connections to
    an address at a time. `ca_file` replaces the system trust store (tests, private PKI);
    `ehlo_name` defaults to the address literal of our end of the connection, which is
    always a valid EHLO argument (RFC 5321 §4.1.4)."""

    def __init__(
        self,
        limits: ProbeLimits | None = None,
        *,
        ca_file: str | os.PathLike[str] | None = None,
        ehlo_name: str | None = None,
        starttls: bool = True,
        max_tls_version: ssl.TLSVersion | None = None,
        limiter: AddressLimiter | None = None,
    ) -> None:
        self.limits = limits or ProbeLimits()
        # offered at most (None: the newest); a prober capped at TLS 1.1 answers "does the
        # server still accept it?" with a completed handshake or ProbeTlsHandshakeFailed
        self.max_tls_version = max_tls_version
        if ehlo_name is not None and (
            not ehlo_name.isascii() or not ehlo_name.isprintable() or " " in ehlo_name
        ):
            raise ValueError(f"not a usable EHLO name: {ehlo_name!r}")
        self.ehlo_name = ehlo_name
        self.starttls = starttls
        self.connections = 0  # TCP connections opened, for tests and stats
        self.open_connections = 0
        self.peak_open_connections = 0  # the most open at once, over all addresses
        self._ca_file = ca_file
        self._trust: TrustStore | None = None
        # shared with another prober (limiter=) when both may talk to the same addresses:
        # the per-address bound then holds for their connections together
        per_address = self.limits.max_connections_per_address
        self._limiter = limiter if limiter is not None else AddressLimiter(per_address)

    @property
    def trust(self) -> TrustStore:
        if self._trust is None:  # loaded on the first handshake, then kept for the run
            self._trust = TrustStore(self._ca_file)
        return self._trust

    async def probe(self, host: str, address: str, port: int = 25) -> SmtpProbeResult:
        address = check_target(host, address, port)
        async with self._limiter.slot(address):
            session = _Session(self, host, address, port)
            self.open_connections += 1
            self.peak_open_connections = max(self.peak_open_connections, self.open_connections)
            try:
                async with asyncio.timeout(self.limits.smtp_total_timeout):
                    return await session.run()
            except TimeoutError:
                raise session.error(
                    ProbeTimeout, f"no result within {self.limits.smtp_total_timeout:g} s"
                ) from None
            finally:
                self.open_connections -= 1

    async def aclose(self) -> None:
        return None


class _Session:
    """One connection's state; `stage` names what was being waited for when it failed."""

    def __init__(self, prober: AsyncSmtpProber, host: str, address: str, port: int) -> None:
        self.prober = prober
        self.limits = prober.limits
        self.host = host
        self.address = address
        self.port = port
        self.stage = "connect"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def error(self, cls: type[ProbeError], detail: str) -> ProbeError:
        return cls(self.host, self.address, self.port, stage=self.stage, detail=detail)

    def refused(self, reply: SmtpReply) -> ProbeError:
        cls = ProbeTemporarilyUnavailable if reply.code < 500 else ProbeRejected
        if reply.code < 400:
            return self.error(ProbeProtocolError, f"unexpected reply {reply.code}")
        text = reply.text[:200]
        return cls(self.host, self.address, self.port, stage=self.stage, code=reply.code, text=text)

    @contextlib.contextmanager
    def _network_errors(self) -> Iterator[None]:
        try:
            yield
        except ConnectionRefusedError as exc:
            raise self.error(ProbeConnectionRefused, exc.strerror or str(exc)) from None
        except ssl.SSLError as exc:
            raise self.error(ProbeTlsHandshakeFailed, exc.reason or str(exc)) from None
        except OSError as exc:
            detail = exc.strerror or str(exc) or type(exc).__name__
            raise self.error(ProbeNetworkError, detail) from None

    async def run(self) -> SmtpProbeResult:
        try:
            return await self._converse()
        finally:
            if self.writer is not None:
                self.writer.transport.abort()

    async def _converse(self) -> SmtpProbeResult:
        limits = self.limits
        with self._network_errors():
            async with self._deadline(limits.connect_timeout):
                self.prober.connections += 1
                self.reader, self.writer = await asyncio.open_connection(
                    self.address, self.port, limit=limits.max_reply_line_bytes
                )
        self.stage = "banner"
        banner = await self._reply(limits.smtp_banner_timeout)
        if banner.code != 220:
            raise self.refused(banner)
        ehlo_name = self.prober.ehlo_name or self._address_literal()
        self.stage = "ehlo"
        esmtp, greeting, extensions = await self._hello(ehlo_name)
        offered = any(keyword == "STARTTLS" for keyword, _ in extensions)
        starttls_reply: SmtpReply | None = None
        tls: TlsSession | None = None
        after: _Extensions | None = None
        if offered and self.prober.starttls:
            self.stage = "starttls"
            starttls_reply = await self._command(b"STARTTLS")
            if 400 <= starttls_reply.code < 500:
                raise self.refused(starttls_reply)
            if starttls_reply.code == 220:
                tls = await self._handshake()
                after = await self._ehlo_after_tls(ehlo_name)
        await self._quit()
        return SmtpProbeResult(
            host=self.host,
            address=self.address,
            port=self.port,
            banner=banner,
            ehlo_name=ehlo_name,
            esmtp=esmtp,
            ehlo_greeting=greeting,
            extensions=extensions,
            starttls_offered=offered,
            starttls_reply=starttls_reply,
            tls=tls,
            extensions_after_tls=after,
        )

    @contextlib.asynccontextmanager
    async def _deadline(self, seconds: float) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError:
            raise self.error(ProbeTimeout, f"no answer within {seconds:g} s") from None

    def _address_literal(self) -> str:
        assert self.writer is not None
        sockname = self.writer.get_extra_info("sockname")
        ip = ipaddress.ip_address(sockname[0]) if sockname else None
        if ip is None:  # pragma: no cover - a TCP socket always has a name
            return "localhost"
        return f"[{ip}]" if ip.version == 4 else f"[IPv6:{ip}]"

    async def _hello(self, name: str) -> tuple[bool, str, _Extensions]:
        reply = await self._command(b"EHLO " + name.encode("ascii", "replace"))
        if reply.code == 250:
            greeting, extensions = parse_ehlo_reply(reply)
            return True, greeting, extensions
        if 400 <= reply.code < 500:
            raise self.refused(reply)
        self.stage = "helo"  # RFC 5321 §3.2: a server without EHLO still takes HELO
        reply = await self._command(b"HELO " + name.encode("ascii", "replace"))
        if reply.code != 250:
            raise self.refused(reply)
        return False, reply.lines[0] if reply.lines else "", ()

    async def _command(self, line: bytes) -> SmtpReply:
        assert self.writer is not None
        with self._network_errors():
            self.writer.write(line + b"\r\n")
            async with self._deadline(self.limits.smtp_command_timeout):
                await self.writer.drain()
        return await self._reply(self.limits.smtp_command_timeout)

    async def _reply(self, timeout: float) -> SmtpReply:
        assert self.reader is not None
        limits = self.limits
        lines: list[str] = []
        total = first = 0
        with self._network_errors():
            async with self._deadline(timeout):
                while True:
                    try:
                        raw = await self.reader.readuntil(b"\n")
                    except asyncio.LimitOverrunError:
                        raise self.error(
                            ProbeReplyTooLarge,
                            f"a line longer than {limits.max_reply_line_bytes} bytes",
                        ) from None
                    except asyncio.IncompleteReadError as exc:
                        detail = "connection closed" + (" mid-line" if exc.partial else "")
                        raise self.error(ProbeProtocolError, detail) from None
                    total += len(raw)
                    if total > limits.max_reply_bytes or len(lines) >= limits.max_reply_lines:
                        raise self.error(
                            ProbeReplyTooLarge,
                            f"more than {limits.max_reply_lines} lines or "
                            f"{limits.max_reply_bytes} bytes in one reply",
                        )
                    try:
                        code, last, text = parse_reply_line(raw)
                    except ValueError as exc:
                        raise self.error(ProbeProtocolError, str(exc)) from None
                    if lines and code != first:
                        raise self.error(ProbeProtocolError, "reply code changed mid-reply")
                    first = code
                    lines.append(text)
                    if last:
                        return SmtpReply(code, tuple(lines))

    async def _handshake(self) -> TlsSession:
        assert self.reader is not None and self.writer is not None
        # bytes already buffered were sent before the handshake: read after it they would
        # pass for protected replies (the STARTTLS command injection of CVE-2011-0411)
        if getattr(self.reader, "_buffer", b""):
            raise self.error(ProbeProtocolError, "data sent after the STARTTLS reply")
        self.stage = "tls"
        sni = server_name_indication(self.host)
        limits = self.limits
        ctx = probe_ssl_context(max_version=self.prober.max_tls_version, observe_legacy=True)
        observer = HandshakeObserver.attach(ctx)  # the key-exchange group (see handshake.py)
        try:
            async with self._deadline(limits.tls_handshake_timeout):
                await self.writer.start_tls(
                    ctx,
                    server_hostname=sni,
                    # ours fires first; this one only keeps asyncio from waiting longer
                    ssl_handshake_timeout=limits.tls_handshake_timeout * 2,
                )
        except (ssl.SSLError, OSError) as exc:
            detail = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise self.error(ProbeTlsHandshakeFailed, detail) from None
        ssl_object = self.writer.get_extra_info("ssl_object")
        if ssl_object is None:  # pragma: no cover - start_tls returned without TLS
            raise self.error(ProbeTlsHandshakeFailed, "no TLS session after the handshake")
        self.stage = "certificate"
        return tls_session(
            ssl_object,
            host=self.host,
            trust=self.prober.trust,
            max_chain=limits.max_chain_certificates,
            observer=observer,
        )

    async def _ehlo_after_tls(self, name: str) -> _Extensions | None:
        """RFC 3207 §4.2: what the server offers inside TLS. Best effort: the TLS facts are
        already in hand and a failure here does not undo them."""
        self.stage = "ehlo-tls"
        try:
            reply = await self._command(b"EHLO " + name.encode("ascii", "replace"))
        except ProbeError:
            return None
        return parse_ehlo_reply(reply)[1] if reply.code == 250 else None

    async def _quit(self) -> None:
        """Polite, and not waited for: a server that stalls its QUIT reply costs nothing."""
        assert self.writer is not None
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.writer.write(b"QUIT\r\n")
            async with asyncio.timeout(self.limits.smtp_command_timeout):
                await self.writer.drain()  # five bytes: returns at once unless the peer stalls


class CachingSmtpProber:
    """Wraps any SmtpProber with the run-wide cache: one probe per (host, port, address)."""

    def __init__(self, inner: SmtpProber, limits: ProbeLimits | None = None) -> None:
        self.inner = inner
        size = (limits or ProbeLimits()).max_cached_probes
        self._cache: ProbeCache[tuple[str, int, str], SmtpProbeResult] = ProbeCache(size)

    @property
    def stats(self) -> ProbeCacheStats:
        return self._cache.stats

    async def probe(self, host: str, address: str, port: int = 25) -> SmtpProbeResult:
        address = check_target(host, address, port)
        key = (host.rstrip(".").lower(), port, address)
        return await self._cache.get(key, lambda: self.inner.probe(host, address, port))

    async def aclose(self) -> None:
        await self.inner.aclose()
