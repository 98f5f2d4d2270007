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
import ssl
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


# --- A whole chain of trust: root -> test. -> child zones, for the DNSSEC and DANE checks ---
#
# nsd serves every zone; unbound has a stub zone per zone (all at nsd's port, since
# referrals would name port 53) and trusts the root key only, so each verdict comes from a
# real chain: DS in the parent, DNSKEY in the child.

CHAIN_MX_NAMES = (
    "mx.secure.test",
    "mx-bad.secure.test",
    "mx-pkix.secure.test",
    "mx-bt.secure.test",
    "mx.insecure.test",
    "mx.expired.test",
    "mx.badds.test",
)


@dataclass(frozen=True)
class ChainLab:
    validator: tuple[str, int]  # unbound, trusting the lab's root key
    authoritative: tuple[str, int]  # nsd with every zone: answers, never validates
    leaf_tlsa: str  # "3 1 1 <hex>" of the certificate the SMTP server presents
    smtp_port: int  # aiosmtpd with STARTTLS on 127.0.0.1, certificate for CHAIN_MX_NAMES
    ca_file: str
    # the SMTP server's TLS context (the leaf whose TLSA the lab publishes), for tests that
    # start a server of their own (e.g. one counting connections) with the same certificate
    server_tls: ssl.SSLContext | None = None


def _keygen(origin: str, workdir: Path) -> tuple[str, str]:
    """(key file base name, DNSKEY record text) of a new KSK for `origin`."""
    assert LDNS_KEYGEN is not None
    base = subprocess.run(
        [LDNS_KEYGEN, "-a", "ECDSAP256SHA256", "-k", origin],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    return base, (workdir / f"{base}.key").read_text().strip()


def _ds(origin: str, key_record: str) -> str:
    """The SHA-256 DS record text for a DNSKEY record (dnspython, as the parent would)."""
    import dns.dnssec
    import dns.rdata

    rdata = dns.rdata.from_text("IN", "DNSKEY", key_record.split("DNSKEY", 1)[1])
    return f"{origin}. 300 IN DS " + dns.dnssec.make_ds(origin + ".", rdata, "SHA256").to_text()


def _sign(text: str, origin: str, base: str, workdir: Path, *validity: str) -> str:
    assert LDNS_SIGNZONE is not None
    name = origin.strip(".") or "root"
    zone = workdir / f"{name}.zone"
    zone.write_text(text)
    subprocess.run(
        [
            LDNS_SIGNZONE,
            *validity,
            "-o",
            origin,
            "-f",
            str(workdir / f"{name}.signed"),
            str(zone),
            base,
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return (workdir / f"{name}.signed").read_text()


def _soa(origin: str) -> str:
    return (
        f"$ORIGIN {origin}\n$TTL 300\n"
        f"@ IN SOA ns1.test. hostmaster.test. 1 3600 900 604800 120\n@ IN NS ns1.test.\n"
    )


def chain_zones(leaf_tlsa: str, workdir: Path) -> tuple[dict[str, str], str]:
    """({origin: zone text as served}, the root DNSKEY to trust)."""
    workdir.mkdir(parents=True, exist_ok=True)
    zones: dict[str, str] = {}
    keys = {
        o: _keygen(o, workdir)
        for o in (".", "test.", "secure.test.", "expired.test.", "badds.test.")
    }
    _, stray = _keygen("badds.test.", workdir)  # a key the zone does not use: the DS is for it
    no_match = "3 1 1 " + "00" * 32
    secure = (
        _soa("secure.test.")
        + f"""\
@ IN MX 10 mx
@ IN TXT "v=spf1 -all"
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA {leaf_tlsa}
nomatch IN MX 10 mx-bad
mx-bad IN A 127.0.0.1
_25._tcp.mx-bad IN TLSA {no_match}
pkix IN MX 10 mx-pkix
mx-pkix IN A 127.0.0.1
_25._tcp.mx-pkix IN TLSA 1 1 1 {"11" * 32}
_25._tcp.mx-pkix IN TLSA {leaf_tlsa}
bogustlsa IN MX 10 mx-bt
mx-bt IN A 127.0.0.1
_25._tcp.mx-bt IN TLSA {leaf_tlsa}
mixed IN MX 10 mx
mixed IN MX 20 mx.expired.test.
mixed IN MX 30 mx.insecure.test.
full IN MX 10 mx
full IN TXT "v=spf1 -all"
_dmarc.full IN TXT "v=DMARC1; p=reject"
_mta-sts.full IN TXT "v=STSv1; id=20261130"
mta-sts.full IN A 127.0.0.1
plain IN A 127.0.0.1
nullmx IN MX 0 .
nullmx IN A 127.0.0.1
_25._tcp.nullmx IN TLSA {leaf_tlsa}
"""
    )
    signed = _sign(secure, "secure.test.", keys["secure.test."][0], workdir)
    # the TLSA of mx-bt changed after signing: its RRSIG no longer verifies
    zones["secure.test."] = _tamper_tlsa(signed, "mx-bt")
    zones["insecure.test."] = (
        _soa("insecure.test.")
        + f"""\
@ IN MX 10 mx
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA {leaf_tlsa}
"""
    )
    expired = _soa("expired.test.") + "@ IN MX 10 mx\nmx IN A 127.0.0.1\n"
    zones["expired.test."] = _sign(
        expired,
        "expired.test.",
        keys["expired.test."][0],
        workdir,
        "-i",
        "20200101000000",
        "-e",
        "20200201000000",
    )
    badds = _soa("badds.test.") + "@ IN MX 10 mx\nmx IN A 127.0.0.1\n"
    zones["badds.test."] = _sign(badds, "badds.test.", keys["badds.test."][0], workdir)
    test = _soa("test.") + "ns1 IN A 127.0.0.1\n"
    for child in ("secure", "insecure", "expired", "badds"):
        test += f"{child} IN NS ns1.test.\n"
    test += _ds("secure.test", keys["secure.test."][1]) + "\n"
    test += _ds("expired.test", keys["expired.test."][1]) + "\n"
    test += _ds("badds.test", stray) + "\n"
    zones["test."] = _sign(test, "test.", keys["test."][0], workdir)
    root = (
        "$ORIGIN .\n$TTL 300\n. IN SOA ns1.test. hostmaster.test. 1 3600 900 604800 120\n"
        ". IN NS ns1.test.\ntest. IN NS ns1.test.\nns1.test. IN A 127.0.0.1\n"
        + _ds("test", keys["test."][1])
        + "\n"
    )
    zones["."] = _sign(root, ".", keys["."][0], workdir)
    return zones, keys["."][1]


def _tamper_tlsa(signed: str, host: str) -> str:
    """The signed zone with the TLSA data of `_25._tcp.<host>` changed (its RRSIG kept)."""
    out = []
    for line in signed.splitlines():
        fields = line.split()
        if fields and fields[0].startswith(f"_25._tcp.{host}.") and "TLSA" in fields[3:4]:
            fields[-1] = "AB" * 32
            line = "\t".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"


class ChainUnbound(UnboundServer):
    """unbound trusting the lab root, with a stub zone per lab zone."""

    def __init__(self, workdir: Path, anchor: str, zones: list[str], nsd: tuple[str, int]):
        super().__init__(workdir, anchor, ("secure.test", *nsd))
        self.zones = zones

    def _config(self) -> str:
        text = super()._config()
        head, _, _ = text.partition("stub-zone:")
        host, port = self.stub[1], self.stub[2]
        stubs = "".join(
            f'stub-zone:\n    name: "{z}"\n    stub-addr: {host}@{port}\n' for z in self.zones
        )
        return head + stubs + "remote-control:\n    control-enable: no\n"


def _leaf_tlsa(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from mailauth_audit.records.tlsa import association_data

    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(Encoding.DER)
    data = association_data(der, 1, 1)
    assert data is not None
    return "3 1 1 " + data.hex().upper()


@pytest.fixture(scope="session")
def chain_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainLab]:
    """Signed root, test. and child zones in nsd, a validating unbound trusting the root, and
    an aiosmtpd with STARTTLS whose certificate names every lab MX host."""
    require_tools()
    import trustme
    from aiosmtpd.controller import Controller

    base = tmp_path_factory.mktemp("chain")
    ca = trustme.CA()
    ca_file = base / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf = ca.issue_cert(*CHAIN_MX_NAMES)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(tls)
    leaf_tlsa = _leaf_tlsa(leaf.cert_chain_pems[0].bytes())
    zones, anchor = chain_zones(leaf_tlsa, base / "keys")
    ordered = {
        z: zones[z]
        for z in ("secure.test.", "insecure.test.", "expired.test.", "badds.test.", "test.", ".")
    }
    nsd = NsdServer(ordered, base / "nsd")
    unbound: UnboundServer | None = None
    smtp: Controller | None = None
    try:
        nsd_address = nsd.start()
        unbound = ChainUnbound(base / "unbound", anchor, list(ordered), nsd_address)
        validator = unbound.start()
        port = free_port()
        smtp = Controller(
            _Sink(), hostname="127.0.0.1", port=port, tls_context=tls, ident="dane lab"
        )
        smtp.start()
        yield ChainLab(validator, nsd_address, leaf_tlsa, port, str(ca_file), tls)
    finally:
        if smtp is not None:
            smtp.stop()
        if unbound is not None:
            unbound.stop()
        nsd.stop()


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"
