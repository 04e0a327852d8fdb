"""The conformance engine: a model trace walked on concrete code, event by event.

Every replay of a model trace does the same walk, whatever it runs on: take the events in
order, carry each one out on the code (a role machine's send or receive, a transaction on the
contract, an operator's step), map the concrete result back to a term and compare it with the
trace's, and keep what each send put on the network, because the intruder's later messages
are made from it: an ``observed`` leaf of a derivation is the value of that event, and a
receive with no derivation gets the latest earlier send of the same term (a forward).
:class:`TraceWalk` is that walk; a target says how one event is carried out
(:meth:`TraceWalk.event`).  The targets are the handshakes' role machines
(:mod:`ethvoip.attacks.replay`, which the attack scripts drive) and the key-store contracts
on the embedded chain (:mod:`ethvoip.attacks.keystore_replay`); the conformance tests drive
both.

``variant`` is the variant the code runs.  When it is the trace's (**conformance mode**)
every term must be the trace's; otherwise (**strategy mode**) the code runs another variant
under the trace's strategy and its terms are its own.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.terms import Term
from ethvoip.spec.trace import Trace, TraceEvent

V = TypeVar("V")  # what one send put on the network, as the target keeps it


def actor(trace: Trace, run: int) -> str:
    """Run ``run`` as the replays name it: ``a: R#1``."""
    r = trace.run(run)
    return f"{r.agent}: {r.role}#{r.id}"


class TraceWalk(Generic[V]):
    """Walk ``trace`` on code of ``variant``; a target implements :meth:`event`."""

    def __init__(self, trace: Trace, variant: str) -> None:
        self.trace = trace
        self.variant = variant
        self.strict = variant == trace.variant
        self.sent: dict[int, V] = {}

    def event(self, i: int, ev: TraceEvent) -> bool:
        """Carry event ``i`` out on the code; ``False`` stops the walk there."""
        raise NotImplementedError

    def walk(self) -> None:
        for i, ev in enumerate(self.trace.events):
            if not self.event(i, ev):
                break

    # -- what every target uses ----------------------------------------------------------

    def mismatch(self, i: int, ev: TraceEvent, what: str) -> ConformanceError:
        return ConformanceError(
            f"{self.trace.protocol}/{self.variant} event {i} ({actor(self.trace, ev.run)} "
            f"{ev.action} {ev.label}): {what}"
        )

    def check_term(self, i: int, ev: TraceEvent, term: Term) -> None:
        """In conformance mode, the code's term of event ``i`` must be the trace's."""
        if self.strict and term != ev.term:
            raise self.mismatch(i, ev, f"the code's term is {term}, the trace's {ev.term}")

    def observed(self, index: int) -> V:
        """What the send of event ``index`` put on the network (an ``observed`` leaf)."""
        if index not in self.sent:
            raise ConformanceError(f"the intruder uses event {index}, which sent nothing")
        return self.sent[index]

    def forwarded(self, i: int, ev: TraceEvent) -> V:
        """What the latest earlier send whose (trace) term is the received term put out."""
        for j in range(i - 1, -1, -1):
            e = self.trace.events[j]
            if e.action == "send" and e.term == ev.term:
                return self.observed(j)
        raise self.mismatch(i, ev, "a message forwarded from nowhere")
