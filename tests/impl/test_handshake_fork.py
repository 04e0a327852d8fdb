"""RoleMachine.fork: try a message on a copy; the original is untouched either way."""

from __future__ import annotations

import pytest

from ethvoip.impl.handshake import Sent, State
from ethvoip.spec.errors import EthVoipError

from .handshake_helpers import ALICE, BOB, World


def test_a_refused_fork_leaves_the_original_waiting_and_an_accepted_one_moves_alone() -> None:
    w = World()
    a = w.machine("psk_handshake", "hardened", "I", ALICE, B=BOB)
    b = w.responder("psk_handshake", "hardened", BOB, ALICE)
    first = next(e for e in a.start() if isinstance(e, Sent)).data
    b.start()
    bad = b.fork()
    with pytest.raises(EthVoipError):
        bad.receive(first[:-1])
    assert (bad.state, b.state) == (State.FAILED, State.WAITING)
    good = b.fork()
    good.receive(first)
    assert good.expecting == "R_4" and b.expecting == "R_1"
    assert "N1" in good.bindings and "N1" not in b.bindings
    assert len(good.transcript) > len(b.transcript)
