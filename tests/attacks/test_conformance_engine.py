"""The conformance engine's own checks, on a target that only echoes the trace's terms.

The two real targets (role machines, key-store contracts) are tested in tests/conformance;
here the walk itself: term comparison by mode, forwards, observations, stopping.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ethvoip.attacks.conformance import TraceWalk
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.terms import Atom, Sort, Term
from ethvoip.spec.trace import Trace, TraceEvent

TRACE = Path(__file__).resolve().parents[1] / "traces" / "psk_handshake.paper.honest.json"
OTHER = Atom("other", Sort.AGENT)


class Echo(TraceWalk[Term]):
    """Sends put the trace's term out; receives take the forward; ``wrong`` events differ."""

    def __init__(self, trace: Trace, variant: str, wrong: int = -1, stop: int = -1) -> None:
        super().__init__(trace, variant)
        self.wrong, self.stop = wrong, stop
        self.received: list[Term] = []

    def event(self, i: int, ev: TraceEvent) -> bool:
        term = OTHER if i == self.wrong else ev.term
        if ev.action == "recv":
            self.received.append(self.forwarded(i, ev))
        self.check_term(i, ev, term)
        if ev.action == "send":
            self.sent[i] = term
        return i != self.stop


def _trace() -> Trace:
    return tracefmt.load(TRACE)


def _first(t: Trace, action: str) -> int:
    return next(i for i, e in enumerate(t.events) if e.action == action)


def test_an_honest_walk_forwards_every_receive() -> None:
    t = _trace()
    w = Echo(t, t.variant)
    w.walk()
    assert w.received == [e.term for e in t.events if e.action == "recv"]
    assert w.observed(_first(t, "send")) == t.events[_first(t, "send")].term


def test_conformance_mode_refuses_another_term_and_strategy_mode_does_not() -> None:
    t = _trace()
    i = _first(t, "send")
    with pytest.raises(ConformanceError, match=f"event {i} .*the code's term is other"):
        Echo(t, t.variant, wrong=i).walk()
    Echo(t, "hardened", wrong=i).walk()


def test_a_receive_no_send_produced_is_a_forward_from_nowhere() -> None:
    t = _trace()
    i = _first(t, "recv")
    events = list(t.events)
    events[i] = dataclasses.replace(events[i], term=OTHER)
    with pytest.raises(ConformanceError, match="forwarded from nowhere"):
        Echo(dataclasses.replace(t, events=tuple(events)), t.variant).walk()


def test_an_observation_of_an_event_that_sent_nothing_is_refused() -> None:
    t = _trace()
    with pytest.raises(ConformanceError, match="sent nothing"):
        Echo(t, t.variant).observed(_first(t, "recv"))


def test_a_step_that_says_stop_ends_the_walk() -> None:
    t = _trace()
    i = _first(t, "send")
    w = Echo(t, t.variant, stop=i)
    w.walk()
    assert list(w.sent) == [i]
