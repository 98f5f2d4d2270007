"""checkdmarc as a differential oracle: both tools audit the same zones served by nsd on
loopback, and every point where they part is triaged against the RFC that decides it.

Compared per domain (tests/oracle/oracle_runs.py): SPF usable (no permerror, RFC 7208 §2.6.7),
SPF DNS lookups (§4.6.4), whether a DMARC policy applies, where its record is, its `p`. The
zones: the fixture zone (tests/zones/example.zone) plus ORACLE_RECORDS below (the points where
the tools were expected to differ), and a 200-domain sample from the bench generator
(../shared/bench/gen_zone.py, deterministic for its default seed).

The test asserts that the disagreements are exactly the table below (`theirs` is
checkdmarc's answer; `right` says who the RFC sides with): a new one (a change in
either tool) fails, and must be triaged here, with the RFC section that decides it.

| domain                  | field       | ours  | theirs | RFC that decides          | right     |
|-------------------------|-------------|-------|--------|---------------------------|-----------|
| upper.oracle.example    | spf_valid   | True  | False  | 7208 §4.5, §12; 5234 §2.3 | ours      |
| afterall.oracle.example | spf_valid   | False | True   | 7208 §4.6, §12            | ours      |
| badrua.oracle.example   | dmarc_valid | True  | False  | 7489 §6.6.3; 9989 §4.10.1 | ours      |
| badp.oracle.example     | dmarc_valid | True  | False  | 7489 §6.6.3; 9989 §4.10.1 | ours      |
| capital.oracle.example  | dmarc_valid | False | True   | 7489 §6.3; 6376 §3.2      | ours      |
| d000073.bench           | dmarc_valid | True  | False  | 7489 §6.6.3; 9989 §4.10.1 | ours      |
| toomany.example         | spf_lookups | 15    | 13     | 7208 §4.6.4               | undefined |
| d000029.bench           | spf_lookups | 13    | 12     | 7208 §4.6.4               | undefined |
| d000076.bench           | spf_lookups | 14    | 12     | 7208 §4.6.4               | undefined |
| d000112.bench           | spf_lookups | 15    | 12     | 7208 §4.6.4               | undefined |
| d000163.bench           | spf_lookups | 16    | 13     | 7208 §4.6.4               | undefined |

Why:
- `V=SPF1 -all`: the version is an ABNF quoted string, case-insensitive (RFC 5234 §2.3), so
  §4.5 selects the record; checkdmarc 6.0.4 finds it, then its grammar, which wants a
  lower-case `v=spf1`, rejects it ("Expected version_tag at position 0").
- `v=spf1 -all ip:10.0.0.1`: `ip:` is no mechanism; a syntax error anywhere is a permerror
  (§4.6, §12), after `all` too: terms there are not evaluated, but they are parsed.
  checkdmarc ignores any text after `all`, with a warning.
- An invalid `rua` URI (`rua=dmarc@…`, no scheme; the bench's "broken" DMARC records) voids
  nothing: §6.6.3 discards a record only for a wrong version or an invalid `p`/`sp`.
  checkdmarc calls the whole record invalid, so a published `p=quarantine` goes unreported.
- `p=block` with a valid `rua`: §6.6.3 says act as if `p=none`; checkdmarc: invalid record.
- `P=reject`: DMARC uses DKIM's tag-list syntax (RFC 7489 §6.3), whose tag names are
  case-sensitive (RFC 6376 §3.2); `P` is an unknown tag, the record has no `p` and no `rua`,
  so no policy applies. checkdmarc reads `P` as `p` and reports reject.
- Lookup counts past 10: both tools say the limit is exceeded (permerror) and agree below it.
  §4.6.4 ends evaluation at the 11th lookup, so the RFC defines no count beyond; we count the
  whole tree (what must be cut to get under the limit), checkdmarc stops part-way.

The issue also named MTA-STS disagreements (redirects, unknown fields, unanchored `mx`
wildcards): checkdmarc fetches policies through the system resolver, so MTA-STS is compared
purely, in test_checkdmarc_mta_sts_oracle.py, with its own triaged table. Nothing leaves
loopback: checkdmarc is pointed at nsd, and every connect() or
sendto() elsewhere is refused and fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE
from oracle_runs import Difference, differences, ours, theirs
from shared_data import require_bench

ORACLE_RECORDS = """
; --- oracle cases (tests/oracle): where the two tools read the RFCs differently ---------------
upper.oracle            IN TXT "V=SPF1 -all"
_dmarc.upper.oracle     IN TXT "v=DMARC1; p=reject"
afterall.oracle         IN TXT "v=spf1 -all ip:10.0.0.1"
badrua.oracle           IN TXT "v=spf1 -all"
_dmarc.badrua.oracle    IN TXT "v=DMARC1; p=quarantine; rua=dmarc@badrua.oracle.example"
badp.oracle             IN TXT "v=spf1 -all"
_dmarc.badp.oracle      IN TXT "v=DMARC1; p=block; rua=mailto:dmarc@badp.oracle.example"
nop.oracle              IN TXT "v=spf1 -all"
_dmarc.nop.oracle       IN TXT "v=DMARC1; rua=mailto:dmarc@nop.oracle.example"
twice.oracle            IN TXT "v=spf1 -all"
_dmarc.twice.oracle     IN TXT "v=DMARC1; p=reject; p=none"
capital.oracle          IN TXT "v=spf1 -all"
_dmarc.capital.oracle   IN TXT "v=DMARC1; P=reject"
void.oracle             IN TXT "v=spf1 a:n1.void.oracle.example a:n2.void.oracle.example a:n3.void.oracle.example -all"
tabbed.oracle           IN TXT "v=spf1\\t-all"
badcidr.oracle          IN TXT "v=spf1 ip4:192.0.2.0/33 -all"
redirect.oracle         IN TXT "v=spf1 redirect=_spf.provider.example"
ten.oracle              IN TXT "v=spf1 a mx a:a1.ten.oracle.example a:a2.ten.oracle.example a:a3.ten.oracle.example a:a4.ten.oracle.example a:a5.ten.oracle.example a:a6.ten.oracle.example a:a7.ten.oracle.example exists:a8.ten.oracle.example -all"
ten.oracle              IN A   192.0.2.1
"""  # noqa: E501
ORACLE_RECORDS += "".join(f"a{i}.ten.oracle IN A 192.0.2.1\n" for i in range(1, 9))
ORACLE_NAMES = (
    "upper",
    "afterall",
    "badrua",
    "badp",
    "nop",
    "twice",
    "capital",
    "void",
    "tabbed",
    "badcidr",
    "redirect",
    "ten",
)
ORACLE_DOMAINS = [f"{name}.oracle.example" for name in ORACLE_NAMES]

# (domain, field, ours, checkdmarc's) -> (the RFC sections that decide, who is right)
TRIAGED: dict[Difference, tuple[str, str]] = {
    ("upper.oracle.example", "spf_valid", "True", "False"): ("7208 §4.5, §12; 5234 §2.3", "ours"),
    ("afterall.oracle.example", "spf_valid", "False", "True"): ("7208 §4.6, §12", "ours"),
    ("badrua.oracle.example", "dmarc_valid", "True", "False"): (
        "7489 §6.6.3; 9989 §4.10.1",
        "ours",
    ),
    ("badp.oracle.example", "dmarc_valid", "True", "False"): ("7489 §6.6.3; 9989 §4.10.1", "ours"),
    ("capital.oracle.example", "dmarc_valid", "False", "True"): ("7489 §6.3; 6376 §3.2", "ours"),
    ("d000073.bench", "dmarc_valid", "True", "False"): ("7489 §6.6.3; 9989 §4.10.1", "ours"),
    ("toomany.example", "spf_lookups", "15", "13"): ("7208 §4.6.4", "undefined"),
    ("d000029.bench", "spf_lookups", "13", "12"): ("7208 §4.6.4", "undefined"),
    ("d000076.bench", "spf_lookups", "14", "12"): ("7208 §4.6.4", "undefined"),
    ("d000112.bench", "spf_lookups", "15", "12"): ("7208 §4.6.4", "undefined"),
    ("d000163.bench", "spf_lookups", "16", "13"): ("7208 §4.6.4", "undefined"),
}

BENCH_SAMPLE = 200


def _require_checkdmarc() -> None:
    try:
        import checkdmarc  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "checkdmarc is not installed (it is in the test extra: pip install .[test])"
            )
        pytest.skip("checkdmarc is not installed")


def _triaged(suffix: str) -> set[Difference]:
    return {row for row in TRIAGED if row[0].endswith(suffix)}


def _report(found: set[Difference], expected: set[Difference]) -> str:
    new = "\n".join(f"  new:  {row}" for row in sorted(found - expected))
    gone = "\n".join(f"  gone: {row}" for row in sorted(expected - found))
    return f"disagreements with checkdmarc changed; triage them in TRIAGED:\n{new}\n{gone}"


@pytest.mark.nsd
def test_fixture_zone_disagreements_are_the_triaged_ones(
    nsd_session_server: Callable[..., tuple[str, int]],
) -> None:
    _require_checkdmarc()
    host, port = nsd_session_server({"example": ZONE + ORACLE_RECORDS})
    domains = FIXTURE_DOMAINS + ORACLE_DOMAINS
    found = differences(ours(domains, host, port), theirs(domains, host, port))
    expected = _triaged(".example")
    assert found == expected, _report(found, expected)


@pytest.mark.nsd
def test_bench_sample_disagreements_are_the_triaged_ones(
    nsd_server: Callable[..., tuple[str, int]], tmp_path: Path
) -> None:
    _require_checkdmarc()
    bench = require_bench()
    data = tmp_path / "bench"
    subprocess.run(
        [sys.executable, str(bench / "gen_zone.py"), str(BENCH_SAMPLE), "--out", str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    host, port = nsd_server({"bench": (data / "bench.zone").read_text()})
    domains = (data / "domains.txt").read_text().split()
    assert len(domains) == BENCH_SAMPLE
    found = differences(ours(domains, host, port), theirs(domains, host, port))
    expected = _triaged(".bench")
    assert found == expected, _report(found, expected)


def test_the_docstring_table_is_the_triaged_table() -> None:
    rows = set()
    for line in (__doc__ or "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("domain", "") and not cells[0].startswith("-"):
            rows.add((*cells,))
    assert rows == {(*row, *why) for row, why in TRIAGED.items()}
