"""Results of an audit over HTTP in the CLI's shapes: JSON lines (the codec), CSV with
`bulk`'s results.csv columns (chosen by ?format=csv or Accept: text/csv), streamed in
batches; the run's HTML index as `bulk --html` draws it. Against the real uvicorn server."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pages_server import BIG_RUN, Service, start_service

from mailauth_audit.report.codec import from_json
from mailauth_audit.report.csvout import CSV_COLUMNS, domain_csv_row


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from start_service(tmp_path_factory.mktemp("results"))


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_has_bulks_columns_and_the_codecs_values(service: Service) -> None:
    run = service.runs["hostile"]
    with service.client(service.tokens["read"]) as c:
        lines = c.get(f"/v1/audits/{run}/results").text.splitlines()
        by_query = c.get(f"/v1/audits/{run}/results", params={"format": "csv"})
        by_accept = c.get(f"/v1/audits/{run}/results", headers={"Accept": "text/csv"})
    assert by_query.status_code == 200, by_query.text
    assert by_query.headers["content-type"].startswith("text/csv")
    assert by_query.headers["content-disposition"] == f'attachment; filename="audit-{run}.csv"'
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.text == by_query.text
    rows = _csv(by_query.text)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert by_query.text.endswith("\r\n")  # the dialect of bulk's results.csv
    # each row is the CSV row of the report its JSON line decodes to: one shape, two encodings
    reports = [from_json(json.loads(line)) for line in lines]
    assert (
        [r[0] for r in rows[1:]]
        == [r.domain for r in reports]
        == sorted(["shop.example", "nomail.example"])
    )
    for report, row in zip(reports, rows[1:], strict=True):
        expected = domain_csv_row(report)
        assert row == [expected.get(c, "") for c in CSV_COLUMNS]


def test_a_big_run_streams_in_batches_in_both_formats(service: Service) -> None:
    run = service.runs["big"]
    with service.client(service.tokens["read"]) as c:
        with c.stream("GET", f"/v1/audits/{run}/results", params={"format": "csv"}) as r:
            assert r.status_code == 200
            assert r.headers.get("transfer-encoding") == "chunked"  # not one buffered body
            text = r.read().decode()
        jsonl = c.get(f"/v1/audits/{run}/results", params={"format": "jsonl"})
    rows = _csv(text)
    assert len(rows) == BIG_RUN + 1
    assert [r[0] for r in rows[1:]] == [f"d{i:03}.example" for i in range(BIG_RUN)]
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    docs = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [d["domain"] for d in docs] == [r[0] for r in rows[1:]]


def test_results_refusals(service: Service) -> None:
    with service.client() as c:
        assert c.get("/v1/audits/1/results?format=csv").status_code == 401
        assert c.get("/v1/audits/1/report").status_code == 401
    with service.client(service.tokens["revoked"]) as c:
        assert c.get("/v1/audits/1/report").status_code == 401
    with service.client(service.tokens["read"]) as c:
        assert c.get("/v1/audits/999999/results?format=csv").status_code == 404
        assert c.get("/v1/audits/999999/report").status_code == 404
        assert c.get("/v1/audits/1/results?format=xml").status_code == 422
        assert c.get("/v1/audits/1/report?page=2").status_code == 404
        assert c.get("/v1/audits/1/report?page=0").status_code == 422


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k == "href"]


def test_the_run_report_is_bulks_index_with_links_to_the_endpoints(service: Service) -> None:
    with service.client(service.tokens["read"]) as c:
        r = c.get(f"/v1/audits/{service.runs['hostile']}/report")
        big = c.get(f"/v1/audits/{service.runs['big']}/report")
        big2 = c.get(f"/v1/audits/{service.runs['big']}/report", params={"page": 2})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    tags = _Tags()
    tags.feed(r.text)
    assert "script" not in tags.tags and "img" not in tags.tags
    assert "2 domains audited" in r.text and "shop.example" in r.text
    assert {"results", "results?format=csv"} <= set(tags.links)
    # 200 domains a page; the summary counts them all
    assert f"{BIG_RUN} domains audited" in big.text
    assert "report?page=2" in big.text and f"Domains 1–200 of {BIG_RUN}" in big.text
    assert big2.status_code == 200 and f"Domains 201–{BIG_RUN} of {BIG_RUN}" in big2.text
