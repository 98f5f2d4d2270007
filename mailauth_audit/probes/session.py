"""The probers one audit run shares, built on first use from the run's options.

A run that never probes (`--no-probes`, or only DNS checks requested) never imports httpx
nor opens a client. Every domain of the run goes through the same caching wrappers, so a
provider's MX shared by thousands of domains is probed once per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..options import ProbeOptions
from .base import HttpsFetcher, SmtpProber
from .targets import refusal_reason

if TYPE_CHECKING:
    from .cache import AddressLimiter


class ProbeSet:
    """An SMTP prober and an HTTPS fetcher for one run; fakes can be passed in for tests."""

    def __init__(
        self,
        options: ProbeOptions | None = None,
        *,
        smtp: SmtpProber | None = None,
        https: HttpsFetcher | None = None,
        smtp_legacy: SmtpProber | None = None,
    ) -> None:
        self.options = options or ProbeOptions()
        self._smtp = smtp
        self._https = https
        self._smtp_legacy = smtp_legacy
        self._smtp_injected = smtp is not None
        self._smtp_limiter: AddressLimiter | None = None
        self._owned: list[SmtpProber | HttpsFetcher] = []
        if self.options.enabled and self.options.ca_file is not None:
            from .certs import TrustStore

            # a CA file without a certificate is the user's mistake, said once before the run
            # (ConfigurationError), not an internal error in every domain's probe
            TrustStore(self.options.ca_file)

    def _limiter(self) -> AddressLimiter:
        """One per-address bound for both SMTP probers: the TLS 1.1 attempt for one MX name
        never runs beside another name's probe of the same address."""
        if self._smtp_limiter is None:
            from .cache import AddressLimiter

            limit = self.options.limits.max_connections_per_address
            self._smtp_limiter = AddressLimiter(limit)
        return self._smtp_limiter

    @property
    def smtp_limiter(self) -> AddressLimiter:
        """The per-address limit the SMTP probers share (its `peak_per_address` tells how
        many connections to one address were ever open at once)."""
        return self._limiter()

    def refusal(self, address: str) -> str | None:
        """Why `address` must not be probed under this run's rule, or None."""
        return refusal_reason(address, allow_private=self.options.allow_private_targets)

    @property
    def smtp(self) -> SmtpProber:
        if self._smtp is None:
            from .smtp import AsyncSmtpProber, CachingSmtpProber

            limits = self.options.limits
            self._smtp = CachingSmtpProber(
                AsyncSmtpProber(limits, ca_file=self.options.ca_file, limiter=self._limiter()),
                limits,
            )
            self._owned.append(self._smtp)
        return self._smtp

    @property
    def smtp_legacy(self) -> SmtpProber | None:
        """A second SMTP prober that offers at most TLS 1.1 (RFC 8996 deprecated 1.0 and
        1.1): a completed handshake means the server still accepts them. Cached per run
        like `smtp`, under its own keys. None when an SMTP prober was injected without a
        legacy one (a fake must never be paired with real connections)."""
        if self._smtp_legacy is None and self._smtp_injected:
            return None
        if self._smtp_legacy is None:
            import ssl

            from .smtp import AsyncSmtpProber, CachingSmtpProber

            limits = self.options.limits
            self._smtp_legacy = CachingSmtpProber(
                AsyncSmtpProber(
                    limits,
                    ca_file=self.options.ca_file,
                    max_tls_version=ssl.TLSVersion.TLSv1_1,
                    limiter=self._limiter(),
                ),
                limits,
            )
            self._owned.append(self._smtp_legacy)
        return self._smtp_legacy

    @property
    def https(self) -> HttpsFetcher:
        if self._https is None:
            from .https import CachingHttpsFetcher, HttpxHttpsFetcher

            limits = self.options.limits
            self._https = CachingHttpsFetcher(
                HttpxHttpsFetcher(limits, ca_file=self.options.ca_file), limits
            )
            self._owned.append(self._https)
        return self._https

    async def aclose(self) -> None:
        """Close what this set built; injected probers belong to their owner."""
        owned, self._owned = self._owned, []
        for prober in owned:
            await prober.aclose()
