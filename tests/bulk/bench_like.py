"""Reports shaped like the bench zone's (../shared/bench/gen_zone.py): providers' MX hosts on
loopback addresses shared by many domains, nested provider includes, DKIM keys under the
built-in selectors, DMARC records of every policy and none, sub-domains inheriting their
parent's policy, implicit and null MX, a domain that does not exist. The results-line tests
round-trip them and hold their line size to the bench figure."""

from __future__ import annotations

from datetime import date

from codec_cases import audit

from mailauth_audit.model import DomainReport
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.static import StaticResolver

RSA1024 = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDbrJZit3vutdW2U7i5EU7n2v7RHiydM0bJ+imGMlLk"
    "YdQeByiSbHiDxBvTKTZYeGVx5Oa6BumzY5+x65W04dCLrU/y/Xd7/sV7IcU4qkxnD1NOyzNp6C9+9H6J"
    "ORVw5FM5UaoX/brk+/yOMyUSderfW8sffYNTzpscvfp6tcpRjQIDAQAB"
)
RSA2048 = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7LGS+IJNd5M1X15Ry1Q8J1uM9PKAOmLppFv6"
    "PRxo1lul+BBn8lJlk53kapXUa7CH4pI9ZR0VsXtY3LMenVuDdcLiBiTfWlegHj2Jodwi+LIbVi8ESnPT"
    "wK5ng0Lc0pLaIBKOm2s6gjcX++LOrJZ0HaWHJHsL8SaX0c58edCcE4qXYtzbOQeS2PRTTj0vc3DChB/J"
    "aTNPQjtUDYuGFP3ThgN7dsCKKlTqk8dzAJ+Tg69HlHKtNkTtRiy/qPOUqJZxXfLeKbNBfG+oUCQixBrC"
    "vgFytbxENMB099CIMRl+P1D9XL/YikTM3yuhxvx2e64pK/KijMRH9pOtjF7Apr8HRwIDAQAB"
)


def _split(key: str) -> str:
    return " ".join(f'"{key[i : i + 200]}"' for i in range(0, len(key), 200))


ZONE = f"""$ORIGIN bench.
$TTL 3600
@ IN SOA ns.bench. hostmaster.bench. 1 3600 600 86400 300
@ IN NS ns.bench.
ns IN A 127.0.0.1
aspmx.provider-a IN A 127.0.0.10
aspmx.provider-a IN AAAA ::1
alt1.aspmx.provider-a IN A 127.0.0.11
alt1.aspmx.provider-a IN AAAA ::1
alt2.aspmx.provider-a IN A 127.0.0.12
_spf.provider-a IN TXT "v=spf1 include:_nb.provider-a.bench include:_nb2.provider-a.bench ~all"
_nb.provider-a IN TXT "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 ip6:2001:db8:a::/48 ~all"
_nb2.provider-a IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:b::/48 ~all"
mx.provider-b IN A 127.0.1.1
spf.provider-b IN TXT "v=spf1 ip4:198.51.100.128/25 -all"
reports.provider-b IN MX 10 mx.provider-b.bench.
*._report._dmarc.reports.provider-b IN TXT "v=DMARC1"
d1 IN MX 1 aspmx.provider-a.bench.
d1 IN MX 5 alt1.aspmx.provider-a.bench.
d1 IN MX 10 alt2.aspmx.provider-a.bench.
d1 IN TXT "v=spf1 include:_spf.provider-a.bench ~all"
google._domainkey.d1 IN TXT "v=DKIM1; k=rsa; p={RSA2048[:200]}" "{RSA2048[200:]}"
marketing.d1 IN MX 1 aspmx.provider-a.bench.
marketing.d1 IN TXT "v=spf1 include:_spf.provider-a.bench -all"
d2 IN MX 0 mail.d2.bench.
mail.d2 IN A 127.0.2.62
d2 IN TXT "v=spf1 mx ip4:198.51.100.89 ~all"
default._domainkey.d2 IN TXT "v=DKIM1; k=rsa; p={RSA1024}"
_dmarc.d2 IN TXT "v=DMARC1; p=quarantine; sp=quarantine"
d3 IN A 127.0.4.15
_dmarc.d3 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.provider-b.bench"
d4 IN MX 10 mx.provider-b.bench.
d4 IN TXT "v=spf1 include:spf.provider-b.bench -all"
_dmarc.d4 IN TXT "v=DMARC1; p=reject; sp=reject; aspf=s; rua=mailto:agg@elsewhere.bench"
selector1._domainkey.d4 IN TXT "v=DKIM1; k=rsa; p={RSA1024}"
_dmarc.d1 IN TXT "v=DMARC1; p=reject; rua=mailto:d@reports.provider-b.bench"
d5 IN MX 0 .
d5 IN TXT "v=spf1 -all"
_dmarc.d5 IN TXT "v=DMARC1; p=reject"
d6 IN MX 10 mx.provider-b.bench.
d6 IN TXT "v=spf1 a mx ptr include:spf.provider-b.bench ?all"
_dmarc.d6 IN TXT "v=DMARC1; p=none; pct=50"
"""

DOMAINS = [
    "d1.bench",
    "marketing.d1.bench",
    "d2.bench",
    "d3.bench",
    "d4.bench",
    "d5.bench",
    "d6.bench",
    "gone.bench",
]


def bench_like_reports(today: date | None = None) -> list[DomainReport]:
    """The bench-like domains audited with the default checks and options (as the bench
    runs them: probes on, every MX address refused by the target rule)."""
    options = AuditOptions(today=today) if today is not None else AuditOptions()
    return audit(StaticResolver(ZONE, origin="bench"), DOMAINS, options)
