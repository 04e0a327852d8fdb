"""A model trace as a message sequence chart (self-contained SVG, no external tools).

One lifeline per run (``a: I#1``) and, in the middle, one for the network, which the
intruder ``e`` controls: a run sends to the network, and receives from it either what an
honest run sent (forwarded) or what the intruder built (the event carries a derivation; drawn
in red).  The model lets one honest agent play several runs, of any roles: :func:`cast` says
who plays what, so that a chart where ``a`` is both operator and subscriber reads as such.
Labels are the spec's step labels, so the chart reads side by side with the protocol page
and the attack narration.  The drawing itself is :func:`ethvoip.spec.msc.render_msc`, the one
chart writer the protocol pages use too.
"""

from __future__ import annotations

from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import EthVoipError
from ethvoip.spec.msc import Event, render_msc
from ethvoip.spec.notation import notation
from ethvoip.spec.semantics import INTRUDER
from ethvoip.spec.trace import Trace

#: The lifeline of the network, which the intruder controls.
NETWORK = f"network / intruder {INTRUDER}"


def run_lane(trace: Trace, run_id: int) -> str:
    r = trace.run(run_id)
    return f"{r.agent}: {r.role}#{r.id}"


def trace_chart(trace: Trace) -> tuple[list[str], list[Event]]:
    """Lifelines and events of ``trace`` for :func:`render_msc`."""
    lanes = [run_lane(trace, r.id) for r in trace.runs]
    lanes.insert((len(lanes) + 1) // 2, NETWORK)
    events: list[Event] = []
    for ev in trace.events:
        mine = run_lane(trace, ev.run)
        text = notation(ev.term)
        if ev.action == "send":
            events.append(Event(mine, NETWORK, ev.label, text))
        elif ev.action == "recv":
            if ev.derivation is not None:
                events.append(
                    Event(NETWORK, mine, f"{ev.label} (built by the intruder)", text, "forged")
                )
            else:
                events.append(Event(NETWORK, mine, f"{ev.label} (forwarded)", text))
        elif ev.action == "reveal":
            events.append(Event(mine, NETWORK, "revealed (old session)", text, "forged"))
        else:
            events.append(Event(mine, mine, ev.label, f"look-up: {text}"))
    if trace.violation is not None:
        v = trace.violation
        mine = run_lane(trace, v.run)
        events.append(Event(mine, mine, f"{trace.claim or 'claim'} violated", v.explanation))
    return lanes, events


def caption(trace: Trace) -> str:
    what = f"attack on {trace.claim}" if trace.kind == "attack" else "honest run"
    return f"{trace.protocol} ({trace.variant}): {what}, {len(trace.runs)} runs"


def _role_title(trace: Trace, role: str) -> str:
    try:
        return CATALOGUE[trace.protocol].variant(trace.variant).role(role).title
    except (KeyError, EthVoipError):
        return ""  # a trace of a protocol or role this spec no longer has: name only


def cast(trace: Trace) -> str:
    """Who plays each run, with the role's title; says so when one agent plays several roles.

    ``a``, ``b`` are interchangeable honest agents in the model: nothing stops the solver from
    letting ``a`` run the operator *and* the subscriber.  The chart is truthful about it, and
    this line makes it explicit rather than leaving the reader to think it a drawing error.
    """
    # the world's honest agents are the directory's names other than the intruder's
    honest = [name for name in trace.directory if name != INTRUDER.name]
    parts = []
    for r in trace.runs:
        title = _role_title(trace, r.role)
        parts.append(f"{r.agent} plays {r.role}#{r.id}" + (f", {title}" if title else ""))
    text = "Runs: " + "; ".join(parts) + "."
    roles: dict[str, list[str]] = {}
    for r in trace.runs:
        if r.role not in roles.setdefault(r.agent, []):
            roles[r.agent].append(r.role)
    for agent, played in roles.items():
        if len(played) > 1:
            both = ", ".join(played[:-1]) + " and " + played[-1]
            text += (
                f" The same honest agent {agent} plays {both}: the model's world has"
                f" {len(honest)} honest agents ({', '.join(honest)}), interchangeable names,"
                " and lets one agent play several roles."
            )
    return text


def render(trace: Trace) -> str:
    """The trace as an SVG document (a string)."""
    lanes, events = trace_chart(trace)
    return render_msc(lanes, events, title=caption(trace))
