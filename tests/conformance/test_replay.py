"""Every committed model trace of the handshakes replayed on the concrete role machines.

Conformance mode: each step's concrete message, mapped back to a term with the replay's
exact naming, equals the trace's term, and the claim's outcome happens on the code.
Strategy mode: each paper attack's strategy against the hardened machines is rejected at the
step the spec's semantics predicts (:mod:`ethvoip.attacks.predict`), by the check named
below (read off the hardened handlers' documented checks, not off a run).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ethvoip.attacks.predict import predict_rejection
from ethvoip.attacks.replay import outcome, replay
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import (
    Check,
    ConformanceError,
    CryptoError,
    DecodeError,
    Refused,
    RemoteProtocolError,
)
from ethvoip.spec.terms import Atom, Sk, Sort
from ethvoip.spec.trace import Trace

TRACES = Path(__file__).resolve().parents[1] / "traces"
HANDSHAKES = ("psk_handshake", "mikey_key_transport", "sts")


def _intruder_computes_dh(p: Path) -> bool:
    """The concrete intruder has no Diffie-Hellman or STS-AEAD rules (``exp``, ``senc``): the
    re-key hijack it would need them for runs on real sockets in attacks/sts_rekey_hijack."""
    text = p.read_text()
    return '"rule": "exp"' in text or '"rule": "senc"' in text


ALL = sorted(
    p
    for p in TRACES.glob("*.json")
    if p.stem.split(".")[0] in HANDSHAKES and not _intruder_computes_dh(p)
)
PAPER_ATTACKS = [p for p in ALL if ".paper." in p.name and not p.stem.endswith("honest")]

#: protocol -> claim prefix -> (error type, message fragment): the hardened check expected.
#: psk I_3: Lowe's fix (message 4 names the responder).  sts I_3: B's signature covers
#: both names (I_* attacks: the names differ) or B's name inside the ciphertext is not the
#: one A called (R_* attacks).  mikey R_3: the paper's a=k: value is not an RFC 3830
#: I_MESSAGE at all (the forged-SIGNi adaptation is tests/attacks').
HARDENED_CHECK: dict[tuple[str, str], tuple[type[Exception], Check]] = {
    ("psk_handshake", "R"): (RemoteProtocolError, Check.IDENTITY_BINDING),
    ("mikey_key_transport", "R"): (DecodeError, Check.DECODE),
    ("sts", "I"): (CryptoError, Check.SIGNATURE),
    ("sts", "R"): (RemoteProtocolError, Check.IDENTITY_BINDING),
}


def _load(p: Path) -> Trace:
    return tracefmt.load(p)


def test_all_handshake_traces_are_covered() -> None:
    assert len(ALL) == 24 and len(PAPER_ATTACKS) == 14
    skipped = sorted(p.stem for p in TRACES.glob("sts.*.json") if _intruder_computes_dh(p))
    assert skipped == ["sts.unbound.R_agree", "sts.unbound.R_dialog", "sts.unbound.R_secret_K"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_trace_replays_step_by_step_on_the_code(path: Path) -> None:
    t = _load(path)
    r = replay(t)
    assert [(s.label, s.action) for s in r.steps] == [(e.label, e.action) for e in t.events]
    assert [s.term for s in r.steps] == [e.term for e in t.events]
    result = outcome(r)
    assert result.reproduced, result.summary


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_fresh_atoms_name_exactly_the_values_the_runs_drew(path: Path) -> None:
    t = _load(path)
    r = replay(t)
    for run in t.runs:
        m = r.machines[run.id]
        for f in m.role.fresh:
            if f.name in m.bindings:
                assert r.naming.value(Atom(f"{f.name}#{run.id}", f.sort)) == m.bindings[f.name]


@pytest.mark.parametrize("path", PAPER_ATTACKS, ids=lambda p: p.stem)
def test_paper_strategy_is_rejected_by_hardened_where_predicted(path: Path) -> None:
    t = _load(path)
    predicted = predict_rejection(t, "hardened")
    assert predicted is not None, "the spec says hardened accepts the whole strategy"
    assert predict_rejection(t, "paper") is None  # and the paper accepts it all
    r = replay(t, variant="hardened")
    assert r.rejection is not None
    assert (r.rejection.run, r.rejection.label) == (predicted.run, predicted.label)
    family, check = HARDENED_CHECK[(t.protocol, t.claim[0] if t.claim else "")]
    err = r.rejection.error
    assert isinstance(err, family), r.rejection.describe()
    assert isinstance(err, Refused) and err.check is check, r.rejection.describe()
    assert not outcome(r).reproduced


# --- the replay can fail ---------------------------------------------------------------


def _lowe() -> Trace:
    return _load(TRACES / "psk_handshake.paper.R_secret_Ks.json")


def test_a_trace_term_the_code_does_not_produce_is_a_mismatch() -> None:
    t = _lowe()
    i = next(i for i, e in enumerate(t.events) if e.action == "send" and e.label == "R_3")
    wrong = t.events[i - 1].term  # some other message
    events = list(t.events)
    events[i] = dataclasses.replace(events[i], term=wrong)
    with pytest.raises(ConformanceError, match="R_3"):
        replay(dataclasses.replace(t, events=tuple(events)))


def test_the_intruder_cannot_use_a_key_it_does_not_hold() -> None:
    t = _lowe()
    i = next(i for i, e in enumerate(t.events) if e.derivation is not None)

    def steal(d: Derivation) -> Derivation:
        if d.term == Sk(Atom("e", Sort.AGENT)):
            return dataclasses.replace(d, term=Sk(Atom("a", Sort.AGENT)))
        return dataclasses.replace(d, premises=tuple(steal(p) for p in d.premises))

    events = list(t.events)
    d = events[i].derivation
    assert d is not None
    events[i] = dataclasses.replace(events[i], derivation=steal(d))
    with pytest.raises(ConformanceError, match="no private key"):
        replay(dataclasses.replace(t, events=tuple(events)))


def test_an_honest_trace_with_a_swapped_step_order_is_refused() -> None:
    t = _load(TRACES / "sts.paper.honest.json")
    events = list(t.events)
    recv = next(i for i, e in enumerate(events) if e.action == "recv")
    events[recv], events[recv + 1] = events[recv + 1], events[recv]
    with pytest.raises(ConformanceError):
        replay(dataclasses.replace(t, events=tuple(events)))


def test_replays_are_deterministic() -> None:
    a, b = replay(_lowe()), replay(_lowe())
    assert [s.data for s in a.steps] == [s.data for s in b.steps]
