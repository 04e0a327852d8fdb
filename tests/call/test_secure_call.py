"""End to end on loopback: psk_handshake + TLS-PSK to the SIP server, REGISTER, an INVITE
carrying MIKEY, SRTP media from a WAV file, tampering and replay dropped, then an STS re-key
over RTCP with media continuing under the new key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ethvoip.impl.call import IncomingSession, sts_initiator, sts_responder
from ethvoip.impl.call import phone as phone_module
from ethvoip.impl.media import g711
from ethvoip.impl.media.packetize import packetize, read_wav
from ethvoip.impl.media.srtp import SrtpReceiver
from ethvoip.spec.errors import Check, CryptoError
from tests.refusals import refused

from .world import ALICE, BOB, World, write_tone


def test_secure_call_with_mikey_srtp_and_sts_rekey(world: World, tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    write_tone(tone, 0.6)
    samples = read_wav(str(tone))

    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                link = await p.connect(server.address)
                assert link.cipher  # a TLS 1.3 suite was negotiated
                assert await p.register()
            assert sorted(n for n, _ in server.sessions) == sorted([ALICE, BOB])

            answering = asyncio.create_task(bob.answer())
            out = await alice.call(BOB)
            session = await answering
            assert isinstance(session, IncomingSession)
            assert session.caller.startswith(f"sip:{ALICE}@")
            # both ends derived the same SRTP master key from the MIKEY exchange
            assert session.media.master == out.media.srtp.epochs[0].master
            assert session.stream_ssrc == out.media.ssrc

            packets = list(packetize(samples, ssrc=out.media.ssrc, seq=1000))
            first, second = packets[:15], packets[16:]
            await out.media.play(first, pace=0.005)
            await session.media.wait_for(len(first))

            # an attacker on the path: a modified packet and a replayed one are dropped and
            # counted; the genuine packet behind the modified one still gets through
            genuine = out.media.protect(packets[15])
            forged = bytearray(genuine)
            forged[20] ^= 0x01
            out.media.raw(bytes(forged))
            out.media.raw(genuine)
            out.media.raw(out.media.sent[4])
            await session.media.wait_for(16)
            # The replay was sent last: wait for its drop (bounded), not a fixed pause.
            async with asyncio.timeout(60):
                while sum(session.media.dropped.values()) < 2:
                    await asyncio.sleep(0.01)
            assert session.media.dropped == {"auth": 1, "replay": 1}
            assert len(session.media.packets) == 16

            # Station-to-Station over RTCP APP, then the stream switches to the new key
            responder = asyncio.create_task(
                sts_responder(
                    bob.env(), session.peer, session.rtcp, out.media.ssrc, session.outgoing.ssrc
                )
            )
            done_i, master_i, at_i = await sts_initiator(
                alice.env(),
                BOB,
                out.rtcp,
                out.peer_rtcp,
                out.media.ssrc,
                lambda: out.media.next_index,
            )
            done_r, master_r, at_r = await responder
            assert (done_i.peer, done_r.peer) == (BOB, ALICE)
            assert master_i == master_r and at_i == at_r
            assert master_i != session.media.master  # a fresh key, not derived from MIKEY's
            out.media.srtp.rekey(master_i, at_i)
            session.media.rekey(master_r, at_r)
            await out.media.play(second, pace=0.005)
            await session.media.wait_for(len(packets))
        finally:
            await alice.close()
            await bob.close()
            await server.close()

        sent_pcma = b"".join(p.payload for p in packets)
        assert session.media.payload() == sent_pcma
        # packets after the switch really were under the new key: the old one cannot open them
        late = out.media.sent[-1]
        old = SrtpReceiver(session.media.master, out.media.ssrc)
        assert old.receive(late) is None
        heard = tmp_path / "heard.wav"
        session.media.write_wav(heard)
        assert read_wav(str(heard)) == g711.decode(sent_pcma)

    asyncio.run(main())


@pytest.mark.parametrize("answer", ["none", "tampered"])
def test_caller_refuses_an_answer_without_a_valid_r_message(
    world: World, answer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 3830 mutual authentication on the call path: the offer asks for an R_MESSAGE (V
    flag); a callee that sends none, or a wrong one, does not get the call."""
    genuine = phone_module.r_message

    def fake(bindings: object, offer_key: bytes, now: float) -> bytes | None:
        r = genuine(bindings, offer_key, now)  # type: ignore[arg-type]
        assert r is not None  # the caller asked for one
        return None if answer == "none" else r[:-1] + bytes([r[-1] ^ 1])

    monkeypatch.setattr(phone_module, "r_message", fake)

    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                await p.connect(server.address)
                assert await p.register()
            answering = asyncio.create_task(bob.answer())
            with refused({"none": Check.REQUIRED, "tampered": Check.MAC}[answer], CryptoError):
                await alice.call(BOB)
            assert isinstance(await answering, IncomingSession)
            assert len(alice.sockets) == 0  # the call's RTP/RTCP ports were released
        finally:
            await alice.close()
            await bob.close()
            await server.close()

    asyncio.run(main())
