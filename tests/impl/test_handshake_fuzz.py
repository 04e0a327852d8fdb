"""Fuzzing every machine's input: only typed errors escape, and a rejection is final."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl import wire
from ethvoip.impl.handshake import IMPLEMENTED, SPECS, RoleMachine, State
from ethvoip.spec.errors import DecodeError, EthVoipError, LocalProtocolError
from ethvoip.spec.protocol import Recv
from tests.impl.handshake_helpers import ALICE, BOB, World, sent

RECV_POINTS = sorted(
    (p, v, r, step.label)
    for p, v, r in IMPLEMENTED
    for step in SPECS[p].variant(v).role(r).steps
    if isinstance(step, Recv)
)


def machine_at(protocol: str, variant: str, role: str, label: str) -> tuple[RoleMachine, bytes]:
    """An honest run stopped where ``role`` waits at ``label``, with the honest message."""
    w = World(seed=b"fuzz")
    a = w.machine(protocol, variant, "I", ALICE, B=BOB)
    b = w.responder(protocol, variant, BOB, ALICE)
    target = a if role == "I" else b
    b.start()
    queue = [(b, m) for m in sent(a.start())]
    while queue:
        dest, msg = queue.pop(0)
        if dest is target and dest.expecting == label:
            return target, msg
        reply_to = a if dest is b else b
        queue += [(reply_to, m) for m in sent(dest.receive(msg))]
    raise AssertionError(f"the honest run never reached {label}")


def mutations(honest: bytes) -> st.SearchStrategy[bytes]:
    n = len(honest)
    flip = st.integers(0, n * 8 - 1).map(
        lambda bit: (
            honest[: bit // 8] + bytes([honest[bit // 8] ^ (1 << bit % 8)]) + honest[bit // 8 + 1 :]
        )
    )
    return st.one_of(
        st.binary(max_size=300),
        flip,
        st.integers(0, n - 1).map(lambda k: honest[:k]),
        st.binary(min_size=1, max_size=8).map(lambda extra: honest + extra),
    )


def _check(machine: RoleMachine, label: str, data: bytes, honest: bytes) -> None:
    try:
        machine.receive(data)
    except EthVoipError:
        assert machine.state is State.FAILED
        with pytest.raises(LocalProtocolError):
            machine.receive(honest)
        return
    # accepted: only possible for a well-formed record that differs in an unauthenticated
    # part (a name or half-key sent in clear); the machine has moved past the label
    assert data != honest
    wire.decode(data)
    assert label in machine.done_labels


@pytest.mark.parametrize(("protocol", "variant", "role", "label"), RECV_POINTS)
@settings(max_examples=25)
@given(data=st.data())
def test_machine_input_fuzz(
    protocol: str, variant: str, role: str, label: str, data: st.DataObject
) -> None:
    machine, honest = machine_at(protocol, variant, role, label)
    bad = data.draw(mutations(honest))
    if bad == honest:
        return
    _check(machine, label, bad, honest)


@pytest.mark.parametrize(("protocol", "variant", "role", "label"), RECV_POINTS)
def test_random_bytes_are_always_rejected(
    protocol: str, variant: str, role: str, label: str
) -> None:
    machine, _ = machine_at(protocol, variant, role, label)
    with pytest.raises(DecodeError):
        machine.receive(b"\x00" * 40)
    assert machine.state is State.FAILED and isinstance(machine.error, DecodeError)


@pytest.mark.parametrize(("protocol", "variant", "role", "label"), RECV_POINTS)
def test_honest_message_is_accepted_at_its_point(
    protocol: str, variant: str, role: str, label: str
) -> None:
    # the control case of the fuzz: the unmodified message passes
    machine, honest = machine_at(protocol, variant, role, label)
    machine.receive(honest)
    assert machine.state in (State.WAITING, State.DONE)
