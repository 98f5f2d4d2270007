"""Two versions of one domain's zone, before and after a change, for the drift tests."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.model import AuditRun
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.static import StaticResolver

_FIXTURE = (Path(__file__).parent.parent / "zones" / "example.zone").read_text()
_KEYS = re.findall(r'p=(MI[A-Za-z0-9+/=]+)"(?: "([A-Za-z0-9+/=]+)")?', _FIXTURE)
KEY_2048 = next(a + b for a, b in _KEYS if len(a + b) > 300)
KEY_1024 = next(a + b for a, b in _KEYS if len(a + b) < 300)

BEFORE = {
    "mx": ["10 mx1.shop.example."],
    "spf": "v=spf1 include:_spf.provider.example -all",
    "dmarc": "v=DMARC1; p=reject; rua=mailto:d@shop.example",
    "dkim": {"s1": KEY_2048},
}


def zone(spec: dict[str, object]) -> str:
    lines = [
        "$ORIGIN example.",
        "$TTL 300",
        "@ IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300",
        "@ IN NS ns1.example.",
        "ns1 IN A 127.0.0.1",
        'shop IN TXT "google-site-verification=x"',
        "mx1.shop IN A 192.0.2.10",
        "mx2.shop IN A 192.0.2.11",
        '_spf.provider IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"',
        '_spf.other IN TXT "v=spf1 ip4:203.0.113.0/24 ~all"',
    ]
    lines += [f"shop IN MX {mx}" for mx in spec["mx"]]  # type: ignore[attr-defined]
    if spec.get("spf"):
        lines.append(f'shop IN TXT "{spec["spf"]}"')
    if spec.get("dmarc"):
        lines.append(f'_dmarc.shop IN TXT "{spec["dmarc"]}"')
    for selector, key in spec["dkim"].items():  # type: ignore[attr-defined]
        chunks = " ".join(f'"{key[i : i + 200]}"' for i in range(0, len(key), 200))
        lines.append(f'{selector}._domainkey.shop IN TXT "v=DKIM1; k=rsa; p=" {chunks}')
    return "\n".join(lines) + "\n"


def audit(spec: dict[str, object], domains: tuple[str, ...] = ("shop.example",)) -> AuditRun:
    selectors = (*spec["dkim"], "s2")  # type: ignore[misc]
    options = AuditOptions(selectors=selectors, use_default_selectors=False)
    return asyncio.run(audit_domains(domains, options, resolver=StaticResolver(zone(spec))))


def many_domains_zone(n: int, variant: int = 0) -> str:
    """`n` small domains d0.example … (variant 1 weakens every tenth domain's DMARC)."""
    lines = [
        "$ORIGIN example.",
        "$TTL 300",
        "@ IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300",
        "@ IN NS ns1.example.",
        "ns1 IN A 127.0.0.1",
        "mx.d IN A 192.0.2.25",
    ]
    for i in range(n):
        policy = "none" if variant and i % 10 == 0 else "reject"
        lines += [
            f"d{i} IN MX 10 mx.d.example.",
            f'd{i} IN TXT "v=spf1 ip4:192.0.2.{i % 250}/32 -all"',
            f'_dmarc.d{i} IN TXT "v=DMARC1; p={policy}; rua=mailto:r@d{i}.example"',
        ]
    return "\n".join(lines) + "\n"
