"""The STS re-key is bound to the call, on real sockets: RTCP only from the negotiated peer
address and only as SRTCP under the call's keys; the responder only accepts the dialog's
peer; a stranger's attempt neither takes over the re-key nor blocks the genuine one.  And the
attack ``sts_rekey_hijack`` reproduces on the unbound path and is stopped on the hardened one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ethvoip.attacks import sts_rekey_hijack
from ethvoip.attacks.sts_rekey_hijack import Call, established_call
from ethvoip.impl.call.media import ForeignSource, RtcpChannel, bind_udp
from ethvoip.impl.call.sts_rtcp import STS_NAME, sts_rekey_initiator, unwrap, wrap
from ethvoip.impl.handshake import Sent, create
from ethvoip.impl.handshake.sts import DialogMismatch
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.rtcp import RtcpApp, decode_rtcp, encode_rtcp
from ethvoip.impl.media.srtp import SrtpReceiver
from ethvoip.spec.errors import Check, CryptoError, DecodeError
from tests.refusals import refused

HOST = "127.0.0.1"
EVE, BOB = sts_rekey_hijack.EVE, sts_rekey_hijack.BOB


def _in_call(bind_rtcp: bool, body: Callable[[Call], Awaitable[None]]) -> None:
    async def main() -> None:
        async with established_call(bind_rtcp=bind_rtcp) as c:
            await body(c)

    asyncio.run(main())


async def _stranger() -> RtcpChannel:
    ch = RtcpChannel()
    await bind_udp(ch, HOST, 0)
    return ch


def _eve_first_message(c: Call) -> bytes:
    machine = create("sts", "hardened", "I", c.eve_env(), B=BOB)
    [m1] = [e.data for e in machine.start() if isinstance(e, Sent)]
    return encode_rtcp([wrap(m1, 1, c.out.media.ssrc)])


async def _until(cond: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not cond():
            await asyncio.sleep(0.005)


def test_unbound_path_lets_a_third_subscriber_take_over_the_rekey() -> None:
    """The hole as it was: plain RTCP from anyone, the responder authenticates whoever
    message 1 names.  Eve ends with Bob's new sending key and hears his media."""

    async def body(c: Call) -> None:
        eve_rtcp = await _stranger()
        try:
            eve, bob = await asyncio.gather(
                sts_rekey_initiator(
                    c.eve_env(),
                    BOB,
                    eve_rtcp,
                    (HOST, c.session.rtcp.port),
                    c.out.media.ssrc,
                    lambda: c.out.media.next_index,
                    c.session.outgoing.ssrc,
                ),
                c.bob.rekey(c.session, variant="unbound"),
            )
        finally:
            eve_rtcp.close()
        assert eve.recv_master == bob.send_master
        back = list(packetize([7] * 160 * 12, ssrc=c.session.outgoing.ssrc, seq=505))
        await c.session.outgoing.play(back, 0.001)
        opened = SrtpReceiver(eve.recv_master, c.session.outgoing.ssrc).receive(
            c.session.outgoing.sent[-1]
        )
        assert opened is not None and opened.endswith(back[-1].payload)

    _in_call(False, body)


def test_rtcp_from_another_address_is_refused_and_the_genuine_rekey_completes() -> None:
    async def body(c: Call) -> None:
        waiting = asyncio.create_task(c.bob.rekey(c.session))
        eve = await _stranger()
        try:
            assert eve.transport is not None
            eve.transport.sendto(_eve_first_message(c), (HOST, c.session.rtcp.port))
            await _until(lambda: c.session.rtcp.dropped["source"] == 1)
        finally:
            eve.close()
        assert isinstance(c.session.rtcp.last_refusal, ForeignSource)
        mine = await c.alice.rekey(c.out)
        bob = await waiting
        assert (mine.send_master, mine.recv_master) == (bob.recv_master, bob.send_master)
        assert bob.outcome.peer == c.session.peer

    _in_call(True, body)


def test_plain_or_tampered_rtcp_from_the_peers_own_socket_is_refused() -> None:
    """From the right address (Alice's real RTCP socket) but not SRTCP, or SRTCP with one bit
    flipped: both refused, nothing queued; the genuine packet behind them gets through."""

    async def body(c: Call) -> None:
        app = RtcpApp(0, c.out.media.ssrc, b"TEST", b"\0" * 40)
        assert c.out.rtcp.transport is not None
        c.out.rtcp.transport.sendto(encode_rtcp([app]), c.out.peer_rtcp)
        await _until(lambda: c.session.rtcp.dropped["malformed"] == 1)
        assert isinstance(c.session.rtcp.last_refusal, DecodeError)  # no SRTCP E flag/tag
        genuine = c.out.media.srtp.protect_rtcp(encode_rtcp([app]))
        flipped = bytearray(genuine)
        flipped[12] ^= 1
        c.out.rtcp.transport.sendto(bytes(flipped), c.out.peer_rtcp)
        await _until(lambda: c.session.rtcp.dropped["auth"] == 1)
        assert isinstance(c.session.rtcp.last_refusal, CryptoError)
        assert c.session.rtcp.inbox.empty()
        c.out.rtcp.transport.sendto(genuine, c.out.peer_rtcp)
        packets, source = await c.session.rtcp.receive(timeout=5)
        assert packets == [app] and source == c.session.rtcp.peer


def test_the_sts_messages_travel_as_srtcp() -> None:
    """What the bound channel puts on the wire is not RTCP a stranger can read: libsrtp's
    SRTCP (encrypted payload, E flag and index, 80-bit tag), and it opens under the call's key."""

    async def body(c: Call) -> None:
        seen: list[bytes] = []
        sniffer = await _stranger()
        sniffer.datagram_received = lambda data, addr: seen.append(data)  # type: ignore[method-assign]
        try:
            app = RtcpApp(0, c.out.media.ssrc, b"TEST", b"secret!!")
            c.out.rtcp.send([app], (HOST, sniffer.port))
            await _until(lambda: bool(seen))
        finally:
            sniffer.close()
        [wire] = seen
        assert len(wire) == len(encode_rtcp([app])) + 4 + 10  # E||index, HMAC-SHA1-80
        assert b"secret!!" not in wire
        assert decode_rtcp(c.session.media.srtp.unprotect_rtcp(wire)) == [app]  # type: ignore[union-attr]

    _in_call(True, body)


def test_a_message_1_naming_another_caller_is_refused_by_the_machine_and_the_rekey_survives() -> (
    None
):
    """Both port checks off (``bind_rtcp=False``), the dialog binding alone: Eve's message 1
    reaches the responder, which refuses it (DialogMismatch), counts it, and waits on."""

    async def body(c: Call) -> None:
        waiting = asyncio.create_task(c.bob.rekey(c.session))
        eve = await _stranger()
        try:
            assert eve.transport is not None
            eve.transport.sendto(_eve_first_message(c), (HOST, c.session.rtcp.port))
            await _until(lambda: c.session.rtcp.dropped["sts"] == 1)
        finally:
            eve.close()
        assert isinstance(c.session.rtcp.last_refusal, DialogMismatch)
        mine = await c.alice.rekey(c.out)
        bob = await waiting
        assert mine.send_master == bob.recv_master

    _in_call(False, body)


def test_machine_refuses_a_first_message_from_outside_the_dialog() -> None:
    async def body(c: Call) -> None:
        [app] = decode_rtcp(_eve_first_message(c))
        assert isinstance(app, RtcpApp) and app.name == STS_NAME
        bob = create("sts", "hardened", "R", c.bob.env(), A=c.session.peer)
        with refused(Check.DIALOG_BINDING, DialogMismatch):
            bob.receive(unwrap(app))

    _in_call(True, body)


def test_bound_channel_refuses_garbage_with_a_typed_count() -> None:
    async def body(c: Call) -> None:
        ch = c.session.rtcp
        assert ch.peer is not None
        ch.datagram_received(b"\x00" * 3, ch.peer)
        assert ch.dropped["auth"] + ch.dropped["malformed"] == 1
        with pytest.raises((CryptoError, DecodeError)):
            ch.open(b"\x00" * 3, ch.peer)

    _in_call(True, body)


def test_attack_reproduces_unbound_and_is_blocked_by_the_three_named_checks() -> None:
    r = sts_rekey_hijack.run()
    assert r.paper_reproduced, r.intruder_ends_with
    assert r.hardened_blocked, r.blocked_by
    assert r.checks == (Check.SOURCE_ADDRESS, Check.MAC, Check.DIALOG_BINDING)
    assert EVE in r.blocked_by
