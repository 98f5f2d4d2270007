"""A DNS server on loopback that claims to validate (AD on every answer) and serves hostile
TLSA RRsets: garbage rdata, wrong-length data, thousands of records. UDP and TCP, one
thread, stopped by the test that started it."""

from __future__ import annotations

import select
import socket
import struct
import threading

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
from dnsservers import bind_udp_tcp_pair

ZONE = "hostile.test"
MX = f"mx.{ZONE}"
TLSA_NAME = f"_25._tcp.{MX}"


def _rr(owner: str, rdtype: int, rdata: bytes, ttl: int = 300) -> bytes:
    return (
        dns.name.from_text(owner).to_wire()
        + struct.pack("!HHIH", rdtype, 1, ttl, len(rdata))
        + rdata
    )  # type: ignore[operator]


class HostileTlsaServer:
    """`tlsa_rdatas`: the raw RDATA of each TLSA record served at _25._tcp.mx.hostile.test."""

    def __init__(self, tlsa_rdatas: list[bytes]) -> None:
        self.tlsa = tlsa_rdatas
        self.udp, self.tcp = bind_udp_tcp_pair("127.0.0.1")
        self.port = self.udp.getsockname()[1]
        self.queries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> HostileTlsaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.udp.close()
        self.tcp.close()

    def _answer(self, data: bytes, tcp: bool) -> bytes:
        query = dns.message.from_wire(data)
        self.queries += 1
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AD | dns.flags.RA
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        extra: list[bytes] = []
        if q.rdtype == dns.rdatatype.MX and name == ZONE:
            reply.answer.append(dns.rrset.from_text(ZONE + ".", 300, "IN", "MX", f"10 {MX}."))
        elif q.rdtype == dns.rdatatype.A and name == MX:
            reply.answer.append(dns.rrset.from_text(MX + ".", 300, "IN", "A", "192.0.2.25"))
        elif q.rdtype == dns.rdatatype.TLSA and name == TLSA_NAME:
            extra = [_rr(TLSA_NAME + ".", 52, r) for r in self.tlsa]
        wire = bytearray(reply.to_wire())
        if extra:
            body = b"".join(extra)
            if not tcp and len(wire) + len(body) > 1232:
                wire[2] |= 0x02  # TC: ask again over TCP
                return bytes(wire)
            # the OPT record (if any) stays last: insert the answers before it
            struct.pack_into("!H", wire, 6, len(extra))
            head = _question_end(bytes(wire))
            wire = wire[:head] + body + wire[head:]
        return bytes(wire)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.05)
            for sock in ready:
                if sock is self.udp:
                    data, peer = self.udp.recvfrom(65535)
                    self.udp.sendto(self._answer(data, tcp=False), peer)
                else:
                    conn, _ = self.tcp.accept()
                    with conn:
                        conn.settimeout(2)
                        try:
                            length = struct.unpack("!H", conn.recv(2))[0]
                            data = b""
                            while len(data) < length:
                                chunk = conn.recv(length - len(data))
                                if not chunk:
                                    break
                                data += chunk
                            out = self._answer(data, tcp=True)
                            conn.sendall(struct.pack("!H", len(out)) + out)
                        except (OSError, struct.error):
                            continue


def _question_end(wire: bytes) -> int:
    """Offset just past the question section of a reply with one question."""
    at = 12
    while wire[at]:
        at += wire[at] + 1
    return at + 1 + 4


__all__ = ["MX", "TLSA_NAME", "ZONE", "HostileTlsaServer", "socket"]
