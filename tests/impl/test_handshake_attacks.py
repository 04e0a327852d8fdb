"""The paper's flaws reproduced concretely by a network intruder, and stopped by hardening.

Each test plays the attack of the spec module's narration with real cryptography: the
intruder Eve is a registered subscriber and holds only her own private key.
"""

from __future__ import annotations

import pytest

from ethvoip.attacks import splice
from ethvoip.attacks.intruder import Intruder
from ethvoip.attacks.replay import outcome, replay
from ethvoip.impl import wire
from ethvoip.impl.crypto import IdentityKey, encrypt_to, seeded_rng
from ethvoip.impl.handshake import Completed, ReplayCache, RoleMachine, State
from ethvoip.impl.handshake import mikey as mikey_impl
from ethvoip.impl.media.bare_key import encode_bare_key
from ethvoip.impl.media.mikey import CryptoSession
from ethvoip.impl.media.mikey_identity import SIG_LEN, ecdsa_signer, ecies_envelope
from ethvoip.impl.media.mikey_pk import build_i_message
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import Check, CryptoError, RemoteProtocolError, ReplayError
from tests.impl.handshake_helpers import ALICE, BOB, EVE, World, sent
from tests.refusals import refused


def _intruder(w: World) -> Intruder:
    return Intruder({EVE: w.keys[EVE]}, rng=seeded_rng(b"eve"))


# --- psk_handshake: Lowe's man-in-the-middle, extended to Ks ------------------------------


def _lowe(variant: str) -> tuple[World, Intruder, RoleMachine, RoleMachine]:
    """Alice calls Eve; Eve replays Alice's messages to Bob as if she were Alice."""
    w = World()
    eve = _intruder(w)
    pk_b = w.keys[BOB].public_key
    alice = w.machine("psk_handshake", variant, "I", ALICE, B=EVE)
    bob = w.machine("psk_handshake", variant, "R", BOB)
    [m1] = sent(alice.start())  # {N1, A}pk(E)
    [m2] = sent(bob.receive(eve.reseal(m1, Tag.PSK_1, Tag.PSK_1_BODY, as_=EVE, to=pk_b)))
    m3, m4 = sent(alice.receive(m2))  # Alice takes Bob's {N1, N2}pk(A) for Eve's answer
    assert sent(bob.receive(eve.reseal(m3, Tag.PSK_3, Tag.PSK_3_BODY, as_=EVE, to=pk_b))) == []
    bob.receive(eve.reseal(m4, Tag.PSK_4, Tag.PSK_4_BODY, as_=EVE, to=pk_b))
    return w, eve, alice, bob


def test_lowe_attack_on_paper_psk_handshake() -> None:
    _, eve, _, bob = _lowe("paper")
    done = bob.transcript[-1]
    assert isinstance(done, Completed)
    assert done.peer == ALICE  # Bob believes he shares Ks with Alice ...
    assert done.session_key in eve.learned  # ... and Eve knows Ks


def test_lowe_attack_stopped_by_hardened_i3() -> None:
    w = World()
    eve = _intruder(w)
    alice = w.machine("psk_handshake", "hardened", "I", ALICE, B=EVE)
    bob = w.machine("psk_handshake", "hardened", "R", BOB)
    [m1] = sent(alice.start())
    fwd = eve.reseal(m1, Tag.PSK_1, Tag.PSK_1_BODY, as_=EVE, to=w.keys[BOB].public_key)
    [m2] = sent(bob.receive(fwd))
    # Lowe's fix: message 4 names Bob, Alice is talking to Eve
    with refused(Check.IDENTITY_BINDING, RemoteProtocolError):
        alice.receive(m2)
    assert alice.state is State.FAILED
    assert bob.state is State.WAITING  # Bob never gets N2 back
    assert bob.bindings["N2"] not in eve.learned  # and Eve never learns it


def test_cross_session_splice() -> None:
    """Alice's signed Ks from her session with Eve, spliced into Bob's session as Alice.

    The scenario lives in :mod:`ethvoip.attacks.splice` (not repeated here): on paper, the
    hand-written three-run trace replayed on the machines ends with Bob accepting Ks#1,
    which Eve knows; on hardened, even with Bob's N2 granted to Eve, Bob's R_5 refuses the
    spliced signature (it names B, N1 and N2 of Alice's session with Eve).
    """
    paper = replay(splice.splice_trace())
    done = paper.completed(2)  # Bob's run
    assert done is not None and done.peer == ALICE and outcome(paper).reproduced
    blocked, why, lines, checks = splice.hardened_attempt()
    assert blocked, why
    assert checks == (Check.SIGNATURE,)
    assert lines[-1].label == "R_5" and "REJECTS" in lines[-1].text


def test_intruder_cannot_open_or_sign_without_the_key() -> None:
    w = World()
    eve = _intruder(w)
    alice = w.machine("psk_handshake", "paper", "I", ALICE, B=BOB)
    [m1] = sent(alice.start())
    assert eve.try_open(m1, Tag.PSK_1, Tag.PSK_1_BODY) is None
    with pytest.raises(CryptoError):
        eve.open(m1, Tag.PSK_1, Tag.PSK_1_BODY, as_=EVE)
    with pytest.raises(Exception, match="no private key"):
        eve.sign(ALICE, b"t", b"m")


# --- mikey_key_transport: key substitution -----------------------------------------------


def test_key_substitution_on_paper_mikey() -> None:
    w = World()
    bob = w.machine("mikey_key_transport", "paper", "R", BOB)
    bob.start()
    k_eve = seeded_rng(b"eve's key")(30)
    bob.receive(wire.encode(Tag.MIKEY_INVITE, ALICE, BOB))
    # a=k: needs only Bob's public key, which anyone can look up
    seal = lambda m: encrypt_to(w.keys[BOB].public_key, m, rng=seeded_rng(b"eve"))  # noqa: E731
    bob.receive(encode_bare_key(k_eve, seal).encode())
    done = bob.transcript[-1]
    assert isinstance(done, Completed)
    assert (done.peer, done.session_key) == (ALICE, k_eve)


def _hardened_invite(w: World) -> tuple[bytes, bytes]:
    alice = w.machine("mikey_key_transport", "hardened", "I", ALICE, B=BOB)
    invite, i_message = sent(alice.start())
    return invite, i_message


def test_key_substitution_stopped_by_signi() -> None:
    w = World()
    bob = w.machine("mikey_key_transport", "hardened", "R", BOB)
    bob.start()
    bob.receive(wire.encode(Tag.MIKEY_INVITE, ALICE, BOB))
    # Eve builds a well-formed RFC 3830 I_MESSAGE for her key, naming Alice as IDi and
    # signing with the only key she holds
    forged = build_i_message(
        tgk=seeded_rng(b"eve's tgk")(32),
        env_key=seeded_rng(b"eve's env")(32),
        rand=seeded_rng(b"eve's rand")(16),
        now=w.clock.now,
        csb_id=7,
        crypto_sessions=(CryptoSession(0, 0x1234, 0),),
        encrypt_envelope=ecies_envelope(w.keys[BOB].public_key, seeded_rng(b"eve")),
        sign=ecdsa_signer(w.keys[EVE]),
        sig_len=SIG_LEN,
        id_i=mikey_impl.mikey_id(ALICE),
        id_r=mikey_impl.mikey_id(BOB),
    )
    with pytest.raises(CryptoError):
        bob.receive(forged)
    assert bob.state is State.FAILED


def test_hardened_mikey_rejects_replay_and_stale_messages() -> None:
    w = World()
    invite, msg = _hardened_invite(w)

    def fresh_bob() -> RoleMachine:
        bob = w.machine("mikey_key_transport", "hardened", "R", BOB)
        bob.start()
        bob.receive(invite)
        return bob

    first = fresh_bob()
    first.receive(msg)
    assert first.state is State.DONE
    again = fresh_bob()
    with refused(Check.REPLAY, ReplayError):
        again.receive(msg)
    w.caches[BOB] = type(w.caches[BOB])()  # even with the cache lost ...
    w.clock.now += mikey_impl.FRESHNESS_WINDOW + 1  # ... a stale T is refused
    late = fresh_bob()
    with refused(Check.FRESHNESS, ReplayError):
        late.receive(msg)


def test_replay_cache_is_per_sender_and_bounded() -> None:
    """One sender's share full refuses only that sender; (T, RAND) values are the sender's
    own; a new sender beyond ``max_senders`` is refused, never an entry forgotten early."""
    cache = ReplayCache(horizon=100, per_sender=2, max_senders=2)
    cache.add((b"carol", b"t", b"r1"), 0)
    cache.add((b"carol", b"t", b"r2"), 0)
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        cache.make_room((b"carol", b"t", b"r3"), 1)
    assert (b"alice", b"t", b"r1") not in cache  # Carol's values say nothing about Alice
    cache.add((b"alice", b"t", b"r1"), 1)
    assert (b"alice", b"t", b"r1") in cache
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        cache.make_room((b"mallory", b"t", b"r"), 2)
    cache.add((b"mallory", b"t", b"r"), 101)  # Carol's entries left the horizon
    assert len(cache) == 2


def test_hardened_mikey_run_refused_when_the_senders_share_is_full() -> None:
    w = World()
    invite, msg = _hardened_invite(w)
    w.caches[BOB] = ReplayCache(per_sender=0)  # Alice's share holds nothing
    bob = w.machine("mikey_key_transport", "hardened", "R", BOB)
    bob.start()
    bob.receive(invite)
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        bob.receive(msg)
    assert len(w.caches[BOB]) == 0


def test_hardened_mikey_rejects_a_message_for_another_invite() -> None:
    w = World()
    _, msg = _hardened_invite(w)
    bob = w.machine("mikey_key_transport", "hardened", "R", BOB)
    bob.start()
    bob.receive(wire.encode(Tag.MIKEY_INVITE, EVE, BOB))  # the INVITE says Eve
    with refused(Check.IDENTITY_BINDING, RemoteProtocolError):
        bob.receive(msg)


# --- sts: Blake-Wilson-Menezes unknown key-share -----------------------------------------


def _bwm(variant: str) -> tuple[RoleMachine, RoleMachine]:
    """Eve registers Bob's public key as hers; Alice calls Eve; Eve relays to Bob as Alice."""
    w = World()
    w.directory.register(EVE, w.keys[BOB].public_key)  # no proof of possession
    alice = w.machine("sts", variant, "I", ALICE, B=EVE)
    bob = w.machine("sts", variant, "R", BOB, A=ALICE)  # B believes the call is from A
    [m1] = sent(alice.start())
    rec = wire.decode(m1, Tag.STS_1)
    [m2] = sent(bob.receive(wire.encode(Tag.STS_1, ALICE, BOB, rec["GX"])))
    [m3] = sent(alice.receive(m2))
    bob.receive(m3)
    return alice, bob


def test_unknown_key_share_on_paper_sts() -> None:
    alice, bob = _bwm("paper")
    done_a, done_b = alice.transcript[-1], bob.transcript[-1]
    assert isinstance(done_a, Completed) and isinstance(done_b, Completed)
    assert done_a.session_key == done_b.session_key  # one key ...
    assert (done_a.peer, done_b.peer) == (EVE, ALICE)  # ... two different beliefs


def test_unknown_key_share_stopped_by_hardened_i3() -> None:
    with refused(Check.IDENTITY_BINDING, RemoteProtocolError):
        _bwm("hardened")


def test_hardened_sts_rejects_a_signature_from_another_key() -> None:
    w = World()
    w.directory.register(BOB, IdentityKey.generate(seeded_rng(b"mallory")).public_key)
    alice = w.machine("sts", "hardened", "I", ALICE, B=BOB)
    bob = w.machine("sts", "hardened", "R", BOB, A=ALICE)
    [m1] = sent(alice.start())
    w.directory.register(BOB, w.keys[BOB].public_key)
    [m2] = sent(bob.receive(m1))
    with pytest.raises(CryptoError):
        alice.receive(m2)
