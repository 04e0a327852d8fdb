"""A call that fails leaves nothing behind: its RTP/RTCP sockets are closed (counted as open
file descriptors in /proc/self/fd), and both UAs' call (dialog) and transaction tables are
empty once the transactions' own timers have run (no wall-clock assertion: we wait for the
event, bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import pytest

from ethvoip.impl.call import RefusedCall, SecurePhone
from ethvoip.impl.sip.ua import IncomingCall
from ethvoip.spec.errors import ReplayError, SipError

from .world import ALICE, BOB, World


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _drained(*phones: SecurePhone) -> None:
    """Wait (bounded) until every UA has no call and no live transaction."""
    # Generous: the bound only decides how long a real leak takes to be reported, never
    # whether a slow (loaded) machine passes.
    async with asyncio.timeout(60):
        while any(p.ua.calls or p.ua.transactions() for p in phones):
            await asyncio.sleep(0.01)


async def _fds_back_to(count: int) -> None:
    """Wait (bounded) until the open descriptors are ``count`` again (closing is deferred)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while open_fds() != count:
                await asyncio.sleep(0.01)


def test_a_refused_offer_closes_the_callers_media_sockets_and_empties_the_tables(
    world: World,
) -> None:
    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                await p.connect(server.address)
                assert await p.register()
            before = open_fds()
            # Bob's clock is 1000 s ahead: MIKEY's 120 s window refuses Alice's timestamp
            bob.clock = lambda: time.time() + 1000
            answering = asyncio.create_task(bob.answer())
            with pytest.raises(SipError, match="488"):
                await alice.call(BOB)
            refused = await answering
            assert isinstance(refused, RefusedCall) and isinstance(refused.error, ReplayError)
            await _drained(alice, bob)
            assert alice.sockets == [] and bob.sockets == []
            await _fds_back_to(before)
            assert open_fds() == before
        finally:
            await alice.close()
            await bob.close()
            await server.close()

    asyncio.run(main())


def test_losing_the_server_mid_setup_fails_the_call_and_leaks_nothing(world: World) -> None:
    async def main() -> None:
        start = open_fds()
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        for p in (alice, bob):
            await p.connect(server.address)
            assert await p.register()
        calling = asyncio.create_task(alice.call(BOB))
        assert bob.endpoint is not None
        await bob.endpoint.next_event(IncomingCall)  # the INVITE is through; Bob never answers
        await server.close()  # the network goes: every TLS connection to the server ends
        with pytest.raises(SipError, match="lost"):
            await calling
        assert alice.sockets == []  # the call's RTP/RTCP sockets are closed already
        assert alice.ua.calls == {} and alice.ua.transactions() == 0
        await alice.close()
        await bob.close()
        await _fds_back_to(start)  # the transports' close callbacks run on later loop turns
        assert open_fds() == start

    asyncio.run(main())
