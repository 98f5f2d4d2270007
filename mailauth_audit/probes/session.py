"""The probers one audit run shares, built on first use from the run's options.

A run that never probes (`--no-probes`, or only DNS checks requested) never imports httpx
nor opens a client. Every domain of the run goes through the same caching wrappers, so a
provider's MX shared by thousands of domains is probed once per run.
"""

from __future__ import annotations

from ..options import ProbeOptions
from .base import HttpsFetcher, SmtpProber
from .targets import refusal_reason


class ProbeSet:
    """An SMTP prober and an HTTPS fetcher for one run; fakes can be passed in for tests."""

    def __init__(
        self,
        options: ProbeOptions | None = None,
        *,
        smtp: SmtpProber | None = None,
        https: HttpsFetcher | None = None,
    ) -> None:
        self.options = options or ProbeOptions()
        self._smtp = smtp
        self._https = https
        self._owned: list[SmtpProber | HttpsFetcher] = []
        if self.options.enabled and self.options.ca_file is not None:
            from .certs import TrustStore

            # a CA file without a certificate is the user's mistake, said once before the run
            # (ConfigurationError), not an internal error in every domain's probe
            TrustStore(self.options.ca_file)

    def refusal(self, address: str) -> str | None:
        """Why `address` must not be probed under this run's rule, or None."""
        return refusal_reason(address, allow_private=self.options.allow_private_targets)

    @property
    def smtp(self) -> SmtpProber:
        if self._smtp is None:
            from .smtp import AsyncSmtpProber, CachingSmtpProber

            limits = self.options.limits
            self._smtp = CachingSmtpProber(
                AsyncSmtpProber(limits, ca_file=self.options.ca_file), limits
            )
            self._owned.append(self._smtp)
        return self._smtp

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
