"""Re-key hijack: a third subscriber takes over a call's Station-to-Station re-key, on real sockets.

Model traces ``sts.unbound.R_dialog`` (and ``R_secret_K``): when the callee authenticates
whoever STS message 1 names instead of the call's peer, one run suffices.  Here it runs on the
concrete call path: a SIP server over TLS-PSK, Alice calling Bob with MIKEY, SRTP both ways.
Eve is a registered subscriber with her own key; she knows Bob's RTCP port (the SDP's port + 1
is no secret to anyone on the path) and Alice's SSRC (in clear in every RTP header).  From her
own UDP socket she sends Bob ``STS1 (e, B, g^z)``.

Unbound path (the code before the fix: plain RTCP from any source, the responder started
without the call's peer): Bob completes STS with Eve and switches his outgoing stream to a key
Eve derived too; Eve decrypts Bob's next packets.

Hardened path, the same Eve, three times: from her own socket the RTCP port refuses the
datagram (check ``source_address``: not the negotiated peer address); with Alice's address
forged (injected into the receiving code, since loopback cannot forge a source without
privileges) SRTCP refuses it (check ``mac``: not authenticated under the call's keys); and
delivered straight to the STS responder machine it is refused at ``R_1`` (check
``dialog_binding``: message 1 names Eve, the call is with Alice).  Alice's genuine re-key
completes meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ethvoip.attacks.base import Attack, AttackResult, Line, refused_by
from ethvoip.impl.call.media import RtcpChannel, bind_udp
from ethvoip.impl.call.phone import IncomingSession, OutgoingCall, SecurePhone, Subscriber
from ethvoip.impl.call.signaling import SecureSipServer
from ethvoip.impl.call.sts_rtcp import sts_rekey_initiator, wrap
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.impl.handshake import Env, Sent, StaticDirectory, create
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.rtcp import encode_rtcp
from ethvoip.impl.media.srtp import SrtpReceiver
from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import Check, EthVoipError

ALICE, BOB, EVE, SERVER = "+96176661367", "+96170412611", "+96100000666", "+96100000001"
DOMAIN, HOST = "ethvoip.attack", "127.0.0.1"
CHECK = (Check.SOURCE_ADDRESS, Check.MAC, Check.DIALOG_BINDING)
EVE_WAIT = 2.0  # seconds Eve waits for an answer that, on the hardened path, never comes


@dataclass
class Call:
    alice: SecurePhone
    bob: SecurePhone
    out: OutgoingCall
    session: IncomingSession
    eve_key: IdentityKey
    directory: StaticDirectory

    def eve_env(self) -> Env:
        return Env(EVE, self.eve_key, self.directory, rng=seeded_rng(b"eve"))


@contextlib.asynccontextmanager
async def established_call(*, bind_rtcp: bool) -> AsyncIterator[Call]:
    """Alice calls Bob through a TLS-PSK SIP server; a few SRTP packets flow each way."""
    rng = seeded_rng(b"ethvoip/sts_rekey_hijack")
    keys = {n: IdentityKey.generate(rng) for n in (ALICE, BOB, EVE, SERVER)}
    directory = StaticDirectory({n: k.public_key for n, k in keys.items()})
    store = InMemoryCredentialStore()
    for n in (ALICE, BOB, EVE):
        store.add(n, DOMAIN, f"pw-{n}")
    verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"attack-digest-secret-0000")
    registrar = RegistrarProxy(domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS")
    server = SecureSipServer(registrar, Env(SERVER, keys[SERVER], directory))
    _, registrar.port = await server.start(HOST)
    phones = [
        SecurePhone(
            Subscriber(n, keys[n], f"pw-{n}"), directory, DOMAIN, SERVER, bind_rtcp=bind_rtcp
        )
        for n in (ALICE, BOB)
    ]
    alice, bob = phones
    try:
        for p in phones:
            await p.connect(server.address)
            if not await p.register():
                raise EthVoipError(f"{p.sub.number} could not register")
        answering = asyncio.create_task(bob.answer())
        out = await alice.call(BOB)
        session = await answering
        if not isinstance(session, IncomingSession):
            raise EthVoipError(f"Bob refused the call: {session.error}")
        fwd = list(packetize([0] * 160 * 5, ssrc=out.media.ssrc, seq=10))
        back = list(packetize([0] * 160 * 5, ssrc=session.outgoing.ssrc, seq=500))
        await asyncio.gather(out.media.play(fwd, 0.002), session.outgoing.play(back, 0.002))
        await asyncio.gather(session.media.wait_for(5), out.incoming.wait_for(5))
        yield Call(alice, bob, out, session, keys[EVE], directory)
    finally:
        for p in phones:
            await p.close()
        await server.close()


async def _eve_socket() -> RtcpChannel:
    ch = RtcpChannel()  # Eve's own port: plain RTCP, she has no keys of the call
    await bind_udp(ch, HOST, 0)
    return ch


async def _unbound() -> tuple[bool, str, list[Line]]:
    lines: list[Line] = []
    async with established_call(bind_rtcp=False) as c:
        eve_rtcp = await _eve_socket()
        try:
            bob_rtcp = (HOST, c.session.rtcp.port)
            lines.append(Line("R_1", "e", f"sends STS1 (e, B, g^z) to Bob's RTCP port {bob_rtcp}"))
            eve, bob = await asyncio.gather(
                sts_rekey_initiator(
                    c.eve_env(),
                    BOB,
                    eve_rtcp,
                    bob_rtcp,
                    c.out.media.ssrc,  # Alice's SSRC, read off an RTP header
                    lambda: c.out.media.next_index,
                    c.session.outgoing.ssrc,
                ),
                c.bob.rekey(c.session, variant="unbound"),
            )
        finally:
            eve_rtcp.close()
        lines.append(
            Line(
                "R_4", "b", f"completes STS and believes the call is still with {bob.outcome.peer}"
            )
        )
        back = list(packetize([1] * 160 * 15, ssrc=c.session.outgoing.ssrc, seq=505))
        await c.session.outgoing.play(back, 0.002)
        heard = SrtpReceiver(eve.recv_master, c.session.outgoing.ssrc)
        opened = heard.receive(c.session.outgoing.sent[-1])
        took_over = eve.recv_master == bob.send_master and opened is not None
        lines.append(
            Line(
                "media",
                "e",
                "decrypts Bob's SRTP after the switch with her own STS key"
                if took_over
                else "could not open Bob's media",
            )
        )
        ends = f"Bob's new sending key {bob.send_master.hex()[:16]}... (Eve holds it)"
        return took_over, ends, lines


async def _hardened() -> tuple[bool, str, list[Line], tuple[Check, ...]]:
    lines: list[Line] = []
    refused: list[EthVoipError] = []
    async with established_call(bind_rtcp=True) as c:
        bob_rtcp = (HOST, c.session.rtcp.port)
        machine = create("sts", "hardened", "I", c.eve_env(), B=BOB)
        [m1] = [e.data for e in machine.start() if isinstance(e, Sent)]
        forged = encode_rtcp([wrap(m1, 1, c.out.media.ssrc)])
        waiting = asyncio.create_task(c.bob.rekey(c.session))
        await asyncio.sleep(0)

        # 1. from Eve's own socket
        eve_rtcp = await _eve_socket()
        try:
            assert eve_rtcp.transport is not None
            eve_rtcp.transport.sendto(forged, bob_rtcp)
            for _ in range(200):
                if c.session.rtcp.dropped["source"]:
                    break
                await asyncio.sleep(0.01)
        finally:
            eve_rtcp.close()
        if c.session.rtcp.last_refusal is not None:
            refused.append(c.session.rtcp.last_refusal)
        lines.append(Line("R_1", "b", f"port refuses Eve's datagram: {_why(refused[-1:])}"))

        # 2. the same bytes as if from Alice's RTCP address (a forged source)
        c.session.rtcp.datagram_received(forged, c.session.rtcp.peer or ("0.0.0.0", 0))
        if c.session.rtcp.last_refusal is not None and c.session.rtcp.dropped["auth"]:
            refused.append(c.session.rtcp.last_refusal)
        lines.append(Line("R_1", "b", f"with Alice's address forged: {_why(refused[-1:])}"))

        # 3. delivered to the STS responder machine itself (as if both port checks were gone)
        bob_machine = create("sts", "hardened", "R", c.bob.env(), A=c.session.peer)
        try:
            bob_machine.receive(m1)
        except EthVoipError as exc:
            refused.append(exc)
        lines.append(Line("R_1", "b", f"the responder machine: {_why(refused[-1:])}"))

        # Alice's genuine re-key still goes through
        mine = await c.alice.rekey(c.out)
        bob = await waiting
        genuine = mine.send_master == bob.recv_master and mine.recv_master == bob.send_master
        lines.append(Line("R_4", "b", f"re-keys with Alice: keys agree = {genuine}"))
    checks = tuple(c for e in refused for c in refused_by(e))
    blocked = checks == CHECK and len(refused) == len(CHECK) and genuine
    return blocked, "; ".join(f"{type(e).__name__}: {e}" for e in refused), lines, checks


def _why(errs: list[EthVoipError]) -> str:
    return f"REFUSED, {type(errs[0]).__name__}: {errs[0]}" if errs else "accepted"


def run() -> AttackResult:
    reproduced, ends, steps = asyncio.run(_unbound())
    blocked, why, hardened_steps, checks = asyncio.run(_hardened())
    return AttackResult(
        name="sts_rekey_hijack",
        protocol="sts over RTCP in a call (model trace sts.unbound.R_dialog)",
        paper_reproduced=reproduced,
        hardened_blocked=blocked,
        blocked_by=why or "nothing: Eve's message was accepted",
        steps=steps,
        hardened_steps=hardened_steps,
        intruder_ends_with=ends,
        checks=checks,
    )


ATTACK = Attack(
    "sts_rekey_hijack",
    "sts",
    "a third subscriber takes over a call's re-key",
    run,
    checks=(C.DIALOG_BINDING, C.SRTCP_SOURCE),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
