"""Seed corpora: real inputs for the fuzzers to start from (well-formed records, replies
built by dnspython, a message signed by dkimpy), so mutations begin deep in each grammar.

No `mailauth_audit` imports here: the atheris engine must see the package imported first
inside its instrumentation.
"""

from __future__ import annotations

import base64
import functools

DKIM_DOMAIN = "example.test"
DKIM_SELECTOR = "fuzz"
ARC_SELECTOR = "arc"
RSA_1024 = (  # a real 1024-bit public key (SPKI, base64)
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC/0CgoMWUO6zWjuj/yJjNW8oq6WHmrOFM8wOdSGGgT"
    "5TkC9BudIpXe7YS34WMnSiNpfxnea9fULG40ULaAc6oQvxfhrNPskqJVzx5jIEnyoYseO9Sn2fML/72R"
    "ADY11fpmhkgCPBaqe7tr9cfxsGZ37njGXz1Lk9d+AX3pUpOPZQIDAQAB"
)
_ED25519_SEED = bytes(range(32))  # fixed, so corpora saved by one run still verify in the next


def _ed25519() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(_ED25519_SEED)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(_ED25519_SEED), base64.b64encode(public)


def dkim_key_record() -> str:
    return f"v=DKIM1; k=ed25519; p={_ed25519()[1].decode()}"


def arc_key_record() -> str:
    return f"v=DKIM1; k=rsa; p={RSA_1024}"


def spf_seeds() -> list[bytes]:
    return [
        b"v=spf1 -all",
        b"v=spf1 include:_spf.google.com ~all",
        b"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 ptr -all",
        b"v=spf1 a:mail.%{d} mx:%{d2r}.example.com//64 exists:%{i}.%{l1r-}.bl.example ?all",
        b"v=spf1 redirect=_spf.example.com",
        b"v=spf1 +a/24//64 -mx:example.org/16 exp=explain.%{d} unknown=x%%y%_z%- ~all",
        b"v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/33 include: all",
        b"v=spf1 include:a.example include:b.example include:c.example -all",
        b"v=spf1  a  mx   -all ",
        b"v=spf1 ip6:::ffff:192.0.2.1/128 ip4:256.1.1.1 ~all",
    ]


def dmarc_seeds() -> list[bytes]:
    return [
        b"v=DMARC1; p=none",
        b"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; pct=50; fo=1:d:s",
        b"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com,mailto:x@example.org!10m; "
        b"ruf=mailto:f@example.com; rf=afrf; ri=86400",
        b"v=DMARC1; p=none; rua=https://report.example.com/dmarc; psd=y; t=y",
        b"v=DMARC1;p=reject;rua=mailto:a%40b@example.com!5k",
        b"v=dmarc1 p=reject",
        b"v=DMARC1; p=rejec; sp=; pct=101; ri=x; unknown=1;;",
        b"v=DMARC1; p=none; rua=mailto:dmarc@[192.0.2.1], mailto:@example.com",
    ]


def dkim_seeds() -> list[bytes]:
    rsa_1024 = RSA_1024
    return [
        dkim_key_record().encode(),
        f"v=DKIM1; k=rsa; p={rsa_1024}".encode(),
        f"v=DKIM1; h=sha256:sha1; k=rsa; s=email:*; t=y:s; n=note; p={rsa_1024}".encode(),
        f"k=rsa; p={rsa_1024[:60]}\r\n\t{rsa_1024[60:]}".encode(),
        b"v=DKIM1; p=",
        b"v=DKIM1; k=ed25519; p=AAAA",
        b"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ==",
        b"v=DKIM2; p=abc; foo",
    ]


def _plain_message() -> bytes:
    return (
        b"Received: from mx.example.test (mx.example.test [192.0.2.25])\r\n"
        b"\tby inbound.example.net with ESMTPS; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        b"Return-Path: <bounce@example.test>\r\n"
        b"From: Alice <alice@example.test>\r\n"
        b"To: bob@example.net\r\n"
        b"Subject: hello\r\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        b"Message-ID: <1@example.test>\r\n"
        b"List-Unsubscribe: <https://example.test/u>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b1"\r\n'
        b"\r\n"
        b"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n"
    )


def message_seeds() -> list[bytes]:
    import dkim

    plain = _plain_message()
    private, _public = _ed25519()
    signature = dkim.sign(
        plain,
        DKIM_SELECTOR.encode(),
        DKIM_DOMAIN.encode(),
        private,
        signature_algorithm=b"ed25519-sha256",
        include_headers=[b"from", b"to", b"subject", b"list-unsubscribe", b"list-unsubscribe-post"],
    )
    signed = signature + plain
    # a chain of one ARC set, shaped like a real one (not validly sealed: dkimpy can only
    # seal with the authres package installed), so mutations start inside dkimpy's ARC path
    sealed = (
        b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.test; s=arc; t=1700000000;\r\n"
        b"\tb=dGVzdA==\r\n"
        b"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test;\r\n"
        b"\ts=arc; t=1700000000; h=from:to:subject; bh=dGVzdA==; b=dGVzdA==\r\n"
        b"ARC-Authentication-Results: i=1; mx.example.test; dkim=pass\r\n"
        b"\theader.d=example.test; spf=pass smtp.mailfrom=example.test\r\n"
    )
    return [
        signed,
        sealed + signed,
        plain,
        b"From: a@example.test\r\nFrom: b@example.org\r\nDate: yesterday\r\n\r\nbody",
        b"From: <>\r\nMessage-ID: nope\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=x; h=from; bh=; b=\r\n"
        b"From: x@example.test\r\n\r\n",
        b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=example.test; s=x; b=\r\n\r\n",
        b"no header at all",
    ]


def wire_seeds() -> list[bytes]:
    """Replies to the questions in targets.WIRE_QUESTIONS, each prefixed with the index of
    its question (the first byte of a wire input picks the question)."""
    from .targets import WIRE_QUESTIONS

    out = []
    for index, (name, rdtype) in enumerate(WIRE_QUESTIONS):
        for wire in _replies(name, rdtype):
            out.append(bytes((index,)) + wire)
    return out


@functools.cache
def _replies(name: str, rdtype: str) -> tuple[bytes, ...]:
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rrset

    answers = {
        "A": ["192.0.2.1", "192.0.2.2"],
        "AAAA": ["2001:db8::1"],
        "TXT": ['"v=spf1 -all"', '"v=DMARC1; p=reject" "; rua=mailto:d@example.test"'],
        "MX": ["10 mx1.example.test.", "0 ."],
        "NS": ["ns1.example.test.", "ns2.example.net."],
        "CNAME": ["s1.dkim.provider.example."],
    }[rdtype]
    query = dns.message.make_query(name, rdtype, want_dnssec=False)

    def reply() -> dns.message.Message:
        r = dns.message.make_response(query)
        r.flags |= dns.flags.RA
        return r

    positive = reply()
    positive.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, *answers))
    chained = reply()
    chained.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "CNAME", "alias.example.net."))
    if rdtype != "CNAME":
        chained.answer.append(
            dns.rrset.from_text("alias.example.net.", 120, "IN", rdtype, *answers)
        )
    soa = dns.rrset.from_text(
        "example.test.",
        3600,
        "IN",
        "SOA",
        "ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300",
    )
    nxdomain = reply()
    nxdomain.set_rcode(dns.rcode.NXDOMAIN)
    nxdomain.authority.append(soa)
    nodata = reply()
    nodata.authority.append(soa)
    servfail = reply()
    servfail.set_rcode(dns.rcode.SERVFAIL)
    truncated = reply()
    truncated.flags |= dns.flags.TC
    # EDNS (RFC 6891): an OPT record in the additional section, whose extended RCODE bits
    # sit above the header's; BADVERS is 16, NOERROR in the header
    edns_query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    edns_positive = dns.message.make_response(edns_query)
    edns_positive.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, *answers))
    badvers = dns.message.make_response(edns_query)
    badvers.set_rcode(dns.rcode.BADVERS)
    formerr = reply()
    formerr.set_rcode(dns.rcode.FORMERR)
    replies = [positive, chained, nxdomain, nodata, servfail, truncated, edns_positive, badvers]
    wires = [m.to_wire() for m in (*replies, formerr)]
    # FORMERR and REFUSED without a question section (servers may leave it out), and an
    # additional section of an A record then the OPT record: the loop rather than the
    # one-OPT fast path
    wires.append(b"\x00\x00\x81\x81" + bytes(8))
    wires.append(b"\x00\x00\x81\x85" + bytes(8))
    extra = dns.message.make_response(edns_query)
    extra.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, *answers))
    extra.additional.append(dns.rrset.from_text("ns1.example.test.", 300, "IN", "A", "192.0.2.9"))
    wires.append(extra.to_wire())
    return tuple(wires)
