"""Media both ways: the callee streams back with its own SSRC and key (MIKEY crypto session 2),
and the STS re-key over RTCP switches both directions; bytes are checked each way, and after
the switch neither direction opens under its old key."""

from __future__ import annotations

import asyncio

import pytest

from ethvoip.impl.call import IncomingSession
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.srtp import SrtpReceiver

from .world import ALICE, BOB, World


def _tone(n: int, step: int) -> list[int]:
    return [((i * step) % 4000) - 2000 for i in range(160 * n)]


@pytest.mark.parametrize("variant", ["hardened", "paper"])
def test_both_directions_then_sts_rekeys_both(world: World, variant: str) -> None:
    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                await p.connect(server.address)
                assert await p.register()
            answering = asyncio.create_task(bob.answer(variant=variant))
            out = await alice.call(BOB, variant=variant)
            session = await answering
            assert isinstance(session, IncomingSession)

            forward = list(packetize(_tone(40, 37), ssrc=out.media.ssrc, seq=100))
            back = list(packetize(_tone(40, 53), ssrc=session.outgoing.ssrc, seq=7000))
            assert out.media.ssrc != session.outgoing.ssrc
            # the answer's a=ssrc told the caller which stream to accept
            assert out.incoming.srtp is not None
            assert out.incoming.srtp.ssrc == session.outgoing.ssrc
            if variant == "hardened":  # separate keys per direction (RFC 3830 CS 1 and CS 2)
                assert out.incoming.master != session.media.master
            await asyncio.gather(
                out.media.play(forward[:10], pace=0.002),
                session.outgoing.play(back[:10], pace=0.002),
            )
            await session.media.wait_for(10)
            await out.incoming.wait_for(10)

            if variant == "hardened":
                r_caller, r_callee = await asyncio.gather(alice.rekey(out), bob.rekey(session))
                assert r_caller.send_master == r_callee.recv_master
                assert r_caller.recv_master == r_callee.send_master
                assert r_caller.send_master != r_caller.recv_master
                assert (r_caller.send_at, r_caller.recv_at) == (r_callee.recv_at, r_callee.send_at)
            await asyncio.gather(
                out.media.play(forward[10:], pace=0.002),
                session.outgoing.play(back[10:], pace=0.002),
            )
            await session.media.wait_for(len(forward))
            await out.incoming.wait_for(len(back))
        finally:
            await alice.close()
            await bob.close()
            await server.close()

        assert session.media.payload() == b"".join(p.payload for p in forward)
        assert out.incoming.payload() == b"".join(p.payload for p in back)
        assert not session.media.dropped and not out.incoming.dropped
        if variant == "hardened":
            # the switch is SWITCH_MARGIN (10) packets ahead; the last packets of each direction
            # do not open under the MIKEY keys any more
            old_fwd = SrtpReceiver(session.media.master, out.media.ssrc)
            old_back = SrtpReceiver(out.incoming.master, session.outgoing.ssrc)
            assert old_fwd.receive(out.media.sent[-1]) is None
            assert old_back.receive(session.outgoing.sent[-1]) is None

    asyncio.run(main())
