"""Honest runs of every handshake and variant, spec/table coverage, and the term mapping."""

from __future__ import annotations

import dataclasses

import pytest

from ethvoip.impl.handshake import (
    BINDINGS,
    IMPLEMENTED,
    SPECS,
    Completed,
    State,
    create,
    layout,
    psk,
)
from ethvoip.impl.handshake.binding import Binding, registry
from ethvoip.impl.handshake.machine import Event, RoleMachine, Run, Value, check_table
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import (
    ChainError,
    ConformanceError,
    EthVoipError,
    LocalProtocolError,
    MalformedProtocol,
    UnknownProtocol,
)
from ethvoip.spec.protocol import Lookup, Recv, Send
from ethvoip.spec.terms import Atom, G, Pk, Sort, Term, aenc, exp, tup
from tests.impl.handshake_helpers import ALICE, BOB, World, pump

CASES = sorted((p, v) for p, v, _ in IMPLEMENTED)


def test_every_spec_role_has_a_machine() -> None:
    wanted = {
        (p.name, v.name, r.name)
        for p in SPECS.values()
        for v in p.variants.values()
        for r in v.roles
    }
    assert wanted == set(IMPLEMENTED)


def test_the_registry_is_the_catalogues_handshakes_in_its_order() -> None:
    assert list(BINDINGS) == ["psk_handshake", "mikey_key_transport", "sts"]
    assert all(SPECS[name] is CATALOGUE[name] for name in BINDINGS)
    with pytest.raises(UnknownProtocol, match="nope"):
        registry([*BINDINGS.values(), Binding("nope", {}, {})])


def test_two_bindings_of_one_protocol_are_refused() -> None:
    # The registry is discovered from the package's modules (review of the issue 16 refactor):
    # a second module binding the same protocol (a copy left behind, a variant split out)
    # must not silently replace the first by module order.
    first = BINDINGS["psk_handshake"]
    second = dataclasses.replace(first, roles={})
    with pytest.raises(EthVoipError, match="psk_handshake"):
        registry([*BINDINGS.values(), second])


def test_every_sent_or_received_step_has_a_wire_layout() -> None:
    for spec in SPECS.values():
        for v in spec.variants.values():
            for r in v.roles:
                for step in r.steps:
                    if isinstance(step, Send | Recv):
                        layout(spec.name, v.name, step.label)  # ConformanceError if none
    with pytest.raises(ConformanceError, match="step I_1"):
        layout("psk_handshake", "paper", "I_1")  # a look-up: nothing on the wire


def test_a_missing_handler_is_caught_against_the_spec() -> None:
    table = dict(psk.INITIATOR.sends)
    del table["I_4"]
    broken = dataclasses.replace(psk.INITIATOR, sends=table)
    variant = SPECS["psk_handshake"].variant("paper")
    with pytest.raises(MalformedProtocol, match="I_4"):
        check_table("psk_handshake", variant, variant.role("I"), broken)


@pytest.mark.parametrize(("protocol", "variant"), sorted(set(CASES)))
def test_honest_run_agrees_on_the_key(protocol: str, variant: str) -> None:
    w = World()
    a = w.machine(protocol, variant, "I", ALICE, B=BOB)
    b = w.responder(protocol, variant, BOB, ALICE)
    pump(a, b)
    assert a.state is State.DONE and b.state is State.DONE
    done_a, done_b = a.transcript[-1], b.transcript[-1]
    assert isinstance(done_a, Completed) and isinstance(done_b, Completed)
    # the paper's a=k: carries the 30-byte SRTP master key || salt itself (Fig. 8)
    size = 30 if (protocol, variant) == ("mikey_key_transport", "paper") else 32
    assert done_a.session_key == done_b.session_key and len(done_a.session_key) == size
    assert (done_a.peer, done_b.peer) == (BOB, ALICE)
    # the labels executed are exactly the spec's, in the spec's order
    spec = SPECS[protocol].variant(variant)
    assert a.done_labels == spec.role("I").labels
    assert b.done_labels == spec.role("R").labels
    with pytest.raises(LocalProtocolError):
        b.receive(b"anything")


@pytest.mark.parametrize(("protocol", "variant"), sorted(set(CASES)))
def test_runs_with_the_same_seed_are_byte_identical(protocol: str, variant: str) -> None:
    def transcript() -> list[Event]:
        w = World(seed=b"replay")
        a, b = (
            w.machine(protocol, variant, "I", ALICE, B=BOB),
            w.responder(protocol, variant, BOB, ALICE),
        )
        pump(a, b)
        return a.transcript + b.transcript

    assert transcript() == transcript()


def test_unknown_peer_fails_the_lookup() -> None:
    w = World()
    a = w.machine("psk_handshake", "hardened", "I", ALICE, B="+0000")
    with pytest.raises(ChainError):
        a.start()
    assert a.state is State.FAILED


def test_create_checks_its_arguments() -> None:
    w = World()
    with pytest.raises(LocalProtocolError):
        create("psk_handshake", "paper", "I", w.env(ALICE))  # B missing
    with pytest.raises(LookupError):
        create("psk_handshake", "nope", "I", w.env(ALICE), B=BOB)


def _naming(w: World, a: object, b: object) -> dict[Value, Term]:
    """Atoms for the values of one run: agents, keys, and every fresh value by name."""
    names: dict[Value, Term] = {ALICE: Atom("a", Sort.AGENT), BOB: Atom("b", Sort.AGENT)}
    names[w.keys[ALICE].public_key] = Pk(Atom("a", Sort.AGENT))
    names[w.keys[BOB].public_key] = Pk(Atom("b", Sort.AGENT))
    return names


def test_term_of_maps_concrete_messages_to_the_spec_terms() -> None:
    w = World()
    a = w.machine("psk_handshake", "hardened", "I", ALICE, B=BOB)
    b = w.machine("psk_handshake", "hardened", "R", BOB)
    pump(a, b)
    names = _naming(w, a, b)
    n1 = Atom("N1#1", Sort.NONCE)
    names[a.bindings["N1"]] = n1
    # both ends see the same message 2 as the same term, written out by hand here
    expected = aenc(tup(n1, Atom("a", Sort.AGENT)), Pk(Atom("b", Sort.AGENT)))
    assert a.term_of("I_2", names.__getitem__) == expected
    assert b.term_of("R_1", names.__getitem__) == expected
    with pytest.raises(KeyError):  # N2 has no atom in this naming
        a.term_of("I_3", names.__getitem__)


def test_term_of_dh_values() -> None:
    from ethvoip.impl.crypto import DhKey

    w = World()
    a = w.machine("sts", "hardened", "I", ALICE, B=BOB)
    b = w.machine("sts", "hardened", "R", BOB, A=ALICE)
    pump(a, b)
    names = _naming(w, a, b)
    x, y = Atom("x#1", Sort.EXP), Atom("y#2", Sort.EXP)
    for secret, atom in ((a.bindings["x"], x), (b.bindings["y"], y)):
        assert isinstance(secret, bytes)
        names[secret] = atom
        names[DhKey.from_private_bytes(secret).public_bytes] = exp(G, atom)
    # the key both sides use is g^(x*y) in either order
    t_i = a.term_of("I_4", names.__getitem__)
    t_r = b.term_of("R_4", names.__getitem__)
    assert t_i == t_r
    assert t_i.key == exp(exp(G, x), y)  # type: ignore[union-attr]


def test_a_protocol_that_checks_freshness_refuses_to_run_without_a_clock() -> None:
    w = World()
    env = dataclasses.replace(w.env(ALICE), clock=None)
    a = create("mikey_key_transport", "hardened", "I", env, B=BOB)
    with pytest.raises(LocalProtocolError, match="clock"):
        a.start()


def test_handlers_read_bindings_only_at_their_sort() -> None:
    # A value bound under the wrong sort is a table bug: refused, never used as another sort.
    w = World()
    run = Run(
        w.env(ALICE), "hardened", {"N": b"\x01" * 32, "A": ALICE, "KA": w.keys[ALICE].public_key}
    )
    assert run.bytes_("N") == b"\x01" * 32 and run.name("A") == ALICE
    for read, var in ((run.bytes_, "A"), (run.bytes_, "KA"), (run.name, "N"), (run.pub, "N")):
        with pytest.raises(LocalProtocolError, match="is bound to"):
            read(var)


def test_every_table_mismatch_is_caught_against_the_spec() -> None:
    variant = SPECS["psk_handshake"].variant("paper")
    role = variant.role("I")
    recv = next(s for s in role.steps if isinstance(s, Recv))
    send = next(s for s in role.steps if isinstance(s, Send))
    any_send = next(iter(psk.INITIATOR.sends.values()))
    any_recv = next(iter(psk.INITIATOR.recvs.values()))
    no_recv = dict(psk.INITIATOR.recvs)
    del no_recv[recv.label]
    cases = [
        (dataclasses.replace(psk.INITIATOR, recvs=no_recv), role, "receive step has no handler"),
        (
            dataclasses.replace(psk.INITIATOR, sends={**psk.INITIATOR.sends, recv.label: any_send}),
            role,
            "not a send",
        ),
        (
            dataclasses.replace(psk.INITIATOR, recvs={**psk.INITIATOR.recvs, send.label: any_recv}),
            role,
            "not a recv",
        ),
    ]
    once_on_a_tuple = dataclasses.replace(
        recv, once=(tup(Atom("x", Sort.NONCE), Atom("y", Sort.NONCE)),)
    )
    steps = tuple(once_on_a_tuple if s is recv else s for s in role.steps)
    cases.append((psk.INITIATOR, dataclasses.replace(role, steps=steps), "non-variables"))
    for table, spec_role, message in cases:
        with pytest.raises(MalformedProtocol, match=message):
            check_table("psk_handshake", variant, spec_role, table)
    check_table("psk_handshake", variant, role, psk.INITIATOR)  # the real table passes


def test_a_machine_is_never_built_on_a_mismatched_table() -> None:
    variant = SPECS["psk_handshake"].variant("paper")
    table = dict(psk.INITIATOR.sends)
    del table["I_4"]
    broken = dataclasses.replace(psk.INITIATOR, sends=table)
    with pytest.raises(MalformedProtocol, match="I_4"):
        RoleMachine(
            "psk_handshake", variant, variant.role("I"), broken, World().env(ALICE), {"B": BOB}
        )


def test_term_of_a_step_not_yet_executed_is_refused() -> None:
    w = World()
    a = w.machine("psk_handshake", "paper", "I", ALICE, B=BOB)
    a.start()
    done = a.done_labels
    later = next(
        label
        for label in SPECS["psk_handshake"].variant("paper").role("I").labels
        if label not in done
    )
    with pytest.raises(LocalProtocolError, match="not been executed"):
        a.term_of(later, lambda v: Atom("x", Sort.NONCE))


def test_a_machine_starts_once() -> None:
    a = World().machine("psk_handshake", "paper", "I", ALICE, B=BOB)
    a.start()
    with pytest.raises(LocalProtocolError):
        a.start()


def test_a_look_up_of_a_non_variable_is_a_malformed_protocol() -> None:
    variant = SPECS["psk_handshake"].variant("paper")
    role = variant.role("I")
    lookup = next(s for s in role.steps if isinstance(s, Lookup))
    constant = dataclasses.replace(lookup, name=Atom("b", Sort.AGENT))
    steps = tuple(constant if s is lookup else s for s in role.steps)
    broken = dataclasses.replace(role, steps=steps)
    m = RoleMachine("psk_handshake", variant, broken, psk.INITIATOR, World().env(ALICE), {"B": BOB})
    with pytest.raises(MalformedProtocol, match="non-variable"):
        m.start()
