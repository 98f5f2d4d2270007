"""The facts the SPF check collects: frozen, so saved facts can be re-judged later."""

from __future__ import annotations

from dataclasses import dataclass

from ...fastinit import fast_init
from .nodes import SpfNode

__all__ = ["SpfResult"]


@fast_init
@dataclass(frozen=True)
class SpfResult:
    """Facts about a domain's SPF: the record, the tree it builds, and what it costs in DNS."""

    domain: str
    record: str | None  # the one SPF record; None when there is none or more than one
    records_found: tuple[str, ...]  # every TXT record at the domain starting with v=spf1
    record_strings: tuple[str, ...]  # the one record's character-strings, as published
    ignored_records: tuple[str, ...]  # TXT records that look like SPF but fail §4.5's test
    syntax_error: str | None  # set when `record` does not parse
    syntax_error_position: int | None  # 0-based offset in `record`, with `syntax_error`
    dns_lookups: int  # §4.6.4 lookups over the whole tree (can exceed 10)
    # lookups in the tree that returned NXDOMAIN or nothing, MX hosts' address lookups included
    void_lookups: int
    tree: SpfNode | None  # set when `record` is set
    complete: bool  # False when a cap stopped the tree: counts are then lower bounds
    txt_records: int  # TXT records at the domain
    txt_answer_bytes: int  # estimated size of the DNS answer holding them (§3.4: keep < 512)
    longest_txt_string: int  # longest character-string at the domain, in bytes (max 255)
    record_ttl: int | None = None  # set when records_found: the TTL of their answer
    # who answered the domain's TXT question, whose records `records_found` holds
    # ("127.0.0.1:53", "zone-file:PATH"); None in facts saved before it was kept
    server: str | None = None
