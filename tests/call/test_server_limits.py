"""The SIP server under stalled and greedy peers: a stalled peer costs a socket, never the
service of others (handshake deadline, idle timeout, per-source limit, no worker threads)."""

from __future__ import annotations

import asyncio
import socket

from ethvoip.impl.call.signaling import (
    PROTOCOL,
    ConnectionRefused,
    HandshakeTimeout,
    ServerLimits,
    drive_handshake,
)
from ethvoip.impl.handshake import create

from .world import ALICE, BOB, World

# Waits for events that must come (a close, a timeout firing): generous, so that a slow or
# loaded machine only makes the test slower, never red.
PATIENCE = 30.0


async def _silent_peer(address: tuple[str, int]) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await loop.sock_connect(sock, address)
    return sock


async def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed ``sock`` (EOF or reset)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(PATIENCE):
            return await loop.sock_recv(sock, 1) == b""
    except ConnectionError:
        return True


def test_a_silent_peer_is_cut_at_the_handshake_deadline(world: World) -> None:
    async def main() -> None:
        server = await world.server(ServerLimits(handshake_timeout=0.2))
        sock = await _silent_peer(server.address)
        try:
            assert await _closed_by_server(sock)
            assert any(isinstance(r, HandshakeTimeout) for r in server.refusals)
        finally:
            sock.close()
            await server.close()

    asyncio.run(main())


def test_peers_stalled_before_the_client_hello_do_not_stop_registrations(world: World) -> None:
    # Each stalled peer completes the psk_handshake (it is a subscriber) and then never sends
    # its ClientHello.  With the TLS handshake on a pool of worker threads, six of them held
    # every worker and the next registration never finished; now each costs a socket.
    async def main() -> None:
        server = await world.server(ServerLimits(handshake_timeout=PATIENCE * 4))
        stalled = []
        bob = world.phone(BOB)
        try:
            for _ in range(12):
                sock = await _silent_peer(server.address)
                stalled.append(sock)
                machine = create(PROTOCOL, "hardened", "I", bob.env(), B=server.env.name)
                await drive_handshake(machine, sock)  # psk_handshake done; no ClientHello follows
            alice = world.phone(ALICE)
            try:
                async with asyncio.timeout(PATIENCE):
                    await alice.connect(server.address)
                    assert await alice.register()
            finally:
                await alice.close()
            assert all(s.fileno() >= 0 for s in stalled)  # still held open meanwhile
        finally:
            for s in stalled:
                s.close()
            await bob.close()
            await server.close()

    asyncio.run(main())


def test_one_source_may_hold_only_so_many_connections(world: World) -> None:
    async def main() -> None:
        server = await world.server(ServerLimits(per_source=2, handshake_timeout=PATIENCE * 4))
        first, second = await _silent_peer(server.address), await _silent_peer(server.address)
        third = await _silent_peer(server.address)
        try:
            assert await _closed_by_server(third)
            assert any(isinstance(r, ConnectionRefused) for r in server.refusals)
            first.close()  # a slot comes free once the server sees the close
            async with asyncio.timeout(PATIENCE):
                while server._open.get("127.0.0.1", 0) > 1:
                    await asyncio.sleep(0.01)
            fourth = await _silent_peer(server.address)
            try:
                await asyncio.sleep(0.05)
                assert server._open.get("127.0.0.1") == 2  # admitted, not refused
            finally:
                fourth.close()
        finally:
            for s in (first, second, third):
                s.close()
            await server.close()

    asyncio.run(main())


def test_an_idle_connection_is_closed_and_its_binding_goes(world: World) -> None:
    async def main() -> None:
        server = await world.server(ServerLimits(idle_timeout=0.3))
        alice = world.phone(ALICE)
        try:
            await alice.connect(server.address)
            assert await alice.register()
            location = server.gate.core.location
            aor = alice.aor
            # the binding goes when the flow closes, and the connection's bookkeeping a moment
            # later (another task): wait for both, or time out (the failure this test is for)
            async with asyncio.timeout(PATIENCE):
                while location.lookup(aor, 0.0) or server._open:
                    await asyncio.sleep(0.02)
            assert location.known(aor)  # known, unreachable: an INVITE gets 480
        finally:
            await alice.close()
            await server.close()

    asyncio.run(main())
