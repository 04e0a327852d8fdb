"""Handshake checks, each on its own: a message built correctly for the right recipient that
differs from the honest one only in what one check looks at is refused by that check (the
psk_handshake nonces, the MIKEY INVITE's callee, the a=k: encoding, the crypto sessions)."""

from __future__ import annotations

import dataclasses

import pytest

from ethvoip.impl import wire
from ethvoip.impl.crypto import encrypt_to
from ethvoip.impl.handshake import State, create
from ethvoip.impl.handshake import mikey as hs_mikey
from ethvoip.impl.media import mikey_pk
from ethvoip.impl.media.mikey import CryptoSession, srtp_policy_aes_cm_128_hmac_sha1_80
from ethvoip.impl.media.mikey_identity import SIG_LEN, ecdsa_signer, ecies_envelope
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import CryptoError, DecodeError, LocalProtocolError, RemoteProtocolError
from tests.impl.handshake_helpers import ALICE, BOB, EVE, World, sent


def _sealed(w: World, to: str, outer: Tag, inner: bytes) -> bytes:
    ct = encrypt_to(w.keys[to].public_key, inner, aad=wire.aad(outer))
    return wire.encode(outer, ct)


@pytest.mark.parametrize("variant", ["paper", "hardened"])
def test_message_4_with_another_n1_is_refused(variant: str) -> None:
    w = World()
    a = w.machine("psk_handshake", variant, "I", ALICE, B=BOB)
    a.start()
    other_n1, n2 = b"\x11" * 32, b"\x22" * 32
    if variant == "hardened":
        inner = wire.encode(Tag.PSK_2_BODY_HARDENED, other_n1, n2, BOB)
    else:
        inner = wire.encode(Tag.PSK_2_BODY_PAPER, other_n1, n2)
    with pytest.raises(RemoteProtocolError, match="N1 in message 4"):
        a.receive(_sealed(w, ALICE, Tag.PSK_2, inner))
    assert a.state is State.FAILED


@pytest.mark.parametrize("variant", ["paper", "hardened"])
def test_message_5_with_another_n2_is_refused(variant: str) -> None:
    w = World()
    a = w.machine("psk_handshake", variant, "I", ALICE, B=BOB)
    b = w.responder("psk_handshake", variant, BOB, ALICE)
    b.receive(sent(a.start())[0])
    other_n2 = b"\x33" * 32
    message_5 = _sealed(w, BOB, Tag.PSK_3, wire.encode(Tag.PSK_3_BODY, other_n2))
    with pytest.raises(RemoteProtocolError, match="N2 in message 5"):
        b.receive(message_5)


@pytest.mark.parametrize("variant", ["paper", "hardened"])
def test_an_invite_for_another_callee_is_refused(variant: str) -> None:
    w = World()
    b = w.responder("mikey_key_transport", variant, BOB, ALICE)
    b.start()
    with pytest.raises(RemoteProtocolError, match="INVITE addressed"):
        b.receive(wire.encode(Tag.MIKEY_INVITE, ALICE, EVE))


def test_paper_key_attribute_must_be_upper_case_hex() -> None:
    w = World()
    a = w.machine("mikey_key_transport", "paper", "I", ALICE, B=BOB)
    b = w.responder("mikey_key_transport", "paper", BOB, ALICE)
    invite, key = sent(a.start())
    b.start()
    b.receive(invite)
    assert key == key.upper() and key != key.lower()
    with pytest.raises(DecodeError, match="upper-case"):
        b.receive(key.lower())


def test_hardened_i_message_must_carry_exactly_one_crypto_session() -> None:
    w = World()
    b = w.responder("mikey_key_transport", "hardened", BOB, ALICE)
    b.start()
    b.receive(wire.encode(Tag.MIKEY_INVITE, ALICE, BOB))
    two = (CryptoSession(0, 0x1111, 0), CryptoSession(0, 0x2222, 0))
    message = mikey_pk.build_i_message(
        tgk=b"\x07" * 32,
        env_key=b"\x08" * 32,
        rand=b"\x09" * 16,
        now=w.clock(),
        csb_id=0xC0FFEE,
        crypto_sessions=two,
        encrypt_envelope=ecies_envelope(w.keys[BOB].public_key),
        sign=ecdsa_signer(w.keys[ALICE]),
        sig_len=SIG_LEN,
        id_i=hs_mikey.mikey_id(ALICE),
        id_r=hs_mikey.mikey_id(BOB),
        policies=(srtp_policy_aes_cm_128_hmac_sha1_80(),),
        v_flag=True,
    )
    with pytest.raises(DecodeError, match="exactly one crypto session"):
        b.receive(message)


def test_srtp_master_of_a_run_without_a_key_is_refused() -> None:
    for variant in ("paper", "hardened"):
        with pytest.raises(LocalProtocolError, match="no key"):
            hs_mikey.srtp_master(variant, {})


@pytest.mark.parametrize("variant", ["paper", "hardened", "unbound"])
def test_sts_message_1_for_another_callee_is_refused(variant: str) -> None:
    w = World()
    b = w.responder("sts", variant, BOB, ALICE)
    b.start()
    gx = b"\x01" * 32  # an X25519 public value
    with pytest.raises(RemoteProtocolError, match="call addressed"):
        b.receive(wire.encode(Tag.STS_1, ALICE, EVE, gx))


@pytest.mark.parametrize("variant", ["paper", "hardened"])
@pytest.mark.parametrize("wrong", ["responder", "initiator"])
def test_sts_signature_by_a_key_other_than_the_registered_one_is_refused(
    variant: str, wrong: str
) -> None:
    # Everything else honest: the one party signs with Eve's key instead of its registered one.
    w = World()
    env_a, env_b = w.env(ALICE), w.env(BOB)
    if wrong == "responder":
        env_b = dataclasses.replace(env_b, key=w.keys[EVE])
    else:
        env_a = dataclasses.replace(env_a, key=w.keys[EVE])
    a = create("sts", variant, "I", env_a, B=BOB)
    b = create("sts", variant, "R", env_b, A=ALICE)
    message_2 = sent(b.receive(sent(a.start())[0]))[0]
    if wrong == "responder":
        with pytest.raises(CryptoError):
            a.receive(message_2)
        return
    message_3 = sent(a.receive(message_2))[0]
    with pytest.raises(CryptoError):
        b.receive(message_3)
