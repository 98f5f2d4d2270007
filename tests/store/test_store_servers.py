"""Which server answered: each check's facts name the server that answered the records it
read, the stored report keeps it, and a diff says which server answered a changed record —
also when the run asked several servers (its provenance then names no single one).

Given two real nsd instances serving different data for shop.example (A: p=reject, B:
p=none; only B serves other.example and the `example.` zone above them), a resolver given
both asks A first for run 1 and B first for run 2.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from history_zones import KEY_2048

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.bulk.runtime import bulk_line
from mailauth_audit.checks.base import CheckContext
from mailauth_audit.checks.dkim.collect import collect_dkim
from mailauth_audit.model import AuditRun, CheckId
from mailauth_audit.options import AuditOptions
from mailauth_audit.report.codec import from_json
from mailauth_audit.report.history import diff_text
from mailauth_audit.resolver.base import Answer, Provenance, RRType
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.store.recorder import import_results
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import diff_domain

CHECKS = frozenset({CheckId.MX, CheckId.SPF, CheckId.DKIM, CheckId.DMARC})


def _zone(origin: str, policy: str) -> str:
    key = " ".join(f'"{KEY_2048[i : i + 200]}"' for i in range(0, len(KEY_2048), 200))
    return f"""$ORIGIN {origin}.
$TTL 300
@ IN SOA ns1.{origin}. hostmaster.{origin}. 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
@ IN MX 10 mx1
mx1 IN A 192.0.2.10
@ IN TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc IN TXT "v=DMARC1; p={policy}"
s1._domainkey IN TXT "v=DKIM1; k=rsa; p=" {key}
"""


PARENT = """$ORIGIN example.
$TTL 300
@ IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
"""


def _run(servers: list[tuple[str, int]], domains: tuple[str, ...]) -> AuditRun:
    options = AuditOptions(
        checks=CHECKS,
        selectors=("s1",),
        use_default_selectors=False,
        nameservers=tuple(f"{h}:{p}" for h, p in servers),
    )
    return asyncio.run(audit_domains(domains, options))


def _servers(run: AuditRun, domain: str) -> dict[str, Any]:
    [report] = [r for r in run.domains if r.domain == domain]
    out: dict[str, Any] = {}
    for cid in (CheckId.MX, CheckId.SPF, CheckId.DMARC, CheckId.DKIM):
        out[cid.value] = getattr(report.checks[cid].result, "server", "-")
    return out


def test_a_changed_record_names_the_server_that_answered_it(
    nsd_server: Any, store_url: str, tmp_path: Path
) -> None:
    a = nsd_server({"shop.example.": _zone("shop.example", "reject")})
    b = nsd_server(
        {
            "example.": PARENT,
            "shop.example.": _zone("shop.example", "none"),
            "other.example.": _zone("other.example", "reject"),
        }
    )
    at_a, at_b = f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}"
    domains = ("shop.example", "other.example")

    first = _run([a, b], domains)
    # one run, two servers: A answered shop.example, B (after A refused) other.example
    assert _servers(first, "shop.example") == dict.fromkeys(("mx", "spf", "dmarc", "dkim"), at_a)
    assert _servers(first, "other.example") == dict.fromkeys(("mx", "spf", "dmarc", "dkim"), at_b)
    assert len(first.provenance.sources) == 2  # the run names no single source

    store = open_store(store_url)
    store.record_run(first)
    # the second run arrives as bulk results lines (the slim form) through `history import`
    second = _run([b, a], domains)
    folder = tmp_path / "run2"
    folder.mkdir()
    lines = [bulk_line(r, r.verdict) for r in second.domains]
    (folder / "results.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    assert from_json(json.loads(lines[0])).checks[CheckId.DMARC].result.server == at_b
    assert import_results(store, folder / "results.jsonl").recorded == 2

    diff = diff_domain(store, "shop.example")
    [dmarc] = [r for r in diff.records if r.type == "DMARC"]
    assert (dmarc.server_before, dmarc.server_after) == (at_a, at_b)
    assert dmarc.servers_differ
    text = diff_text(diff)
    assert f"(TTL 300, from {at_a})" in text and f"(TTL 300, from {at_b})" in text
    assert "answered by different servers" in text
    # other.example: the same records from the same server, nothing to say
    assert not diff_domain(store, "other.example").records
    store.close()


class _TwoServers:
    """StaticResolver's answers, each said to come from the server its selector names."""

    def __init__(self, zone: str) -> None:
        self.inner = StaticResolver(zone)

    async def resolve(self, name: str, rdtype: RRType, **kw: bool) -> Answer:
        answer = await self.inner.resolve(name, rdtype, **kw)
        server = "127.0.0.2:53" if name.startswith("s2.") else "127.0.0.1:53"
        a = answer
        return Answer(
            a.qname, a.rdtype, a.rcode, a.records, a.cname_chain, a.ttl, Provenance(server)
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_dkim_says_the_server_per_selector_only_when_they_differ() -> None:
    zone = _zone("shop.example", "reject") + (
        's2._domainkey IN TXT "v=DKIM1; k=ed25519; '
        'p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="\n'
    )

    def collect(selectors: tuple[str, ...]) -> Any:
        options = AuditOptions(selectors=selectors, use_default_selectors=False)
        ctx = CheckContext("shop.example", _TwoServers(zone), options)  # type: ignore[arg-type]
        return asyncio.run(collect_dkim(ctx))

    both = collect(("s1", "s2"))
    assert both.server is None
    assert [(s.selector, s.server) for s in both.selectors] == [
        ("s1", "127.0.0.1:53"),
        ("s2", "127.0.0.2:53"),
    ]
    one = collect(("s1",))
    assert one.server == "127.0.0.1:53"
    assert [s.server for s in one.selectors] == [None]
