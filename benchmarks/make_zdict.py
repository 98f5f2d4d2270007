"""Build a store compression dictionary (store/zdict-N.bin) from the bundled demo's reports.

    python benchmarks/make_zdict.py OUT.bin

The dictionary is the demo's six reports, each in the two shapes the store keeps (a
`check` report document and a bulk results line, both without derived keys), concatenated:
zstd's raw-content dictionary, so compressing a report finds its keys and common values
there. Built from the demo zone and not from the bench zone, so the store benchmark measures
the dictionary on reports it was not made from. A dictionary in use is never rebuilt: a new
one is a new codec number in store/blob.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailauth_audit.bulk.runtime import bulk_line  # noqa: E402
from mailauth_audit.demo.sample import audit_demo  # noqa: E402
from mailauth_audit.report.codec import to_json  # noqa: E402
from mailauth_audit.store.blob import dumps  # noqa: E402
from mailauth_audit.store.record import stored_document  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    run = asyncio.run(audit_demo())
    parts = []
    for report in run.domains:
        parts.append(dumps(stored_document(to_json(report))))
        parts.append(dumps(stored_document(json.loads(bulk_line(report, report.verdict)))))
    out.write_bytes(b"".join(parts))
    print(f"{out}: {out.stat().st_size} bytes from {len(parts)} documents")


if __name__ == "__main__":
    main()
