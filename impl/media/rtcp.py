"""RTCP codec (RFC 3550 section 6): compound packets, with APP packets (section 6.7) decoded.

APP packets carry the Station-to-Station messages of the paper's Fig. 7 (``name`` tells
the application's messages apart, ``subtype`` numbers them).  Other RTCP packet types are
kept as opaque :class:`RtcpRaw` after their common header is checked, so a compound packet
(SR/RR first, as RFC 3550 section 6.1 wants) round-trips unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from ethvoip.spec.errors import DecodeError, LocalProtocolError

from ._wire import Reader

PT_SR, PT_RR, PT_SDES, PT_BYE, PT_APP = 200, 201, 202, 203, 204


@dataclass(frozen=True)
class RtcpApp:
    subtype: int
    ssrc: int
    name: bytes  # four ASCII characters
    data: bytes  # application-dependent, a whole number of 32-bit words


@dataclass(frozen=True)
class RtcpRaw:
    """Any other RTCP packet: its type, the 5-bit count field and the body after the header."""

    packet_type: int
    count: int
    body: bytes


RtcpPacket = RtcpApp | RtcpRaw


def _header(count: int, pt: int, body_len: int) -> bytes:
    if body_len % 4 or not 0 <= count < 32:
        raise LocalProtocolError("RTCP: body must be whole 32-bit words, count 5 bits")
    words = body_len // 4  # length field: packet length in words minus one (header is one)
    if words >= 1 << 16:
        raise LocalProtocolError("RTCP: packet too long")
    return bytes([0x80 | count, pt]) + words.to_bytes(2, "big")


def encode_rtcp(packets: list[RtcpPacket]) -> bytes:
    """Encode a compound packet (no padding)."""
    out = bytearray()
    for p in packets:
        if isinstance(p, RtcpApp):
            if len(p.name) != 4 or not p.name.isascii() or not 0 <= p.ssrc < 1 << 32:
                raise LocalProtocolError("RTCP APP: name is 4 ASCII bytes, SSRC 32 bits")
            body = p.ssrc.to_bytes(4, "big") + p.name + p.data
            out += _header(p.subtype, PT_APP, len(body)) + body
        else:
            out += _header(p.count, p.packet_type, len(p.body)) + p.body
    return bytes(out)


def decode_rtcp(data: bytes) -> list[RtcpPacket]:
    """Decode a compound RTCP packet; any malformed part rejects the whole of it."""
    r = Reader(data, "RTCP")
    out: list[RtcpPacket] = []
    if not r.remaining:
        raise DecodeError("RTCP: empty packet")
    while r.remaining:
        first, pt = r.u8("V/P/count"), r.u8("packet type")
        if first >> 6 != 2:
            raise DecodeError(f"RTCP: version {first >> 6}, want 2")
        if first & 0x20:
            raise DecodeError("RTCP: padding is not supported")
        if not 192 <= pt <= 223:
            raise DecodeError(f"RTCP: packet type {pt} outside the RTCP range")
        body = r.take(4 * r.u16("length"), "packet body")
        if pt == PT_APP:
            b = Reader(body, "RTCP APP")
            ssrc, name = b.u32("SSRC"), b.take(4, "name")
            if not name.isascii():
                raise DecodeError("RTCP APP: name is not ASCII")
            out.append(RtcpApp(first & 0x1F, ssrc, name, b.rest()))
        else:
            out.append(RtcpRaw(pt, first & 0x1F, body))
    return out
