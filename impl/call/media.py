"""SRTP media over UDP (asyncio): a G.711 PCMA stream out, its decrypted packets in.

:class:`MediaSender` protects each RTP packet with :class:`SrtpSender` and sends it to the
peer's RTP address, keeping the packet index (``ROC * 2**16 + SEQ``) so a re-key can be
scheduled "from index i on".  :class:`MediaReceiver` is the datagram protocol of the RTP port:
it verifies and decrypts with :class:`SrtpReceiver`, keeps what passed, and counts what did
not (``dropped``: ``auth`` for a tampered packet, ``replay`` for a replayed one, ``malformed``)
- nothing that fails a check reaches the application.  When the SSRC is not known in advance
(the paper's ``a=k:`` names none, an answer may omit ``a=ssrc``), the receiver takes the SSRC
of the first packet that authenticates.  Each end of a call has one RTP port: its
:class:`MediaReceiver` is also the socket its :class:`MediaSender` sends from (symmetric RTP).

:class:`RtcpChannel` is the RTCP port (RTP port + 1, RFC 3550 section 11): RTCP compound
packets, decoded, for the Station-to-Station exchange of :mod:`.sts_rtcp`.  Once the call is
up, :meth:`RtcpChannel.bind_call` ties the port to the call: it accepts datagrams only from
the peer's negotiated RTCP address (:class:`ForeignSource` otherwise) and only as SRTCP (RFC
3711 section 3.4) that authenticates under the keys of the peer's SRTP stream (the same
master key, SRTCP's own derived keys), and it sends SRTCP under its own stream's keys.  The
keys follow the streams' re-keys: SRTCP uses the key in force for the stream's current packet
index.  Every refusal is counted in :attr:`RtcpChannel.dropped` by kind and nothing refused
reaches the queue.
"""

from __future__ import annotations

import asyncio
import wave
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from ethvoip.impl.media import g711
from ethvoip.impl.media.packetize import RATE
from ethvoip.impl.media.rtcp import RtcpPacket, decode_rtcp, encode_rtcp
from ethvoip.impl.media.rtp import RtpPacket, decode_rtp, encode_rtp, peek_header
from ethvoip.impl.media.srtp import SrtpReceiver, SrtpSender, drop_kind
from ethvoip.impl.sip.transport import wait_bound
from ethvoip.impl.sip.ua import Address
from ethvoip.spec.errors import (
    Check,
    CryptoError,
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    MacInvalid,
    PeerRefused,
    ReplayError,
)

PACKET_TIME = 0.020  # 20 ms of PCMA per packet


class Datagrams(asyncio.DatagramProtocol):
    """A UDP socket of a call (RTP or RTCP), bound by :func:`bind_udp`."""

    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def bind_udp(proto: Datagrams, host: str, port: int = 0) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: proto, local_addr=(host, port))


class MediaReceiver(Datagrams):
    """The RTP port of one call: SRTP in, authenticated RTP packets kept."""

    def __init__(self, master: bytes, ssrc: int | None) -> None:
        self.master = master
        self.srtp: SrtpReceiver | None = SrtpReceiver(master, ssrc) if ssrc is not None else None
        self.packets: list[RtpPacket] = []
        self.dropped: Counter[str] = Counter()
        self.arrived = asyncio.Event()
        self.last_source: Address | None = None

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.last_source = (addr[0], addr[1])
        try:
            srtp = self.srtp or SrtpReceiver(self.master, peek_header(data)[2])
            rtp = decode_rtp(srtp.unprotect(data))
        except (CryptoError, ReplayError, DecodeError) as err:
            self.dropped[drop_kind(err)] += 1
            return
        self.srtp = srtp  # latched only on a packet that authenticated
        self.packets.append(rtp)
        self.arrived.set()

    def install(self, master: bytes, ssrc: int | None) -> None:
        """Key a receiver bound before its key was known (SDES: the key is in the answer)."""
        if self.packets or self.dropped:
            raise LocalProtocolError("the receiver has already seen packets")
        self.master, self.srtp = master, None
        if ssrc is not None:
            self.expect(ssrc)

    def expect(self, ssrc: int) -> None:
        """The peer announced its SSRC (SDP ``a=ssrc``): accept only that stream from now on."""
        if self.srtp is None:
            self.srtp = SrtpReceiver(self.master, ssrc)
        elif self.srtp.ssrc != ssrc:
            raise PeerRefused(
                f"stream {self.srtp.ssrc:#x} already latched, not {ssrc:#x}",
                check=Check.STREAM_BINDING,
            )

    def rekey(self, master: bytes, at_index: int) -> None:
        if self.srtp is None:
            raise DecodeError("no SRTP stream yet to re-key")
        self.srtp.rekey(master, at_index)

    async def wait_for(self, count: int, timeout: float | None = None) -> None:
        async with asyncio.timeout(wait_bound(timeout)):
            while len(self.packets) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def payload(self) -> bytes:
        """The PCMA bytes received, in sequence order (duplicates are impossible: SRTP)."""
        return b"".join(p.payload for p in sorted(self.packets, key=lambda p: p.seq))

    def write_wav(self, path: Path) -> None:
        """What was heard, decoded from A-law, as an 8 kHz mono 16-bit WAV."""
        samples = g711.decode(self.payload())
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))


class MediaSender:
    """One outgoing SRTP stream to ``dest`` over a bound UDP endpoint."""

    def __init__(self, udp: Datagrams, dest: Address, master: bytes, ssrc: int) -> None:
        self.udp, self.dest = udp, dest
        self.srtp = SrtpSender(master, ssrc)
        self.ssrc = ssrc
        self._roc = 0
        self._last_seq: int | None = None
        self.sent: list[bytes] = []  # the SRTP packets, for replay and tamper tests

    @property
    def next_index(self) -> int:
        """The packet index the next packet will carry, for the usual seq + 1."""
        if self._last_seq is None:
            return 0
        seq = (self._last_seq + 1) & 0xFFFF
        return ((self._roc + (seq == 0)) << 16) | seq

    def protect(self, packet: RtpPacket) -> bytes:
        """The SRTP bytes of ``packet`` (recorded in :attr:`sent`), without sending them."""
        if self._last_seq is not None and packet.seq < self._last_seq:
            self._roc += 1
        self._last_seq = packet.seq
        data = self.srtp.protect(encode_rtp(packet))
        self.sent.append(data)
        return data

    def send(self, packet: RtpPacket) -> bytes:
        data = self.protect(packet)
        self.raw(data)
        return data

    def raw(self, data: bytes) -> None:
        """Put bytes on the wire unchanged (an adversary's replay or forgery)."""
        assert self.udp.transport is not None
        self.udp.transport.sendto(data, self.dest)

    async def play(self, packets: Iterable[RtpPacket], pace: float = PACKET_TIME) -> int:
        """Send ``packets`` one every ``pace`` seconds; returns how many were sent."""
        n = 0
        for packet in packets:
            self.send(packet)
            n += 1
            await asyncio.sleep(pace)
        return n


class ForeignSource(PeerRefused):
    """A datagram on a call's RTCP port from an address other than the peer's negotiated one."""

    check = Check.SOURCE_ADDRESS


class RtcpChannel(Datagrams):
    """The RTCP port: decoded compound packets in a queue; refused datagrams counted by kind
    (``source``: not from the call's peer, ``auth``/``replay``: SRTCP refused it,
    ``malformed``: not RTCP)."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[tuple[list[RtcpPacket], Address]] = asyncio.Queue()
        self.dropped: Counter[str] = Counter()
        self.last_refusal: EthVoipError | None = None
        self.peer: Address | None = None
        self._sender: SrtpSender | None = None
        self._receiver: Callable[[], SrtpReceiver | None] | None = None

    def bind_call(
        self, peer: Address, sender: SrtpSender, receiver: Callable[[], SrtpReceiver | None]
    ) -> None:
        """From now on: only ``peer``'s datagrams, only SRTCP under the call's stream keys
        (``receiver`` returns the peer's stream once it is known; until then nothing opens)."""
        self.peer, self._sender, self._receiver = peer, sender, receiver

    @property
    def bound(self) -> bool:
        return self.peer is not None

    def _refuse(self, kind: str, err: EthVoipError) -> None:
        self.dropped[kind] += 1
        self.last_refusal = err

    def open(self, data: bytes, source: Address) -> list[RtcpPacket]:
        """The checks of one datagram, in order: source, SRTCP, RTCP syntax (raises)."""
        if self.peer is not None and source != self.peer:
            raise ForeignSource(
                f"RTCP from {source[0]}:{source[1]}, the call's peer is at "
                f"{self.peer[0]}:{self.peer[1]}"
            )
        if self._receiver is not None:
            stream = self._receiver()
            if stream is None:
                raise MacInvalid("SRTCP before the peer's stream is known: cannot authenticate")
            data = stream.unprotect_rtcp(data)
        return decode_rtcp(data)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        source = (addr[0], addr[1])
        try:
            packets = self.open(data, source)
        except ForeignSource as err:
            self._refuse("source", err)
            return
        except ReplayError as err:
            self._refuse("replay", err)
            return
        except CryptoError as err:
            self._refuse("auth", err)
            return
        except EthVoipError as err:
            self._refuse("malformed", err)
            return
        self.inbox.put_nowait((packets, source))

    def send(self, packets: list[RtcpPacket], dest: Address) -> None:
        assert self.transport is not None
        data = encode_rtcp(packets)
        if self._sender is not None:
            data = self._sender.protect_rtcp(data)
        self.transport.sendto(data, dest)

    async def receive(self, timeout: float | None = None) -> tuple[list[RtcpPacket], Address]:
        async with asyncio.timeout(wait_bound(timeout)):
            return await self.inbox.get()
