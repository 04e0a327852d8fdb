"""A minimal pcap writer: UDP/IPv4 datagrams in Ethernet frames, so a capture of what our
codecs emit can be read by Wireshark/tshark (the independent check in docs/media.rst).

Classic libpcap file format (magic 0xa1b2c3d4, version 2.4, link type 1 = Ethernet).
Timestamps are passed in; nothing here reads a clock.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from ethvoip.spec.errors import LocalProtocolError

LINKTYPE_ETHERNET = 1
_ETH_IPV4 = b"\x00" * 12 + b"\x08\x00"  # zero MACs, EtherType IPv4


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass(frozen=True)
class Datagram:
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    time: float = 0.0


def udp_ipv4_frame(d: Datagram) -> bytes:
    """Ethernet + IPv4 + UDP around ``d.payload``, with both checksums computed."""
    src, dst = ipaddress.IPv4Address(d.src).packed, ipaddress.IPv4Address(d.dst).packed
    udp_len = 8 + len(d.payload)
    if udp_len + 20 > 0xFFFF or not (0 <= d.sport < 1 << 16 and 0 <= d.dport < 1 << 16):
        raise LocalProtocolError("pcap: datagram too large or port out of range")
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", d.sport, d.dport, udp_len, 0) + d.payload
    udp = udp[:6] + struct.pack("!H", _checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return _ETH_IPV4 + ip + udp


def write_pcap(datagrams: list[Datagram]) -> bytes:
    """The bytes of a pcap file holding ``datagrams`` in order."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
    for d in datagrams:
        frame = udp_ipv4_frame(d)
        sec, usec = int(d.time), round((d.time - int(d.time)) * 1e6)
        out += struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    return bytes(out)
