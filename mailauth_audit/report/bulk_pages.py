"""One HTML page per domain (--html-pages), drawn by the report's own HTML renderer.

Pages are written by whoever holds the report (a worker process) as soon as the domain is
done, so a resumed run keeps the pages of what was already done and memory stays flat.
"""

from __future__ import annotations

from ..model import AuditRun, DomainReport, Provenance
from ..version import __version__
from .html import domain_views
from .html import render_domain_page as _render

__all__ = ["render_domain_page"]


def render_domain_page(report: DomainReport, provenance: Provenance | None = None) -> str:
    """The page of one domain; `provenance` is the run's, so the page says where its answers
    came from (and carries the DRAFT band of a zone-file run) as every other report does."""
    run = AuditRun(
        started_at="",
        finished_at="",
        domains=(report,),
        tool_version=__version__,
        provenance=provenance,
    )
    (view,) = domain_views([report])
    return _render(run, view, index_href="../index.html")
