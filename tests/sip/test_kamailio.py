"""Two of our UAs through a real Kamailio (registrar + usrloc + tm + rr + sl) on UDP.

Kamailio is started on 127.0.0.1 with a free port from ``kamailio/proxy.cfg`` and stopped by
its PID.  Both UAs REGISTER, Alice calls Bob, Bob answers, the ACK and the BYE follow the
Record-Route that Kamailio inserted.  Kamailio is the independent judge of our messages:
it drops what it cannot parse and relays only what its transaction layer accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import pytest

from ethvoip.impl.sip.fields import NameAddr
from ethvoip.impl.sip.ua import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    IncomingCall,
    Registered,
)

from .live import SDP, free_port, ua_on_udp, udp_port_bound

pytestmark = pytest.mark.integration


def test_kamailio_is_installed() -> None:
    # `make test` installs it (apt.txt); a missing binary is a broken install, not a skip
    assert shutil.which("kamailio"), "kamailio missing: run `make system` (Debian package kamailio)"


CONFIG = Path(__file__).parent / "kamailio" / "proxy.cfg"


def _module_dir() -> str:
    for base in (
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib",
        "/usr/lib64",
    ):
        hit = sorted(Path(base).glob("kamailio/modules/registrar.so"))
        if hit:
            return str(hit[0].parent) + "/"
    raise FileNotFoundError("Kamailio module directory with registrar.so not found")


async def _start_kamailio(port: int, workdir: Path) -> asyncio.subprocess.Process:
    cfg = workdir / "kamailio.cfg"
    cfg.write_text(
        CONFIG.read_text().replace("@PORT@", str(port)).replace("@MPATH@", _module_dir())
    )
    proc = await asyncio.create_subprocess_exec(
        "kamailio",
        "-f",
        str(cfg),
        "-DD",  # stay in the foreground: the PID we hold is the main process
        "-E",
        "-m",
        "32",
        "-M",
        "4",
        "-Y",
        str(workdir),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    # Ready when its UDP socket is bound (read from /proc/net/udp, polled, bounded
    # generously): not after a fixed pause, which a loaded machine can outlast.  Its log
    # is collected meanwhile, for the error message if it dies instead.
    seen: list[bytes] = []
    reader = asyncio.get_running_loop().create_task(_drain(proc.stderr, seen))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while proc.returncode is None and not udp_port_bound(port):
                await asyncio.sleep(0.02)
    if proc.returncode is not None or not udp_port_bound(port):
        await _stop(proc)
        await reader
        raise RuntimeError("kamailio failed to start:\n" + b"".join(seen[-20:]).decode())
    return proc


async def _drain(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while line := await stream.readline():
        into.append(line)
        del into[:-100]  # the last lines are enough to explain a failure


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()  # by PID; Kamailio's main process stops its children
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def test_two_uas_call_through_kamailio(tmp_path: Path) -> None:
    async def main() -> None:
        kport = free_port()  # Kamailio binds it itself (see free_port)
        kamailio = await _start_kamailio(kport, tmp_path)
        alice, alice_ua = await ua_on_udp("alice", kport)
        bob, bob_ua = await ua_on_udp("bob", kport)
        try:
            alice.do(alice_ua.register)
            bob.do(bob_ua.register)
            assert (await alice.next_event(Registered)).expires > 0
            assert (await bob.next_event(Registered)).expires > 0
            call_id = alice.do(lambda now: alice_ua.invite("sip:bob@example.com", SDP, now))
            incoming = await bob.next_event(IncomingCall)
            assert incoming.call_id == call_id and incoming.sdp == SDP
            # Kamailio record-routed the INVITE: Bob's dialog routes through it.
            rr = bob_ua.calls[call_id].invite.headers.values("Record-Route")
            assert [NameAddr.parse(r).sip_uri.port for r in rr] == [kport]
            bob.do(lambda now: bob_ua.answer(call_id, SDP, now))
            assert (await alice.next_event(CallAnswered)).sdp == SDP
            await bob.next_event(CallConfirmed)
            alice.do(lambda now: alice_ua.bye(call_id, now))
            assert (await bob.next_event(CallEnded)).by_peer
        finally:
            await alice.close()
            await bob.close()
            await _stop(kamailio)

    asyncio.run(main())
