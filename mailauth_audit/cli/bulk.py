"""`mailauth-audit bulk`: audit a list of thousands of domains into a report folder.

Exit codes: 0 done; 1 some domain has a finding at or above --fail-on (counted over the whole
run, lines kept by --resume included); 2 usage error (or results already there without
--resume, a --resume of a folder whose run had another list or options, a symlink or special
file where the folder's files go); 3 done, but some check could not be completed for some
domain; 4 the results could not be written (disk full...; what was written stays valid,
continue with --resume); 5 (--store) the results are complete but some audits could not be
recorded in the store (`history import` adds them later); 130 interrupted (continue with
--resume). 130 and 4 win over 5, and 5 over 1 and 3. As in `check`, 1 wins over
3: a failing finding is a verdict, whereas 3 only says the verdict is incomplete. 130 wins
over both: an interrupted run has not judged every domain yet.
"""

from __future__ import annotations

import functools
import os
import shlex
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..asyncapi import (
    COMPRESSED_NAMES,
    RESULTS_NAME,
    BulkConfig,
    BulkSummary,
    InputStats,
    OutputRefused,
    ResultsWriteError,
    ResumeMismatch,
    WireResolver,
    ZoneSet,
    compressed_results,
    load_zones,
    parse_nameserver,
    read_entries,
    run_bulk,
    run_provenance,
    store_url_from,
    system_nameservers,
    zone_file_resolver,
)
from ..errors import ConfigurationError
from ..model import CheckId, Provenance
from ..options import AuditOptions, Limits, ProbeOptions
from .common import (
    checks_option,
    dnssec_resolver_option,
    domain_timeout_option,
    fail_on_option,
    gather_selectors,
    max_selectors_option,
    nameserver_option,
    no_default_selectors_option,
    origin_option,
    probe_options,
    quiet_option,
    retries_option,
    selector_option,
    selectors_file_option,
    selectors_from_option,
    timeout_option,
    zone_files_option,
)
from .history import open_named_store, store_option

if TYPE_CHECKING:
    from ..asyncapi import StoreRecorder

EXIT_OK, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 2, 3, 4, 130
EXIT_FINDINGS = 1  # as in cli.main
EXIT_NOT_RECORDED = 5  # --store: results complete, some audits not in the store


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(code)


def _checks(value: str | None) -> frozenset[CheckId]:
    if not value:
        return frozenset(CheckId)
    wanted = set()
    for part in value.split(","):
        try:
            wanted.add(CheckId(part.strip().lower()))
        except ValueError:
            _fail(
                f"unknown check {part.strip()!r} in --checks "
                f"(choose from {', '.join(c.value for c in CheckId)})"
            )
    return frozenset(wanted)


def _resume_hint() -> str:
    args = sys.argv[1:]
    if "--resume" not in args:
        args = [*args, "--resume"]
    return "mailauth-audit " + shlex.join(args)


def _provenance(options: AuditOptions, zones: ZoneSet | None) -> Provenance:
    """What summary.json says about where the answers come from (no query is sent)."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if zones is not None:
        return run_provenance(zone_file_resolver(zones, options), now)
    if options.nameservers:
        servers = [parse_nameserver(s) for s in options.nameservers]
    else:
        servers = system_nameservers()
    return run_provenance(WireResolver(servers, limits=options.limits), now)


def _default_output() -> Path:
    return Path("reports") / f"bulk-{datetime.now(UTC):%Y-%m-%d}"


@click.command()
@click.argument("domain_list", metavar="DOMAINS.txt", type=click.Path(allow_dash=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: reports/bulk-YYYY-MM-DD).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 10_000),
    default=Limits().max_concurrent_domains,
    show_default=True,
    help="Domains audited at once, in total (shared among the worker processes).",
)
@click.option(
    "--max-dns-in-flight",
    type=click.IntRange(1, 60_000),
    default=Limits().max_dns_in_flight,
    show_default=True,
    help="DNS queries on the wire at once, in total (shared among the worker processes).",
)
@click.option(
    "--processes",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Worker processes; 0 = one per CPU core (at most 8), one for lists under 2,000.",
)
@nameserver_option
@dnssec_resolver_option
@click.option(
    "--qps",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="N",
    help="At most N DNS queries per second in total (be gentle with a shared resolver).",
)
@timeout_option
@retries_option
@domain_timeout_option
@checks_option
@probe_options
@selector_option
@no_default_selectors_option
@zone_files_option
@origin_option
@selectors_file_option
@selectors_from_option
@max_selectors_option
@fail_on_option
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in the output folder: skip every domain already in results.jsonl. "
    "The list and the options that change results must be the same (run.json records them).",
)
@click.option(
    "--html-pages",
    is_flag=True,
    help="Also write one HTML page per domain (domains/NAME.html), linked from index.html.",
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="Progress line on stderr."
)
@store_option
@quiet_option
@click.option("--debug", is_flag=True, help="Keep tracebacks of internal errors in results.")
@click.option(
    "--compress",
    type=click.Choice(sorted(COMPRESSED_NAMES)),
    default=None,
    help="Compress results.jsonl to results.jsonl.gz (gzip) or results.jsonl.zst (zstd) once "
    "every domain is reported (an interrupted run keeps results.jsonl, so --resume still works "
    "until the run completes).",
)
def bulk(
    domain_list: str,
    output: Path | None,
    concurrency: int,
    max_dns_in_flight: int,
    processes: int,
    nameservers: tuple[str, ...],
    dnssec_resolvers: tuple[str, ...],
    qps: float | None,
    timeout: float,
    retries: int,
    domain_timeout: float,
    checks_text: str | None,
    probes: ProbeOptions,
    selectors: tuple[str, ...],
    no_default_selectors: bool,
    zone_files: tuple[Path, ...],
    origin: str | None,
    selectors_files: tuple[Path, ...],
    selectors_messages: tuple[Path, ...],
    max_selectors: int,
    fail_on: str | None,
    resume: bool,
    html_pages: bool,
    progress: bool,
    store: str | None,
    quiet: bool,
    debug: bool,
    compress: str | None,
) -> None:
    """Audit every domain in DOMAINS.txt (one per line; "-" reads stdin).

    \b
    Results stream to OUTPUT/results.jsonl as each domain finishes; at the end
    summary.json, results.csv and index.html (charts) are written. Blank lines and
    # comments are ignored, duplicates folded, invalid names reported as "invalid".

    \b
    Examples:
      mailauth-audit bulk domains.txt -o reports/bulk-2026-11/
      mailauth-audit bulk domains.txt -o reports/bulk-2026-11/ --resume
      mailauth-audit bulk - -o out/ -n 127.0.0.1#5300 --qps 500 < list.txt
      mailauth-audit bulk customers.txt -o out/ --zone-file a.zone --zone-file b.zone
      mailauth-audit bulk domains.txt -o out/ --fail-on high   # exit 1 on any high finding
      mailauth-audit bulk clients.txt -o out/ --store postgresql://audit@db/audits

    \b
    Exit codes: 0 done; 1 a domain has a finding at or above --fail-on; 2 usage error
    (or the --store cannot be opened: nothing is audited); 3 some checks could not be
    completed; 4 results could not be written (continue with --resume); 5 some audits
    were not recorded in the store (add them with `history import`); 130 interrupted.
    """
    try:
        for ns in (*nameservers, *dnssec_resolvers):
            parse_nameserver(ns)
        if not nameservers and not zone_files:
            system_nameservers()
    except ConfigurationError as exc:
        _fail(str(exc))
    out = output or _default_output()
    if not resume and (out / RESULTS_NAME).exists() and (out / RESULTS_NAME).stat().st_size:
        _fail(
            f"{out / RESULTS_NAME} already has results: add --resume to continue that run, "
            "or choose another --output folder"
        )
    finished = compressed_results(out)
    if finished is not None and not resume:
        _fail(f"{finished} already has the results of a run: choose another --output folder")
    stats = InputStats()
    try:
        if domain_list == "-":
            entries, _ = read_entries(sys.stdin, stats)
        else:
            with open(domain_list, encoding="utf-8", errors="replace") as fh:
                entries, _ = read_entries(fh, stats)
    except OSError as exc:
        _fail(f"cannot read {domain_list}: {exc.strerror}")
    try:
        selectors = gather_selectors(selectors, selectors_files, selectors_messages)
    except ConfigurationError as exc:
        _fail(str(exc))
    options = AuditOptions(
        checks=_checks(checks_text),
        selectors=selectors,
        use_default_selectors=not no_default_selectors,
        nameservers=nameservers,
        limits=Limits(
            max_concurrent_domains=concurrency,
            max_dns_in_flight=max_dns_in_flight,
            dns_timeout=timeout,
            dns_attempts=retries + 1,
            domain_timeout=domain_timeout,
        ),
        debug=debug,
        probes=probes,
    )
    # one date for the whole run (the date-style DKIM selectors do not change at midnight,
    # nor when --resume continues it another day): the bulk core fixes it, see BulkFolder.open
    limits = replace(options.limits, max_dkim_selectors=max_selectors)
    options = replace(options, limits=limits)
    options = replace(options, probes=replace(options.probes, dnssec_resolvers=dnssec_resolvers))
    if processes == 0 and probes.enabled:
        # each worker process keeps its own probe cache: one process probes a provider's MX
        # once per run (probes wait on the network, not the CPU); --processes N trades that
        # for at most N probes per address
        processes = 1
    if processes == 0:
        # a worker process costs more to start than a short list takes
        processes = 1 if len(entries) < 2_000 else min(os.cpu_count() or 1, 8)
    try:
        zones = load_zones(options, zone_files, origin)
    except ConfigurationError as exc:
        _fail(str(exc))
    factory = None
    if zones is not None:
        # the zone files are read once, here, and answered in this process
        processes = 1
        factory = functools.partial(zone_file_resolver, zones, options)
    recorder = None
    if (url := store_url_from(store)) is not None:
        # opened before any query: a store that cannot be used stops the run here (exit 2)
        from ..asyncapi import StoreRecorder  # SQLAlchemy only when a store is used

        recorder = StoreRecorder(
            open_named_store(url),
            "bulk",
            provenance=_provenance(options, zones),
            background=True,  # the loop hands batches over; a thread waits for the database
        )
    config = BulkConfig(
        output_dir=out,
        options=options,
        processes=processes,
        resume=resume,
        html_pages=html_pages,
        queries_per_second=qps,
        progress=progress and not quiet,
        resume_hint=_resume_hint(),
        resolver_factory=factory,
        provenance=_provenance(options, zones),
        compress=compress,
        line_observers=(recorder,) if recorder is not None else (),
    )
    if hasattr(signal, "SIGXFSZ"):
        # past a file-size limit, fail the write (EFBIG) instead of being killed by SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        result = run_bulk(entries, config, input_stats=stats)
    except ResumeMismatch as exc:
        _fail(str(exc))
    except OutputRefused as exc:
        _fail(f"{exc.strerror}")
    except ResultsWriteError as exc:
        _fail(f"{exc.strerror}", EXIT_OUTPUT)
    except OSError as exc:
        _fail(f"cannot write the report in {out}: {exc.strerror or exc}", EXIT_OUTPUT)
    s = result.summary
    if not quiet:
        click.echo(
            f"{s.domains} of {result.total} domains reported in "
            f"{compressed_results(out) or out / RESULTS_NAME} "
            f"({result.reported_now} this run, {result.elapsed:.1f} s); "
            f"summary: {out / 'index.html'}",
            err=True,
        )
    if result.foreign:
        click.echo(
            f"note: {result.foreign} lines in {out / RESULTS_NAME} are for domains not in "
            "this list; they are kept but not counted",
            err=True,
        )
    if recorder is not None:
        recorder.store.close()
        _store_message(recorder, out, quiet)
    if result.interrupted:
        hint = config.resume_hint
        if domain_list == "-":
            hint += "   (feed it the same list on stdin)"
        click.echo(f"interrupted. To continue where this run stopped:\n  {hint}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if recorder is not None and recorder.error is not None:
        sys.exit(EXIT_NOT_RECORDED)
    sys.exit(bulk_exit_code(s, fail_on))


def _store_message(recorder: StoreRecorder, out: Path, quiet: bool) -> None:
    if recorder.error is None:
        if not quiet:
            click.echo(
                f"recorded {recorder.recorded} audits in the store "
                f"({recorder.events} drift events)",
                err=True,
            )
        return
    results = compressed_results(out) or out / RESULTS_NAME
    click.echo(
        f"mailauth-audit: error: {recorder.not_recorded} audits were not recorded in the store "
        f"({recorder.recorded} were): {recorder.error}\n"
        f"  {results} is complete; once the store is back:\n"
        f"  mailauth-audit history import {shlex.quote(str(results))} --store ...",
        err=True,
    )


def bulk_exit_code(summary: BulkSummary, fail_on: str | None) -> int:
    """The exit code of a finished (not interrupted) run, by the precedence of `check`."""
    if fail_on is not None and summary.findings_at_or_above(fail_on):
        return EXIT_FINDINGS
    return EXIT_INCOMPLETE if summary.domains_with_errors else EXIT_OK
