"""The call's media receiver and RTCP port refuse what would mix streams or keys: a key
installed after packets arrived, a second SSRC once one is latched, a re-key with no stream,
SRTCP before the peer's stream is known.  Driven directly (``datagram_received``), no socket."""

from __future__ import annotations

import pytest

from ethvoip.impl.call.media import MediaReceiver, RtcpChannel
from ethvoip.impl.media.rtcp import RtcpApp, encode_rtcp
from ethvoip.impl.media.rtp import RtpPacket, encode_rtp
from ethvoip.impl.media.srtp import SrtpReceiver, SrtpSender
from ethvoip.spec.errors import (
    Check,
    DecodeError,
    LocalProtocolError,
    MacInvalid,
    PeerRefused,
    ReplayError,
)
from tests.refusals import refused

MASTER, OTHER = bytes(range(30)), bytes(range(1, 31))
PEER = ("127.0.0.1", 40002)


def _packet(ssrc: int = 7, seq: int = 1) -> bytes:
    rtp = RtpPacket(payload_type=8, seq=seq, timestamp=160 * seq, ssrc=ssrc, payload=b"\xd5" * 160)
    return SrtpSender(MASTER, ssrc).protect(encode_rtp(rtp))


def test_a_key_is_installed_only_before_any_packet() -> None:
    fresh = MediaReceiver(OTHER, None)
    fresh.install(MASTER, 7)  # before anything arrived: fine, and the SSRC is latched
    assert fresh.srtp is not None and fresh.srtp.ssrc == 7
    fresh.datagram_received(_packet(), PEER)
    assert len(fresh.packets) == 1
    heard = MediaReceiver(MASTER, None)
    heard.datagram_received(_packet(), PEER)  # one authenticated packet, nothing dropped
    assert heard.packets and not heard.dropped
    with pytest.raises(LocalProtocolError, match="already seen packets"):
        heard.install(OTHER, None)
    refused_only = MediaReceiver(OTHER, None)
    refused_only.datagram_received(_packet(), PEER)  # under another key: dropped, not kept
    assert refused_only.dropped and not refused_only.packets
    with pytest.raises(LocalProtocolError, match="already seen packets"):
        refused_only.install(MASTER, None)


def test_a_latched_stream_refuses_another_ssrc() -> None:
    r = MediaReceiver(MASTER, 7)
    r.expect(7)  # the same stream announced again: nothing changes
    with refused(Check.STREAM_BINDING, PeerRefused):
        r.expect(8)
    assert r.srtp is not None and r.srtp.ssrc == 7


def test_a_rekey_needs_a_stream() -> None:
    with pytest.raises(DecodeError, match="no SRTP stream"):
        MediaReceiver(MASTER, None).rekey(OTHER, 10)


def test_srtcp_before_the_peers_stream_is_known_is_refused() -> None:
    ch = RtcpChannel()
    ch.bind_call(PEER, SrtpSender(OTHER, 9), lambda: None)
    with pytest.raises(MacInvalid, match="before the peer's stream"):
        ch.open(encode_rtcp([RtcpApp(0, 7, b"TEST", b"")]), PEER)


def test_a_replayed_srtcp_packet_is_counted_as_a_replay() -> None:
    ch, stream = RtcpChannel(), SrtpReceiver(MASTER, 7)
    ch.bind_call(PEER, SrtpSender(OTHER, 9), lambda: stream)
    genuine = SrtpSender(MASTER, 7).protect_rtcp(encode_rtcp([RtcpApp(0, 7, b"TEST", b"")]))
    ch.datagram_received(genuine, PEER)
    assert ch.inbox.qsize() == 1 and not ch.dropped
    ch.datagram_received(genuine, PEER)
    assert ch.inbox.qsize() == 1 and ch.dropped == {"replay": 1}
    assert isinstance(ch.last_refusal, ReplayError)
