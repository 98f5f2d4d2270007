"""A DNSSEC lab on loopback: a zone signed with ldns-signzone, served by nsd, behind a
validating unbound that trusts the zone's own key.

    def test_x(dnssec_lab):
        unbound = dnssec_lab.validator   # (host, port): answers with AD for secure data
        nsd = dnssec_lab.authoritative   # (host, port): the signed zone, never sets AD

unbound runs in the foreground (-d) as root without dropping privileges (`username: ""`,
`chroot: ""`), with its own config, pid file and log in a temporary folder, and only queries
loopback (`do-not-query-localhost: no`, a stub zone to nsd's port). It is stopped by the pid
of the process the fixture started. Without unbound or ldnsutils these tests skip, except
under CI=true where that is a failure (.ci/run installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest
from dnsservers import NSD, NsdServer, free_port, stop_process, wait_until_answering

UNBOUND = shutil.which("unbound") or (
    "/usr/sbin/unbound" if os.path.exists("/usr/sbin/unbound") else None
)
LDNS_KEYGEN = shutil.which("ldns-keygen")
LDNS_SIGNZONE = shutil.which("ldns-signzone")

ORIGIN = "example.test"
TLSA_DATA = "3 1 1 " + "0f" * 32

# secure data, a TLSA for DANE, and "bogus": a TXT whose text is changed after signing, so its
# RRSIG no longer matches and a validator must refuse it
ZONE = f"""\
$ORIGIN {ORIGIN}.
$TTL 300
@        IN SOA ns1.{ORIGIN}. hostmaster.{ORIGIN}. 1 3600 900 604800 120
@        IN NS  ns1
ns1      IN A   127.0.0.1
@        IN MX  10 mx1
mx1      IN A   192.0.2.1
_25._tcp.mx1 IN TLSA {TLSA_DATA}
@        IN TXT "v=spf1 -all"
bogus    IN TXT "original"
"""


@dataclass(frozen=True)
class DnssecLab:
    validator: tuple[str, int]  # unbound
    authoritative: tuple[str, int]  # nsd with the signed zone
    signed_zone: str  # the text nsd serves (the tampered record included)
    trust_anchor: str  # the DNSKEY record unbound trusts


def require_tools() -> None:
    missing = [
        name
        for name, path in (
            ("nsd", NSD),
            ("unbound", UNBOUND),
            ("ldns-keygen", LDNS_KEYGEN),
            ("ldns-signzone", LDNS_SIGNZONE),
        )
        if path is None
    ]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} not installed (CI must install them: .ci/run)")
        pytest.skip(f"{', '.join(missing)} not installed")


def sign_zone(text: str, origin: str, workdir: Path) -> tuple[str, str]:
    """(signed zone text, the DNSKEY record to trust): one ECDSA P-256 key (flags 257) signs
    everything, with ldns-signzone's default validity of four weeks from now."""
    assert LDNS_KEYGEN is not None and LDNS_SIGNZONE is not None
    workdir.mkdir(parents=True, exist_ok=True)
    zone = workdir / f"{origin}.zone"
    zone.write_text(text)
    base = subprocess.run(
        [LDNS_KEYGEN, "-a", "ECDSAP256SHA256", "-k", origin],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    subprocess.run(
        [LDNS_SIGNZONE, "-f", str(workdir / f"{origin}.signed"), str(zone), base],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=30,
    )
    signed = (workdir / f"{origin}.signed").read_text()
    return signed, (workdir / f"{base}.key").read_text().strip()


class UnboundServer:
    """A validating unbound for one stub zone; stop() ends the pid it started."""

    def __init__(self, workdir: Path, anchor: str, stub: tuple[str, str, int]) -> None:
        if UNBOUND is None:
            raise FileNotFoundError("unbound is not installed")
        self.workdir = workdir
        self.anchor = anchor
        self.stub = stub  # (zone, host, port)
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        d = self.workdir
        zone, host, port = self.stub
        return "\n".join(
            [
                "server:",
                f"    interface: {self.host}",
                f"    port: {self.port}",
                "    do-ip6: no",
                "    num-threads: 1",
                "    so-reuseport: no",
                '    username: ""',
                '    chroot: ""',
                f'    directory: "{d}"',
                f'    pidfile: "{d}/unbound.pid"',
                f'    logfile: "{d}/unbound.log"',
                "    use-syslog: no",
                "    verbosity: 1",
                "    val-log-level: 2",
                "    access-control: 127.0.0.0/8 allow",
                "    do-not-query-localhost: no",
                '    module-config: "validator iterator"',
                f'    trust-anchor-file: "{d}/anchor.key"',
                "    ede: yes",
                "    qname-minimisation: no",
                # .test is one of unbound's default local zones (RFC 6761): let it through
                f'    local-zone: "{zone.split(".")[-1]}." nodefault',
                "stub-zone:",
                f'    name: "{zone}"',
                f"    stub-addr: {host}@{port}",
                "remote-control:",
                "    control-enable: no",
                "",
            ]
        )

    def start(self, timeout: float = 15.0) -> tuple[str, int]:
        assert UNBOUND is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "anchor.key").write_text(self.anchor + "\n")
        log = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port(self.host)
            conf = self.workdir / "unbound.conf"
            conf.write_text(self._config())
            self.proc = subprocess.Popen(
                [UNBOUND, "-d", "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready(timeout):
                return self.host, self.port
            log = self._log()
            self.stop()
        raise RuntimeError(f"unbound did not start:\n{log}")

    def _log(self) -> str:
        err = b""
        if self.proc is not None and self.proc.poll() is not None and self.proc.stderr:
            err = self.proc.stderr.read() or b""
        path = self.workdir / "unbound.log"
        return err.decode(errors="replace") + (path.read_text() if path.exists() else "")

    def _wait_ready(self, timeout: float) -> bool:
        query = dns.message.make_query(self.stub[0] + ".", "SOA", want_dnssec=True)
        return wait_until_answering(self.proc, self.host, self.port, query, timeout, pause=0.1)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc, grace=10)


@pytest.fixture(scope="session")
def dnssec_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnssecLab]:
    require_tools()
    base = tmp_path_factory.mktemp("dnssec")
    signed, anchor = sign_zone(ZONE, ORIGIN, base / "keys")
    tampered = signed.replace('"original"', '"tampered"')
    assert tampered != signed
    nsd = NsdServer({ORIGIN: tampered}, base / "nsd")
    unbound: UnboundServer | None = None
    try:
        nsd_address = nsd.start()
        unbound = UnboundServer(base / "unbound", anchor, (ORIGIN, *nsd_address))
        yield DnssecLab(unbound.start(), nsd_address, tampered, anchor)
    finally:
        if unbound is not None:
            unbound.stop()
        nsd.stop()
