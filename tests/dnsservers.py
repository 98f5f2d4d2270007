"""Real DNS servers on loopback for tests: nsd for zones, tiny Python servers for faults.

nsd answers like the Internet's authoritative servers do (truncation past the EDNS size,
NXDOMAIN vs NODATA, CNAME chains). What nsd cannot be made to do (never answer, SERVFAIL,
REFUSED, send garbage, answer with the wrong id) the `FaultServer` threads below do. Every
server listens on 127.0.0.1 or ::1 only and is stopped by its own handle at teardown.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

NSD = shutil.which("nsd") or ("/usr/sbin/nsd" if os.path.exists("/usr/sbin/nsd") else None)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP right now (a server may still lose a race for it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on loopback")


class NsdServer:
    """nsd in the foreground (-d) with a private config in `workdir`; stop() ends its pid."""

    def __init__(self, zones: Mapping[str, str], workdir: Path, host: str = "127.0.0.1"):
        if NSD is None:
            raise FileNotFoundError("nsd is not installed")
        self.zones = dict(zones)
        self.workdir = workdir
        self.host = host
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        d = self.workdir
        lines = [
            "server:",
            f"    ip-address: {self.host}",
            f"    port: {self.port}",
            f"    do-ip6: {'yes' if ':' in self.host else 'no'}",
            f"    do-ip4: {'no' if ':' in self.host else 'yes'}",
            "    server-count: 1",
            '    username: ""',
            '    chroot: ""',
            f'    zonesdir: "{d}"',
            '    database: ""',
            f'    pidfile: "{d}/nsd.pid"',
            f'    xfrdfile: "{d}/xfrd.state"',
            f'    zonelistfile: "{d}/zone.list"',
            f'    xfrdir: "{d}"',
            f'    logfile: "{d}/nsd.log"',
            "    verbosity: 1",
            "    rrl-ratelimit: 0",
            "    rrl-whitelist-ratelimit: 0",
            "    zonefiles-write: 0",
            "    tcp-count: 64",
            "remote-control:",
            "    control-enable: no",
        ]
        for i, origin in enumerate(self.zones):
            name = origin.rstrip(".") or "."  # the root zone keeps its dot
            lines += ["zone:", f"    name: {name}", f'    zonefile: "{d}/z{i}.zone"']
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> tuple[str, int]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(self.zones.values()):
            (self.workdir / f"z{i}.zone").write_text(text)
        last_log = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port(self.host)
            conf = self.workdir / "nsd.conf"
            conf.write_text(self._config())
            self.proc = subprocess.Popen(
                [NSD, "-d", "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready(timeout):
                return self.host, self.port
            last_log = self._log()
            self.stop()
        raise RuntimeError(f"nsd did not start:\n{last_log}")

    def _log(self) -> str:
        err = b""
        if self.proc is not None and self.proc.poll() is not None and self.proc.stderr:
            err = self.proc.stderr.read() or b""
        log = self.workdir / "nsd.log"
        return err.decode(errors="replace") + (log.read_text() if log.exists() else "")

    def _wait_ready(self, timeout: float) -> bool:
        origin = next(iter(self.zones), ".")
        query = dns.message.make_query(origin, "SOA")
        return wait_until_answering(self.proc, self.host, self.port, query, timeout, pause=0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc, grace=5)


def wait_until_answering(
    proc: subprocess.Popen[bytes] | None,
    host: str,
    port: int,
    query: dns.message.Message,
    timeout: float,
    pause: float,
) -> bool:
    """True once the server started as `proc` answers `query` with records; False if the
    process ends or `timeout` passes first (the caller then shows the server's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is None or proc.poll() is not None:
            return False
        try:
            reply = dns.query.udp(query, host, port=port, timeout=max(pause * 4, 0.2))
        except (OSError, dns.exception.Timeout):
            time.sleep(pause)
            continue
        if reply.rcode() == dns.rcode.NOERROR and reply.answer:
            return True
        time.sleep(pause)
    return False


def stop_process(proc: subprocess.Popen[bytes] | None, grace: float) -> None:
    """End a server started by a fixture: SIGTERM, SIGKILL after `grace` seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stderr:
        proc.stderr.close()


# --- fault servers --------------------------------------------------------------------------

BEHAVIOURS = (
    "silent",  # reads queries, never answers
    "servfail",
    "refused",
    "formerr",  # rcode 1: an rcode the resolver cannot interpret
    "truncate",  # TC on UDP with no answer; the full TXT answer over TCP
    "one-hop",  # follows no CNAME: hopN.* -> CNAME hop(N-1).*, hop0.* -> A; ping.* <-> pong.*
    "mismatch",  # first a reply with a wrong id, then one with a wrong question, then the answer
    "malformed-truncated",  # ANCOUNT=1 but the record is cut short
    "malformed-pointer-loop",  # the answer's owner name is a pointer to itself
    "malformed-rdlength",  # an A record with 3 octets of RDATA
    "malformed-rdata-overrun",  # RDLENGTH points past the end of the message
    "badvers",  # NOERROR in the header, extended rcode BADVERS in the OPT record, no records
    "tcp-truncated",  # TC on UDP; over TCP an empty answer that is itself marked TC
    "refused-no-question",  # REFUSED with QDCOUNT=0 (no question section to match)
    "formerr-no-question",  # FORMERR with QDCOUNT=0
    "truncated-partial",  # TC on UDP with the answer cut inside a record; the full one on TCP
    "formerr-to-edns",  # FORMERR when the query has an OPT record, the answer without one
    "tcp-silent",  # TC on UDP; TCP accepts and reads the query but never answers
)

TCP_BEHAVIOURS = ("truncate", "tcp-truncated", "truncated-partial", "tcp-silent")

TCP_ONLY_TEXT = b"v=spf1 -all tcp-only"
ANSWER_ADDRESS = "192.0.2.7"


def _reply(query: dns.message.Message, rcode: int = 0) -> dns.message.Message:
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    reply.flags |= dns.flags.AA
    return reply


def _answer(query: dns.message.Message) -> dns.message.Message:
    """A for any name: ANSWER_ADDRESS; TXT: TCP_ONLY_TEXT; other types: NODATA."""
    reply = _reply(query)
    q = query.question[0]
    if q.rdtype == dns.rdatatype.A:
        reply.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", ANSWER_ADDRESS))
    elif q.rdtype == dns.rdatatype.TXT:
        text = '"' + TCP_ONLY_TEXT.decode() + '"'
        reply.answer.append(dns.rrset.from_text(q.name, 60, "IN", "TXT", text))
    return reply


def _one_hop(query: dns.message.Message) -> dns.message.Message:
    """Like an authoritative server whose CNAME targets are all in other zones: one hop only."""
    name = query.question[0].name
    first, rest = name.labels[0].decode(), dns.name.Name(name.labels[1:])
    target = None
    if first.startswith("hop") and first[3:].isdigit() and int(first[3:]) > 0:
        target = dns.name.Name([f"hop{int(first[3:]) - 1}".encode()]).concatenate(rest)
    elif first in ("ping", "pong"):
        target = dns.name.Name([b"pong" if first == "ping" else b"ping"]).concatenate(rest)
    if target is None:
        return _answer(query)
    reply = _reply(query)
    reply.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", target.to_text()))
    return reply


def _malformed(query_wire: bytes, kind: str) -> bytes:
    """Header and question intact (so the reply is matched to its query), then garbage."""
    qid = query_wire[:2]
    end = 12
    while query_wire[end] != 0:
        end += 1 + query_wire[end]
    question = query_wire[12 : end + 5]
    header = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    if kind == "malformed-truncated":
        return header + question + b"\xc0\x0c\x00\x01"
    if kind == "malformed-pointer-loop":
        here = 12 + len(question)
        owner = struct.pack("!H", 0xC000 | here)
        return header + question + owner + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"
    if kind == "malformed-rdlength":
        return header + question + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 3) + b"\x01\x02\x03"
    if kind == "malformed-rdata-overrun":
        return header + question + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, 200) + b"\x03abc"
    raise ValueError(kind)


def _no_question(query_wire: bytes, rcode: int) -> bytes:
    """An error reply with the query's id and no question section, as some servers send."""
    return query_wire[:2] + struct.pack("!HHHHH", 0x8100 | rcode, 0, 0, 0, 0)


def _truncated_partial(query: dns.message.Message) -> bytes:
    """TC set, ANCOUNT=3, but the message stops in the middle of the second record."""
    reply = _reply(query)
    reply.flags |= dns.flags.TC
    q = query.question[0]
    texts = " ".join(f'"part{i} {"x" * 200}"' for i in range(3))
    reply.answer.append(dns.rrset.from_text(q.name, 60, "IN", "TXT", texts))
    reply.answer.append(dns.rrset.from_text(q.name, 60, "IN", "TXT", '"second"', '"third"'))
    wire = reply.to_wire()
    header = wire[:6] + struct.pack("!HHH", 3, 0, 0)
    return (header + wire[12:])[: len(wire) - 40]


class FaultServer:
    """A one-thread DNS server on loopback (UDP, plus TCP for TCP_BEHAVIOURS) that misbehaves."""

    def __init__(self, behaviour: str, host: str = "127.0.0.1") -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviour = behaviour
        self.host = host
        self.tcp: socket.socket | None = None
        if behaviour in TCP_BEHAVIOURS:
            self.udp, self.tcp = bind_udp_tcp_pair(host)
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.udp.bind((host, 0))
        self.port = self.udp.getsockname()[1]
        self.udp_queries = 0
        self.tcp_queries = 0
        self.edns_queries = 0  # queries that carried an OPT record
        self._held: list[socket.socket] = []  # TCP connections "tcp-silent" never answers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.udp.close()
        if self.tcp is not None:
            self.tcp.close()
        for conn in self._held:
            conn.close()

    def _serve(self) -> None:
        import select

        socks = [self.udp] + ([self.tcp] if self.tcp is not None else [])
        while not self._stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.05)
            for sock in ready:
                if sock is self.udp:
                    data, peer = self.udp.recvfrom(65535)
                    self.udp_queries += 1
                    for reply in self._udp_replies(data):
                        self.udp.sendto(reply, peer)
                else:
                    self._serve_tcp()

    def _udp_replies(self, data: bytes) -> list[bytes]:
        b = self.behaviour
        if b == "silent":
            return []
        if b.startswith("malformed"):
            return [_malformed(data, b)]
        if b in ("refused-no-question", "formerr-no-question"):
            return [_no_question(data, 5 if b == "refused-no-question" else 1)]
        query = dns.message.from_wire(data)
        if query.edns >= 0:
            self.edns_queries += 1
        if b == "badvers":
            reply = _reply(query)
            reply.use_edns(0)
            reply.set_rcode(dns.rcode.BADVERS)
            return [reply.to_wire()]
        if b in ("tcp-truncated", "tcp-silent"):
            reply = _reply(query)
            reply.flags |= dns.flags.TC
            return [reply.to_wire()]
        if b == "truncated-partial":
            return [_truncated_partial(query)]
        if b == "formerr-to-edns":
            if query.edns >= 0:
                return [_reply(query, dns.rcode.FORMERR).to_wire()]
            return [_answer(query).to_wire()]
        if b == "servfail":
            return [_reply(query, dns.rcode.SERVFAIL).to_wire()]
        if b == "refused":
            return [_reply(query, dns.rcode.REFUSED).to_wire()]
        if b == "formerr":
            return [_reply(query, dns.rcode.FORMERR).to_wire()]
        if b == "truncate":
            reply = _reply(query)
            reply.flags |= dns.flags.TC
            return [reply.to_wire()]
        if b == "one-hop":
            return [_one_hop(query).to_wire()]
        # mismatch
        wrong_id = _answer(query)
        wrong_id.id = (query.id + 1) & 0xFFFF
        other = dns.message.make_query("other." + str(query.question[0].name), "A")
        other.id = query.id
        wrong_question = _reply(other)
        wrong_question.answer.append(
            dns.rrset.from_text(other.question[0].name, 60, "IN", "A", "198.51.100.66")
        )
        return [wrong_id.to_wire(), wrong_question.to_wire(), _answer(query).to_wire()]

    def _serve_tcp(self) -> None:
        assert self.tcp is not None
        conn, _ = self.tcp.accept()
        with conn:
            conn.settimeout(2)
            try:
                length = struct.unpack("!H", _recv_exactly(conn, 2))[0]
                query = dns.message.from_wire(_recv_exactly(conn, length))
            except (OSError, EOFError):
                return
            self.tcp_queries += 1
            if self.behaviour == "tcp-silent":
                self._held.append(conn.dup())  # open, read, never answered
                return
            if self.behaviour == "tcp-truncated":
                reply = _reply(query)
                reply.flags |= dns.flags.TC
                wire = reply.to_wire()
            else:
                wire = _answer(query).to_wire()
            conn.sendall(struct.pack("!H", len(wire)) + wire)


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def bind_udp_tcp_pair(host: str, backlog: int = 16) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same free port: the UDP port the kernel picks may be
    taken for TCP (another test's connection), so pick again until both bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(backlog)
        return udp, tcp
    raise OSError(f"no port on {host} free for both UDP and TCP")
