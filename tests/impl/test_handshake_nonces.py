"""psk_handshake's nonce checks, each on its own: a message the intruder builds correctly for
the right recipient, differing from the honest one only in the nonce, is refused at that step
(encrypted to the victim, so nothing else can refuse it)."""

from __future__ import annotations

import pytest

from ethvoip.impl import wire
from ethvoip.impl.crypto import encrypt_to
from ethvoip.impl.handshake import State
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import RemoteProtocolError
from tests.impl.handshake_helpers import ALICE, BOB, World, sent


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
