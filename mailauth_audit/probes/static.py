"""Fakes that answer from fixtures, the way `StaticResolver` answers from zone text: tests
of checks, and offline runs. They send nothing over the network.

SMTP fixtures are keyed by host name (or "host@address", or "host@address:port", the most
specific key winning); HTTPS fixtures by URL ("https://host/path", "https://host:8443/p").
A value is a ready result, a `ProbeError` subclass (raised), or a JSON-like mapping:

    {"mx1.example.com": {"banner": "220 mx1.example.com ESMTP",
                         "ehlo": ["mx1.example.com", "PIPELINING", "STARTTLS"],
                         "tls": {"version": "TLSv1.3", "chain_pem": "-----BEGIN ...",
                                 "trusted": true}},
     "mx2.example.com": {"error": "temporarily_unavailable", "code": 421, "text": "busy"}}

    {"https://mta-sts.example.com/.well-known/mta-sts.txt":
        {"status": 200, "content_type": "text/plain", "body": "version: STSv1\\n..."}}

A "tls" mapping may give version, cipher, cipher_bits, group, group_bits, chain_pem (or
chain_pem_file, relative to the fixture file), trusted (default true), trust_error, hostname_matches
(default: computed from the leaf, or true without a chain). A host or URL with no fixture
behaves like an address where nothing listens: `ProbeConnectionRefused`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import (
    ConfigurationError,
    ProbeConnectionRefused,
    ProbeError,
    ProbeFailure,
    ProbeNetworkError,
    ProbeProtocolError,
    ProbeRejected,
    ProbeReplyTooLarge,
    ProbeSmtpReplyError,
    ProbeTemporarilyUnavailable,
    ProbeTimeout,
    ProbeTlsHandshakeFailed,
)
from ..options import ProbeLimits
from .base import check_target, split_content_type
from .certs import hostname_matches, summarize_certificate
from .results import HttpsFetchResult, SmtpProbeResult, SmtpReply, TlsSession
from .smtp import parse_ehlo_reply
from .tls import server_name_indication

__all__ = ["StaticHttpsFetcher", "StaticSmtpProber"]

_ERRORS: dict[str, type[ProbeError]] = {
    ProbeFailure.CONNECTION_REFUSED: ProbeConnectionRefused,
    ProbeFailure.NETWORK_UNREACHABLE: ProbeNetworkError,
    ProbeFailure.TIMEOUT: ProbeTimeout,
    "timeout": ProbeTimeout,
    ProbeFailure.TLS_HANDSHAKE_FAILED: ProbeTlsHandshakeFailed,
    ProbeFailure.PROTOCOL_ERROR: ProbeProtocolError,
    ProbeFailure.REPLY_TOO_LARGE: ProbeReplyTooLarge,
    ProbeFailure.TEMPORARILY_UNAVAILABLE: ProbeTemporarilyUnavailable,
    ProbeFailure.REJECTED: ProbeRejected,
}

Fixture = Any  # a result, a ProbeError subclass, or a JSON-like mapping (see the docstring)


def _load_json(path: str | Path) -> tuple[dict[str, Any], Path]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read probe fixtures {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"probe fixtures {path} must be a JSON object")
    return data, Path(path).parent


def _raise(spec: Fixture, host: str, address: str, port: int) -> None:
    cls: type[ProbeError] | None = None
    options: Mapping[str, Any] = {}
    if isinstance(spec, type) and issubclass(spec, ProbeError):
        cls = spec
    elif isinstance(spec, Mapping) and "error" in spec:
        options = spec
        cls = _ERRORS.get(str(spec["error"]))
        if cls is None:
            raise ConfigurationError(f"unknown probe error in fixture: {spec['error']!r}")
    if cls is None:
        return
    stage = str(options.get("stage", "fixture"))
    if issubclass(cls, ProbeSmtpReplyError):
        code = int(options.get("code", 421 if cls is ProbeTemporarilyUnavailable else 554))
        raise cls(host, address, port, stage=stage, code=code, text=str(options.get("text", "")))
    raise cls(host, address, port, stage=stage, detail=str(options.get("detail", "fixture")))


def _reply(text: str) -> SmtpReply:
    lines = text.splitlines() or [""]
    code = int(lines[0][:3])
    return SmtpReply(code, tuple(line[4:] for line in lines))


def _tls(spec: Mapping[str, Any] | None, host: str, base: Path | None) -> TlsSession | None:
    if spec is None:
        return None
    pem = spec.get("chain_pem", "")
    if "chain_pem_file" in spec:
        pem = ((base or Path.cwd()) / spec["chain_pem_file"]).read_text(encoding="ascii")
    certs = x509.load_pem_x509_certificates(pem.encode()) if pem else []
    chain_der = tuple(c.public_bytes(Encoding.DER) for c in certs)
    chain = tuple(summarize_certificate(d) for d in chain_der)
    matches = spec.get("hostname_matches")
    if matches is None:
        matches = hostname_matches(chain[0], host) if chain else True
    trusted = bool(spec.get("trusted", True))
    return TlsSession(
        version=str(spec.get("version", "TLSv1.3")),
        cipher=str(spec.get("cipher", "TLS_AES_256_GCM_SHA384")),
        cipher_bits=spec.get("cipher_bits", 256),
        group=spec.get("group"),
        chain_der=chain_der,
        chain=chain,
        chain_truncated=False,
        trusted=trusted,
        trust_error=None if trusted else str(spec.get("trust_error", "untrusted (fixture)")),
        trust_store="fixture",
        hostname_matches=bool(matches),
        sni=server_name_indication(host),
        group_bits=spec.get("group_bits"),
    )


class StaticSmtpProber:
    def __init__(self, fixtures: Mapping[str, Fixture], *, base: Path | None = None) -> None:
        self._fixtures = {k.lower(): v for k, v in fixtures.items()}
        self._base = base
        self.calls: list[tuple[str, str, int]] = []  # every probe asked, in order

    @classmethod
    def from_file(cls, path: str | Path) -> StaticSmtpProber:
        data, base = _load_json(path)
        return cls(data, base=base)

    async def probe(self, host: str, address: str, port: int = 25) -> SmtpProbeResult:
        address = check_target(host, address, port)
        self.calls.append((host, address, port))
        name = host.rstrip(".").lower()
        keys = (f"{name}@{address}:{port}", f"{name}@{address}", name)
        spec = next((self._fixtures[k] for k in keys if k in self._fixtures), None)
        if spec is None:
            raise ProbeConnectionRefused(host, address, port, stage="connect", detail="no fixture")
        _raise(spec, host, address, port)
        if isinstance(spec, SmtpProbeResult):
            return replace(spec, host=host, address=address, port=port)
        ehlo = spec.get("ehlo")
        if ehlo is not None:
            greeting, extensions = parse_ehlo_reply(SmtpReply(250, tuple(ehlo)))
        else:
            greeting, extensions = "", ()
        offered = any(k == "STARTTLS" for k, _ in extensions)
        tls = _tls(spec.get("tls"), host, self._base)
        after = spec.get("ehlo_after_tls", ehlo if tls is not None else None)
        starttls_reply = spec.get("starttls_reply", "220 Ready to start TLS" if tls else None)
        return SmtpProbeResult(
            host=host,
            address=address,
            port=port,
            banner=_reply(spec.get("banner", f"220 {name} ESMTP")),
            ehlo_name=str(spec.get("ehlo_name", "[192.0.2.1]")),
            esmtp=ehlo is not None,
            ehlo_greeting=greeting,
            extensions=extensions,
            starttls_offered=offered,
            starttls_reply=_reply(starttls_reply) if starttls_reply else None,
            tls=tls,
            extensions_after_tls=(
                parse_ehlo_reply(SmtpReply(250, tuple(after)))[1] if after is not None else None
            ),
        )

    async def aclose(self) -> None:
        return None


class StaticHttpsFetcher:
    def __init__(
        self,
        fixtures: Mapping[str, Fixture],
        *,
        limits: ProbeLimits | None = None,
        base: Path | None = None,
    ) -> None:
        self._fixtures = {_url_key(k): v for k, v in fixtures.items()}
        self.limits = limits or ProbeLimits()
        self._base = base
        self.calls: list[tuple[str, str, str, int]] = []

    @classmethod
    def from_file(
        cls, path: str | Path, *, limits: ProbeLimits | None = None
    ) -> StaticHttpsFetcher:
        data, base = _load_json(path)
        return cls(data, limits=limits, base=base)

    async def fetch(self, host: str, address: str, path: str, port: int = 443) -> HttpsFetchResult:
        address = check_target(host, address, port)
        self.calls.append((host, address, path, port))
        netloc = host.rstrip(".").lower() + ("" if port == 443 else f":{port}")
        spec = self._fixtures.get(f"https://{netloc}{path}")
        if spec is None:
            raise ProbeConnectionRefused(host, address, port, stage="connect", detail="no fixture")
        _raise(spec, host, address, port)
        if isinstance(spec, HttpsFetchResult):
            return replace(spec, host=host, address=address, port=port, path=path)
        body = spec.get("body", "")
        if "body_file" in spec:
            body = ((self._base or Path.cwd()) / spec["body_file"]).read_bytes()
        raw = body.encode() if isinstance(body, str) else bytes(body)
        cap = self.limits.max_body_bytes
        content_type = spec.get("content_type")
        media_type, charset = split_content_type(content_type)
        status = int(spec.get("status", 200))
        tls = _tls(spec.get("tls", {}), host, self._base)
        assert tls is not None
        return HttpsFetchResult(
            host=host,
            address=address,
            port=port,
            path=path,
            status=status,
            reason=str(spec.get("reason", "")),
            content_type=content_type,
            media_type=media_type,
            charset=charset,
            content_encoding=spec.get("content_encoding"),
            content_length=len(raw),
            body=raw[:cap],
            truncated=len(raw) > cap,
            location=spec.get("location") if 300 <= status < 400 else None,
            http_version="HTTP/1.1",
            tls=tls,
        )

    async def aclose(self) -> None:
        return None


def _url_key(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "https":
        raise ConfigurationError(f"HTTPS fixture keys are https:// URLs: {url!r}")
    netloc, slash, path = rest.partition("/")
    netloc = netloc.lower().removesuffix(":443")
    return f"https://{netloc}{slash}{path or ''}" if slash else f"https://{netloc}/"
