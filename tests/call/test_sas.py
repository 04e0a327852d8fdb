"""The short authentication string: RFC 6189's B32 rendering, the same string on both ends of
an honest call (real sockets, MIKEY at setup and STS at the re-key), and different strings
on the two ends when a man in the middle ran each exchange with a substituted key (the key
directory lied to both: every protocol check passes, only the SAS tells)."""

from __future__ import annotations

import asyncio

import pytest

from ethvoip.impl.call import IncomingSession
from ethvoip.impl.call.sas import ZBASE32, machine_sas, render_b32
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.impl.handshake import Env, RoleMachine, State, StaticDirectory, create
from ethvoip.impl.media.packetize import packetize
from ethvoip.spec.errors import LocalProtocolError
from tests.impl.handshake_helpers import Clock, pump

from .world import ALICE, BOB, EVE, World

# --- rendering (RFC 6189 section 5.1.6: leftmost 20 bits, 5 bits per z-base-32 character) ---


def test_b32_renders_the_leftmost_20_bits_in_z_base_32() -> None:
    assert ZBASE32 == "ybndrfg8ejkmcpqxot1uwisza345h769"  # z-base-32, as RFC 6189 names it
    assert render_b32(0) == "yyyy"
    assert render_b32(0xFFFFFFFF) == "9999"
    # characters 1..4 are bits 31-27, 26-22, 21-17, 16-12: put 1, 2, 3, 4 there
    assert render_b32((1 << 27) | (2 << 22) | (3 << 17) | (4 << 12)) == "bndr"
    assert render_b32(0xABCDE000) == render_b32(0xABCDEFFF)  # the low 12 bits are not shown
    with pytest.raises(LocalProtocolError):
        render_b32(1 << 32)


# --- an honest call: the same string on both phones ----------------------------------------


def test_honest_call_shows_the_same_sas_on_both_ends_at_setup_and_after_rekey(
    world: World,
) -> None:
    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                await p.connect(server.address)
                assert await p.register()
            answering = asyncio.create_task(bob.answer())
            out = await alice.call(BOB)
            session = await answering
            assert isinstance(session, IncomingSession)
            caller_sas, callee_sas = alice.sas(out), bob.sas(session)
            assert caller_sas == callee_sas and len(caller_sas) == 4
            assert set(caller_sas) <= set(ZBASE32)
            back = list(packetize([0] * 160 * 2, ssrc=session.outgoing.ssrc, seq=9))
            await session.outgoing.play(back, pace=0.001)
            await out.incoming.wait_for(2)
            r_caller, r_callee = await asyncio.gather(alice.rekey(out), bob.rekey(session))
            assert r_caller.sas == r_callee.sas
        finally:
            await alice.close()
            await bob.close()
            await server.close()

    asyncio.run(main())


# --- a man in the middle with substituted keys: different strings --------------------------

KEYS = {n: IdentityKey.generate(seeded_rng(f"sas {n}".encode())) for n in (ALICE, BOB, EVE)}


def _env(name: str, key_of: str, directory: dict[str, str], clock: Clock) -> Env:
    """``name``'s environment holding ``key_of``'s private key, with a directory mapping each
    number to the key of the agent named in ``directory``."""
    d = StaticDirectory({n: KEYS[holder].public_key for n, holder in directory.items()})
    return Env(name, KEYS[key_of], d, rng=seeded_rng(f"{name}/{key_of}".encode()), clock=clock)


def _mitm(protocol: str) -> tuple[RoleMachine, RoleMachine, RoleMachine, RoleMachine]:
    """Alice calls Bob; the directory Alice reads says Bob's key is Eve's, the one Bob reads
    says Alice's key is Eve's.  Eve answers Alice as "Bob" and calls Bob as "Alice"."""
    clock = Clock()
    honest = {ALICE: ALICE, BOB: BOB}
    alice = create(
        protocol, "hardened", "I", _env(ALICE, ALICE, {**honest, BOB: EVE}, clock), B=BOB
    )
    eve_as_bob = _peer(protocol, _env(BOB, EVE, honest, clock), ALICE)
    eve_as_alice = create(protocol, "hardened", "I", _env(ALICE, EVE, honest, clock), B=BOB)
    bob = _peer(protocol, _env(BOB, BOB, {**honest, ALICE: EVE}, clock), ALICE)
    pump(alice, eve_as_bob)
    pump(eve_as_alice, bob)
    return alice, eve_as_bob, eve_as_alice, bob


def _peer(protocol: str, env: Env, caller: str) -> RoleMachine:
    if protocol == "sts":  # the responder is bound to its dialog's peer
        return create(protocol, "hardened", "R", env, A=caller)
    return create(protocol, "hardened", "R", env)


@pytest.mark.parametrize("protocol", ["mikey_key_transport", "sts"])
def test_man_in_the_middle_with_substituted_keys_shows_different_strings(protocol: str) -> None:
    alice, eve_as_bob, eve_as_alice, bob = _mitm(protocol)
    # every check passed: the directory's lie is invisible to the protocol
    assert all(m.state is State.DONE for m in (alice, eve_as_bob, eve_as_alice, bob))
    alice_sas, bob_sas = machine_sas(alice, KEYS[ALICE]), machine_sas(bob, KEYS[BOB])
    assert alice_sas != bob_sas
    # what Eve can show each side is what that side already shows: no help to her
    assert machine_sas(eve_as_bob, KEYS[EVE]) == alice_sas
    assert machine_sas(eve_as_alice, KEYS[EVE]) == bob_sas


@pytest.mark.parametrize("protocol", ["mikey_key_transport", "sts"])
def test_honest_machines_agree_and_the_string_depends_on_the_keys(protocol: str) -> None:
    clock = Clock()
    honest = {ALICE: ALICE, BOB: BOB}
    a = create(protocol, "hardened", "I", _env(ALICE, ALICE, honest, clock), B=BOB)
    b = _peer(protocol, _env(BOB, BOB, honest, clock), ALICE)
    pump(a, b)
    assert machine_sas(a, KEYS[ALICE]) == machine_sas(b, KEYS[BOB])
    # the same run with the wrong own key stands for a substituted key: another string
    assert machine_sas(a, KEYS[EVE]) != machine_sas(a, KEYS[ALICE])


def test_no_sas_before_the_end_or_for_the_paper_key() -> None:
    clock = Clock()
    honest = {ALICE: ALICE, BOB: BOB}
    a = create("sts", "hardened", "I", _env(ALICE, ALICE, honest, clock), B=BOB)
    a.start()
    with pytest.raises(LocalProtocolError, match="finished"):
        machine_sas(a, KEYS[ALICE])
    p = create("mikey_key_transport", "paper", "I", _env(ALICE, ALICE, honest, clock), B=BOB)
    p.start()
    with pytest.raises(LocalProtocolError, match="a=k:"):
        machine_sas(p, KEYS[ALICE])
