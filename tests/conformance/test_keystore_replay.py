"""Every keystore_registration model trace replayed against the real contracts.

Conformance: each step's concrete value (a pool transaction's calldata, the contract's
storage, the operator's transaction, an off-chain sealed message) maps back to the trace's
term exactly (:mod:`ethvoip.attacks.keystore_replay`).  Then the claim's outcome is checked
on chain: paper honest and hardened honest, the subscriber's key is the approved one; paper
``O_agree_key``, the key approved for the victim's number is not the victim's; paper
``O_secret_password``, the intruder, following the trace's derivation on what the chain
shows, computes the SIP password the operator provisioned, and the receipt it comes from is
readable from the contract.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ethvoip.attacks.credential_leak import scan
from ethvoip.attacks.keystore_replay import SALT, KeystoreReplay, replay
from ethvoip.impl.chain import identifier
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.terms import Atom, Pk, Sign, Sort, Term, Tup
from ethvoip.spec.trace import Trace

TRACES = Path(__file__).resolve().parents[1] / "traces"
ALL = sorted(TRACES.glob("keystore_registration.*.json"))


def _load(stem: str) -> Trace:
    return tracefmt.load(TRACES / f"keystore_registration.{stem}.json")


def _victim(r: KeystoreReplay) -> str:
    [s] = [run for run in r.trace.runs if run.role == "S"]
    return s.agent


def test_all_keystore_traces_are_covered() -> None:
    assert [p.stem.split(".", 1)[1] for p in ALL] == [
        "hardened.honest",
        "paper.O_agree_key",
        "paper.O_secret_password",
        "paper.honest",
    ]


@pytest.mark.parametrize("stem", ["paper.honest", "hardened.honest"])
def test_honest_run_approves_the_subscribers_key(stem: str) -> None:
    r = replay(_load(stem))
    s = r.world[_victim(r)]
    if r.paper is not None:
        assert r.paper.get_client(s.phone) == s.public_key
    else:
        assert r.keystore is not None
        assert r.keystore.lookup(identifier(s.phone, SALT)) == (s.public_key, 1)
        # the hardened password is random and sent sealed: it is nowhere on chain
        start = 0
        _, _, _, hits = scan(r.world, r.keystore.address, start, r.world.receipt_token("NP#1"))
        assert not hits
        assert r.provisioned[s.phone].encode() not in b"".join(c for c in _calldata(r) + _logs(r))


def _calldata(r: KeystoreReplay) -> list[bytes]:
    from ethvoip.attacks.chain_world import calldata_of

    assert r.keystore is not None
    return calldata_of(r.world.chain, r.keystore.address, 0)


def _logs(r: KeystoreReplay) -> list[bytes]:
    from ethvoip.attacks.chain_world import raw_logs

    assert r.keystore is not None
    return raw_logs(r.world.chain, r.keystore.address, 0)


def test_front_running_trace_gets_another_key_approved_for_the_victim() -> None:
    t = _load("paper.O_agree_key")
    r = replay(t)
    victim = r.world[_victim(r)]
    assert r.paper is not None
    approved = r.paper.get_client(victim.phone)
    assert approved != victim.public_key
    # ... and it is the key of the intruder's forged addClient (pk(b) in this trace)
    [forged] = [e for e in t.events if e.derivation is not None and e.label == "C_1"]
    assert isinstance(forged.term, Tup) and isinstance(forged.term.items[2], Pk)
    assert r.term_of(approved) == forged.term.items[2]


def test_password_trace_intruder_computes_the_provisioned_password_from_the_chain() -> None:
    t = _load("paper.O_secret_password")
    r = replay(t)
    assert t.violation is not None and t.violation.derivation is not None
    victim = r.world[_victim(r)]
    got = r.derive(t.violation.derivation)
    assert got == r.provisioned[victim.phone]
    # the receipt the password derives from is readable from the contract
    assert r.paper is not None
    token = r.paper.receipt_of(victim.phone)
    assert r.paper.approved(token)[2] == token and token in r.tokens


# --- the replay can fail ---------------------------------------------------------------


def test_a_term_the_chain_does_not_produce_is_a_mismatch() -> None:
    t = _load("paper.honest")
    events = list(t.events)
    i = next(i for i, e in enumerate(events) if e.label == "C_2")
    events[i] = dataclasses.replace(events[i], term=events[i - 1].term)
    with pytest.raises(ConformanceError, match="C_2"):
        replay(dataclasses.replace(t, events=tuple(events)))


def test_the_intruder_cannot_use_an_event_that_sent_nothing() -> None:
    t = _load("paper.O_agree_key")
    events = list(t.events)
    i = next(i for i, e in enumerate(events) if e.derivation is not None)

    def retarget(d: Derivation) -> Derivation:
        if d.rule == "observed":
            return dataclasses.replace(d, event=2)  # O_1: a receive, nothing sent
        return dataclasses.replace(d, premises=tuple(retarget(p) for p in d.premises))

    d = events[i].derivation
    assert d is not None
    events[i] = dataclasses.replace(events[i], derivation=retarget(d))
    with pytest.raises(ConformanceError, match="sent nothing"):
        replay(dataclasses.replace(t, events=tuple(events)))


def test_a_forged_key_that_is_the_victims_is_not_an_attack() -> None:
    """The same strategy with the victim's own key in the copy: the claim holds on chain."""
    t = _load("paper.O_agree_key")
    [s_run] = [run for run in t.runs if run.role == "S"]
    victim = Atom(s_run.agent, Sort.AGENT)

    def public_keys(d: Derivation) -> Derivation:
        # every public key the intruder uses, taken from the directory (it is public there)
        if isinstance(d.term, Pk) and isinstance(d.term.owner, Atom):
            return Derivation("pk", d.term, (Derivation("public", d.term.owner),))
        return dataclasses.replace(d, premises=tuple(public_keys(p) for p in d.premises))

    events = list(t.events)
    for i, e in enumerate(events):
        if e.derivation is not None and e.label == "C_1":
            term = e.term
            assert isinstance(term, Tup)
            new = Tup((*term.items[:2], Pk(victim), *term.items[3:]))
            forged = public_keys(e.derivation)
            events[i] = dataclasses.replace(e, term=new, derivation=_with_key(forged, victim))
        elif e.derivation is not None:
            events[i] = dataclasses.replace(e, derivation=public_keys(e.derivation))
        elif e.label in ("C_2", "O_3"):
            events[i] = dataclasses.replace(e, term=_swap_key(e.term, victim))
    r = replay(dataclasses.replace(t, events=tuple(events)))
    owner = r.world[_victim(r)]
    assert r.paper is not None
    assert r.paper.get_client(owner.phone) == owner.public_key


def _with_key(d: Derivation, a: Atom) -> Derivation:
    """The forged addClient call built with ``pk(a)`` as its key (item 2)."""
    assert d.rule == "tup" and isinstance(d.term, Tup)
    items = list(d.premises)
    items[2] = Derivation("pk", Pk(a), (Derivation("public", a),))
    term = Tup((*d.term.items[:2], Pk(a), *d.term.items[3:]))
    return Derivation("tup", term, tuple(items))


def _swap_key(term: Term, a: Atom) -> Term:
    assert isinstance(term, Sign) and isinstance(term.body, Tup)
    items = term.body.items
    return Sign(Tup((*items[:2], Pk(a), *items[3:])), term.key)
