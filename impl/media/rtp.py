"""RTP packet codec (RFC 3550 section 5.1): fixed header, CSRCs, header extension, padding.

Strict: version must be 2, every length must fit, a padding count must be at least 1 and
fit in the packet.  For an SRTP packet only :func:`peek_header` is meaningful (the payload is
ciphertext followed by the authentication tag).
"""

from __future__ import annotations

from dataclasses import dataclass

from ethvoip.spec.errors import DecodeError, LocalProtocolError

from ._wire import Reader

HEADER_LEN = 12


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None  # (profile-defined 16 bits, data)
    padding: int = 0  # number of padding bytes, including the count byte itself


def encode_rtp(p: RtpPacket) -> bytes:
    if not (0 <= p.payload_type < 128 and 0 <= p.seq < 1 << 16 and len(p.csrcs) < 16):
        raise LocalProtocolError("RTP: payload type, sequence number or CSRC count out of range")
    if not (0 <= p.timestamp < 1 << 32 and 0 <= p.ssrc < 1 << 32 and 0 <= p.padding < 256):
        raise LocalProtocolError("RTP: timestamp, SSRC or padding out of range")
    first = 0x80 | (0x20 if p.padding else 0) | (0x10 if p.extension else 0) | len(p.csrcs)
    out = bytearray([first, (0x80 if p.marker else 0) | p.payload_type])
    out += p.seq.to_bytes(2, "big") + p.timestamp.to_bytes(4, "big") + p.ssrc.to_bytes(4, "big")
    for c in p.csrcs:
        out += c.to_bytes(4, "big")
    if p.extension is not None:
        profile, data = p.extension
        if len(data) % 4 or len(data) >= 1 << 18 or not 0 <= profile < 1 << 16:
            raise LocalProtocolError("RTP: extension data must be whole 32-bit words")
        out += profile.to_bytes(2, "big") + (len(data) // 4).to_bytes(2, "big") + data
    out += p.payload
    if p.padding:
        out += bytes(p.padding - 1) + bytes([p.padding])
    return bytes(out)


def peek_header(data: bytes) -> tuple[int, int, int]:
    """``(payload type, sequence number, SSRC)`` of an RTP or SRTP packet, checked for shape."""
    if len(data) < HEADER_LEN or data[0] >> 6 != 2:
        raise DecodeError("RTP: shorter than a header or version is not 2")
    return data[1] & 0x7F, int.from_bytes(data[2:4], "big"), int.from_bytes(data[8:12], "big")


def decode_rtp(data: bytes) -> RtpPacket:
    r = Reader(data, "RTP")
    first = r.u8("V/P/X/CC")
    if first >> 6 != 2:
        raise DecodeError(f"RTP: version {first >> 6}, want 2")
    second = r.u8("M/PT")
    seq, ts, ssrc = r.u16("sequence number"), r.u32("timestamp"), r.u32("SSRC")
    csrcs = tuple(r.u32("CSRC") for _ in range(first & 0x0F))
    ext = None
    if first & 0x10:
        profile = r.u16("extension profile")
        ext = (profile, r.take(4 * r.u16("extension length"), "extension"))
    body = r.rest()
    pad = 0
    if first & 0x20:
        if not body or not 1 <= body[-1] <= len(body):
            raise DecodeError("RTP: bad padding count")
        pad = body[-1]
        body = body[:-pad]
    return RtpPacket(second & 0x7F, seq, ts, ssrc, body, bool(second & 0x80), csrcs, ext, pad)
