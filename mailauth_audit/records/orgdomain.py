"""Organizational Domains, both ways: RFC 7489's Public Suffix List and RFC 9989's DNS Tree
Walk. Pure: the tree walk's DNS answers are passed in, and the PSL is the copy bundled with
the `publicsuffixlist` package (never downloaded).

Both are kept because receivers still differ: an RFC 7489 receiver finds the policy of
`a.b.example.co.uk` at the PSL's `example.co.uk`, an RFC 9989 receiver at whichever name the
tree walk selects, and an audit should say when the two disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import idna
from publicsuffixlist import PublicSuffixList

__all__ = [
    "TREE_WALK_MAX_LABELS",
    "dmarc_name",
    "psl_organizational_domain",
    "select_organizational_domain",
    "tree_walk_names",
]

# RFC 9989 §4.10: an Author Domain of more than eight labels costs at most eight queries.
TREE_WALK_MAX_LABELS = 8


@lru_cache(maxsize=1)
def _public_suffix_list() -> PublicSuffixList:
    """Built once, on first use: parsing the bundled list takes tens of milliseconds.

    A process-wide cache is right here (unlike per-run work): the list is static data that
    ships with the package, identical for every run. `PublicSuffixList()` with no source
    reads the bundled file; it never fetches (updating is a separate, explicit script).
    The private section is included, as RFC 7489 receivers such as OpenDMARC use it."""
    return PublicSuffixList()


def _ascii(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    try:
        return name.encode("ascii").decode()
    except UnicodeEncodeError:
        try:
            return idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            return name


@lru_cache(maxsize=4096)  # pure; asked several times per domain (own, policy, report hosts)
def psl_organizational_domain(name: str) -> str:
    """RFC 7489 §3.2: the public suffix of `name` plus one label, in A-label form.

    A name that is itself a public suffix (`co.uk`) has no registered domain above it and is
    returned unchanged. Unknown TLDs (`.test`, `.example`, `.bench`) fall under the PSL's
    default rule `*`, so the Organizational Domain of `a.b.shop.bench` is `shop.bench`."""
    ascii_name = _ascii(name)
    registered = _public_suffix_list().privatesuffix(ascii_name)
    return registered if registered else ascii_name


def dmarc_name(domain: str) -> str:
    return f"_dmarc.{domain}"


def tree_walk_names(domain: str) -> tuple[str, ...]:
    """The domains whose `_dmarc` names an RFC 9989 §4.10 tree walk queries, in order.

    First the domain itself, then: with eight labels or fewer, each parent in turn; with more,
    the walk jumps to the seven rightmost labels and continues from there, so no walk costs
    more than eight queries. The walk goes up to the single-label TLD: a Public Suffix
    Operator publishes its `psd=y` record there (`_dmarc.com`)."""
    labels = domain.rstrip(".").lower().split(".")
    names = [".".join(labels)]
    # more than eight labels: jump to the seven rightmost; otherwise start at the parent
    keep = TREE_WALK_MAX_LABELS - 1 if len(labels) > TREE_WALK_MAX_LABELS else len(labels) - 1
    labels = labels[len(labels) - keep :]
    while labels:
        names.append(".".join(labels))
        labels = labels[1:]
    return tuple(names)


def select_organizational_domain(start: str, found: Iterable[tuple[str, str | None]]) -> str:
    """RFC 9989 §4.10.2: choose the Organizational Domain of `start` from a tree walk.

    `found` holds, for each name where the walk found exactly one valid DMARC record, the
    name and that record's `psd` value ("y", "n", "u" or None when absent). Considered from
    the longest name to the shortest: `psd=n` makes that name the Organizational Domain;
    `psd=y` on a name other than `start` makes the name one label below it (toward `start`)
    the Organizational Domain; otherwise the record with the fewest labels wins. With no
    record at all, `start` is its own Organizational Domain."""
    start = start.rstrip(".").lower()
    start_labels = start.split(".")
    records = sorted(
        ((name.rstrip(".").lower(), psd) for name, psd in found),
        key=lambda item: -len(item[0].split(".")),
    )
    for name, psd in records:
        if psd == "n":
            return name
        if psd == "y" and name != start:
            depth = len(name.split(".")) + 1
            return ".".join(start_labels[-depth:])
    if records:
        return records[-1][0]
    return start
