"""Coverage-guided fuzz targets for the parsers that read what strangers write.

`python -m tests.fuzz TARGET --seconds N [--corpus DIR]` runs one target: `wire` (the DNS
reply parser and what the resolver does with a reply before trusting it), `spf`, `dmarc`,
`dkim` (the pure record parsers) and `message` (the header path of message verification,
with DNS answered from memory). The property is the same everywhere: any input gives a
typed result or the module's documented error; any other exception, or one call taking
over a second, is a finding, saved with the input that caused it.

Engines: atheris (libFuzzer, bytecode coverage) when installed, which is what the long runs
use; otherwise a small coverage-guided loop (line coverage through `sys.settrace`) that feeds
buffers to Hypothesis's `fuzz_one_input`, so the harness runs with the test extra alone.

The modules in this package import each other relatively: pytest imports them as `fuzz.*`,
`python -m` as `tests.fuzz.*`.
"""
