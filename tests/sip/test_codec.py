"""SIP codec against RFC 4475's well-formed torture messages and hand-made malformed ones.

Expected field values are read off the RFC text (section 3.1.1) by hand, not produced by the
code under test.
"""

from __future__ import annotations

import pytest

from ethvoip.impl.sip.codec import StreamDecoder, decode_datagram, encode
from ethvoip.impl.sip.fields import NameAddr, SipUri, Via, parse_cseq
from ethvoip.impl.sip.message import Request, Response
from ethvoip.spec.errors import DecodeError, LocalProtocolError

from .vectors import RFC4475_WELL_FORMED, rfc4475


@pytest.mark.parametrize("name", RFC4475_WELL_FORMED)
def test_rfc4475_well_formed_messages_decode(name: str) -> None:
    msg = decode_datagram(rfc4475(name))
    assert isinstance(msg, Request)


def test_wsinv_fields() -> None:
    msg = decode_datagram(rfc4475("wsinv"))
    assert isinstance(msg, Request)
    assert msg.method == "INVITE"
    assert msg.uri == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    h = msg.headers
    assert h.get("Max-Forwards") == "0068"
    assert h.get("Call-ID") == "wsinv.ndaksdj@192.0.2.1"
    assert parse_cseq(h.get("CSeq") or "") == (9, "INVITE")
    vias = [Via.parse(v) for v in h.values("v")]
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    to = NameAddr.parse(h.get("To") or "")
    assert to.uri == "sip:vivekg@chair-dnrc.example.com"
    assert to.tag == "1918181833n"
    frm = NameAddr.parse(h.get("From") or "")
    assert frm.tag == "98asjd8"
    assert frm.display == '"J Rosenberg \\\\\\""'
    assert SipUri.parse(frm.uri).user == "jdrosen"
    contact = NameAddr.parse(h.get("Contact") or "")
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    # Folding (RFC 3261 7.3.1): the fold is one space.
    assert h.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert h.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert h.get("Subject") == ""
    route = NameAddr.parse(h.get("Route") or "")
    assert SipUri.parse(route.uri).params == {
        "lr": None,
        "unknownwith": "value",
        "unknown-no-value": None,
    }
    assert len(msg.body) == 150
    assert msg.body.startswith(b"v=0\r\no=mhandley")


def test_esc01_escapes_kept_as_written() -> None:
    msg = decode_datagram(rfc4475("esc01"))
    assert isinstance(msg, Request)
    assert SipUri.parse(msg.uri).user == "sips%3Auser%40example.com"
    contact = SipUri.parse(NameAddr.parse(msg.headers.get("m") or "").uri)
    assert contact.user == "cal%6Cer"
    assert contact.params == {"%6c%72": None, "n%61me": "v%61lue%25%34%31"}
    assert msg.headers.get("Content-Type") == "application/sdp"


def test_esc02_unknown_method_and_lookalike_header() -> None:
    msg = decode_datagram(rfc4475("esc02"))
    assert isinstance(msg, Request)
    assert msg.method == "RE%47IST%45R"
    # C%6Fntact is an unknown header, not a Contact: two contacts, not three.
    assert [NameAddr.parse(c).uri for c in msg.headers.values("Contact")] == [
        "sip:alias1@host1.example.com",
        "sip:alias3@host3.example.com",
    ]
    assert msg.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_escnull_two_contacts_and_compact_length() -> None:
    msg = decode_datagram(rfc4475("escnull"))
    assert [SipUri.parse(NameAddr.parse(c).uri).user for c in msg.headers.values("m")] == [
        "%00",
        "%00%00",
    ]
    assert msg.body == b""


def test_lwsdisp_display_name_without_space() -> None:
    msg = decode_datagram(rfc4475("lwsdisp"))
    frm = NameAddr.parse(msg.headers.get("From") or "")
    assert frm.display == "caller"
    assert frm.uri == "sip:caller@example.com"


@pytest.mark.parametrize("name", RFC4475_WELL_FORMED)
def test_encode_then_decode_keeps_meaning(name: str) -> None:
    first = decode_datagram(rfc4475(name))
    again = decode_datagram(encode(first))
    assert again == first


def test_udp_extra_bytes_after_content_length_are_dropped() -> None:
    # RFC 3261 18.3: on UDP, octets beyond Content-Length are discarded.
    data = rfc4475("lwsdisp") + b"garbage"
    assert decode_datagram(data).body == b""


def _base(extra: str = "", *, start: str = "OPTIONS sip:a@example.com SIP/2.0") -> bytes:
    lines = [
        start,
        "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1",
        "From: <sip:b@example.com>;tag=1",
        "To: <sip:a@example.com>",
        "Call-ID: x@y",
        "CSeq: 1 OPTIONS",
    ]
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


MALFORMED = {
    "missing Call-ID": _base().replace(b"Call-ID: x@y\r\n", b""),
    "two CSeq": _base("CSeq: 2 OPTIONS"),
    "CSeq method mismatch": _base().replace(b"1 OPTIONS", b"1 INVITE"),
    "CSeq too big": _base().replace(b"CSeq: 1 ", b"CSeq: 4294967296 "),
    "Content-Length too big for datagram": _base("Content-Length: 10") + b"short",
    "negative Content-Length": _base("Content-Length: -1"),
    "bad version": _base(start="OPTIONS sip:a@example.com SIP/7.0"),
    "no scheme in Request-URI": _base(start="OPTIONS a.example.com SIP/2.0"),
    "space in method": _base(start="OPT IONS sip:a@example.com SIP/2.0"),
    "header line without colon": _base("NoColonHere"),
    "NUL in header": _base("X-Thing: a\x00b"),
    "bad Via protocol": _base().replace(b"SIP/2.0/UDP", b"SIP/3.0/UDP"),
    "Via without host": _base().replace(b"SIP/2.0/UDP h.example.com", b"SIP/2.0/UDP"),
    "unterminated quote in From": _base().replace(b"From: <", b'From: "bob <'),
    "To without URI scheme": _base().replace(b"To: <sip:a@example.com>", b"To: <a>"),
    "Max-Forwards not a number": _base("Max-Forwards: ten"),
    "bad status code": b"SIP/2.0 99 Odd\r\n" + _base().split(b"\r\n", 1)[1],
    "not utf-8": _base("Subject: \xff".replace("\xff", "x")).replace(b"Subject: x", b"S: \xff"),
    "no blank line": _base()[:-2],
    "continuation first": b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_messages_raise_decode_error(case: str) -> None:
    with pytest.raises(DecodeError):
        decode_datagram(MALFORMED[case])


def test_well_formed_base_decodes() -> None:
    # The malformed cases above differ from this one by one defect each.
    assert isinstance(decode_datagram(_base()), Request)


def test_response_decoding_and_empty_reason() -> None:
    data = b"SIP/2.0 100 \r\n" + _base().split(b"\r\n", 1)[1]
    msg = decode_datagram(data)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (100, "")


def test_stream_decoder_frames_by_content_length() -> None:
    one = rfc4475("wsinv")
    two = rfc4475("lwsdisp")
    dec = StreamDecoder()
    stream = b"\r\n\r\n" + one + two  # keep-alive CRLFs first
    out = []
    for i in range(0, len(stream), 7):
        out += dec.feed(stream[i : i + 7])
    assert [m.call_id for m in out] == [
        "wsinv.ndaksdj@192.0.2.1",
        "lwsdisp.1234abcd@funky.example.com",
    ]
    assert dec.buffered == 0


def test_stream_decoder_requires_content_length() -> None:
    dec = StreamDecoder()
    with pytest.raises(DecodeError):
        dec.feed(_base())
    assert dec.closed
    with pytest.raises(DecodeError):
        dec.feed(b"")


def test_stream_decoder_bounds_header_section() -> None:
    dec = StreamDecoder()
    with pytest.raises(DecodeError):
        dec.feed(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 20_000)


def test_encode_refuses_header_injection() -> None:
    req = decode_datagram(_base())
    req.headers.add("Subject", "hi\r\nVia: evil")
    with pytest.raises(LocalProtocolError):
        encode(req)


def test_encode_writes_content_length() -> None:
    req = decode_datagram(_base("Content-Length: 0"))
    req.body = b"v=0\r\n"
    data = encode(req)
    assert b"\r\nContent-Length: 5\r\n\r\nv=0\r\n" in data
    assert data.count(b"Content-Length") == 1
