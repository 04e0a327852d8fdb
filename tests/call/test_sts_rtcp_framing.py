"""The STS re-key over RTCP refuses what its framing does not allow: two STS messages in one
compound packet, a last message without exactly one key switch, and a failure in the middle
of a run with the peer (that one ends the re-key; only a refused *first* message is counted
and waited past).  The channel is a stand-in that relays to the other party's machine, so
no socket, no clock and no SRTCP are involved: only the framing rules of ``sts_rtcp``."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest

from ethvoip.impl.call.sts_rtcp import STS_NAME, key_switch, sts_initiator, sts_responder, unwrap
from ethvoip.impl.call.sts_rtcp import wrap as wrap_sts
from ethvoip.impl.handshake import RoleMachine, create
from ethvoip.impl.media.rtcp import RtcpApp, RtcpPacket
from ethvoip.spec.errors import DecodeError, EthVoipError
from tests.impl.handshake_helpers import ALICE, BOB, World, sent

SSRC, OWN_SSRC, SOURCE = 0x1234, 0x5678, ("127.0.0.1", 5005)
Shape = Callable[[list[RtcpApp]], list[RtcpPacket]]


class Relay:
    """Stands in for the RtcpChannel of the machine under test: each ``receive`` hands it
    the other party's answer to what it sent last, as compound packets made by ``shape``."""

    def __init__(self, other: RoleMachine, shape: Shape, first: list[bytes] | None = None):
        self.other, self.shape = other, shape
        self.pending = list(first or [])
        self.dropped: Counter[str] = Counter()
        self.last_refusal: Exception | None = None
        self.received = 0

    def send(self, packets: list[RtcpPacket], dest: object) -> None:
        for p in packets:
            if isinstance(p, RtcpApp) and p.name == STS_NAME:
                self.pending += sent(self.other.receive(unwrap(p)))

    async def receive(self, timeout: float | None = None) -> tuple[list[RtcpPacket], object]:
        if not self.pending:  # the party under test waits for more than the other says
            raise LookupError("the other party has nothing more to say")
        out, self.pending = self.pending, []
        self.received += 1
        return self.shape([wrap_sts(m, 1, SSRC) for m in out]), SOURCE


def _respond(shape: Shape) -> Relay:
    w = World()
    caller = create("sts", "hardened", "I", w.env(ALICE), B=BOB)
    relay = Relay(caller, shape, sent(caller.start()))
    asyncio.run(sts_responder(w.env(BOB), ALICE, relay, SSRC, OWN_SSRC))  # type: ignore[arg-type]
    return relay


def _initiate(shape: Shape) -> Relay:
    w = World()
    callee = create("sts", "hardened", "R", w.env(BOB), A=ALICE)
    callee.start()
    relay = Relay(callee, shape)
    run = sts_initiator(w.env(ALICE), BOB, relay, SOURCE, SSRC, lambda: 100)  # type: ignore[arg-type]
    asyncio.run(run)
    return relay


def _switch(apps: list[RtcpApp], n: int) -> list[RtcpPacket]:
    return [*apps, *[key_switch(bytes(32), SSRC, 7)] * n]


def test_an_honest_run_relayed_completes_on_both_sides() -> None:
    # the stand-in is faithful: without a fault both roles complete (the key switch the
    # responder needs comes from the real initiator here)
    w = World()
    callee = create("sts", "hardened", "R", w.env(BOB), A=ALICE)
    callee.start()
    relay = Relay(callee, lambda apps: list(apps))
    done, _, at = asyncio.run(
        sts_initiator(w.env(ALICE), BOB, relay, SOURCE, SSRC, lambda: 100)  # type: ignore[arg-type]
    )
    assert at > 100 and done.session_key and relay.received == 1


def test_the_responder_refuses_two_sts_messages_in_one_compound_packet() -> None:
    with pytest.raises(DecodeError, match="one STS message"):
        _respond(lambda apps: [*apps, *apps])


def test_the_initiator_refuses_two_sts_messages_in_one_compound_packet() -> None:
    with pytest.raises(DecodeError, match="one STS message"):
        _initiate(lambda apps: [*apps, *apps])


@pytest.mark.parametrize("switches", [0, 2])
def test_the_last_message_needs_exactly_one_key_switch(switches: int) -> None:
    with pytest.raises(DecodeError, match="without its key switch"):
        _respond(lambda apps: _switch(apps, switches))


def test_a_failure_in_the_middle_of_a_run_ends_the_rekey() -> None:
    """Message 1 is accepted, message 3 is tampered with: the run with the peer fails and the
    re-key with it, rather than the responder starting over as if nothing had begun."""

    def tamper_third(apps: list[RtcpApp]) -> list[RtcpPacket]:
        if tamper_third.calls == 1:  # type: ignore[attr-defined]
            (app,) = apps
            data = bytearray(app.data)
            body_end = 2 + int.from_bytes(data[:2], "big")
            data[body_end - 1] ^= 1
            apps = [RtcpApp(app.subtype, app.ssrc, app.name, bytes(data))]
        tamper_third.calls += 1  # type: ignore[attr-defined]
        return list(apps)

    tamper_third.calls = 0  # type: ignore[attr-defined]
    with pytest.raises(EthVoipError):
        _respond(tamper_third)
