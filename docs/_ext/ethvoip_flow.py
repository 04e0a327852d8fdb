"""The honest run of a protocol variant, as the rows of its message sequence chart.

The run itself is the spec's own executability check, :func:`ethvoip.spec.semantics.honest_run`
(one run per role between honest agents, every message delivered unchanged).  This module
only turns its events into chart rows: which send fed which receive (the first earlier,
undelivered send of the same message by another run, as the spec delivers it), the terms
in the roles' own notation, and an order in which every role's steps appear as it runs them.

If the honest run cannot finish, the chart shows every step as a box and
:attr:`Flow.problems` says why: a protocol whose honest participants cannot talk to each other
is a bug in its spec, and the docs build says so.  A message that no role receives (a last call
to the chain, say) is drawn to a ``(network)`` lifeline and is not a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ethvoip.spec.errors import MalformedProtocol
from ethvoip.spec.msc import Event
from ethvoip.spec.notation import notation
from ethvoip.spec.protocol import Lookup, Recv, Role, Send, Step, Variant
from ethvoip.spec.semantics import HonestEvent, honest_run


@dataclass
class Row:
    """One chart row: a message (``dst_role`` set), a look-up, or a step that did not run.

    ``covers`` lists ``(role, step index)`` of every step the row stands for (a message row
    stands for its send and its receive); rows are ordered so that each role's steps appear in
    program order.
    """

    kind: str  # "message" | "lookup" | "unreceived" | "not run"
    src_role: str
    label: str
    text: str
    covers: list[tuple[str, int]]
    dst_role: str | None = None
    dst_label: str | None = None


@dataclass
class Flow:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every role ran to its last step (a message nobody receives is not a problem)."""
        return not self.problems


#: The lifeline that receives what no role receives (a final call to the chain, say).
NETWORK = "(network)"


def lane(role: Role) -> str:
    """The lifeline name of a role: its agent variable and role name, ``A (I)``."""
    return role.name if str(role.agent) == role.name else f"{role.agent} ({role.name})"


def step_text(step: Step) -> str:
    """What a chart shows for a step: the term as the role writes it."""
    match step:
        case Send(_, term):
            return notation(term)
        case Recv(_, pattern):
            return notation(pattern)
        case Lookup(_, name, key):
            return f"{notation(key)} := look-up({notation(name)})"


def honest_flow(v: Variant) -> Flow:
    """The chart rows of ``v``'s honest run."""
    try:
        events = honest_run(v)
    except MalformedProtocol as exc:
        out = Flow(problems=[str(exc)])
        for role in v.roles:
            for k, step in enumerate(role.steps):
                text = f"not run: {step_text(step)}"
                out.rows.append(Row("not run", role.name, step.label, text, [(role.name, k)]))
        return out
    rows: list[Row] = []
    pending: list[tuple[HonestEvent, Row]] = []
    for ev in events:
        role = v.role(ev.role)
        k = role.labels.index(ev.label)
        step = role.steps[k]
        if ev.action == "recv":
            # the spec delivers the first undelivered send of this message by another run
            i = next(
                i for i, (s, _) in enumerate(pending) if s.term == ev.term and s.run_id != ev.run_id
            )
            _, row = pending.pop(i)
            row.dst_role, row.dst_label = role.name, ev.label
            row.covers.append((role.name, k))
            continue
        row = Row(
            ev.action if ev.action == "lookup" else "message",
            role.name,
            ev.label,
            step_text(step),
            [(role.name, k)],
        )
        rows.append(row)
        if ev.action == "send":
            pending.append((ev, row))
    for _, row in pending:
        row.kind = "unreceived"
    return Flow(rows=_program_order(rows))


def _program_order(rows: list[Row]) -> list[Row]:
    """``rows`` reordered so that every role's steps appear in program order.

    A message row is drawn as one horizontal arrow, so it must come after every earlier step of
    both its sender and its receiver.  Among the rows that may come next, the one executed first
    wins.  Two roles that both send before receiving cannot be drawn with horizontal arrows;
    then the earliest remaining row is taken anyway.
    """
    done: dict[str, int] = {}
    todo = list(rows)  # already in execution order
    out: list[Row] = []
    while todo:
        pick = next(
            (r for r in todo if all(done.get(role, 0) == i for role, i in r.covers)), todo[0]
        )
        todo.remove(pick)
        out.append(pick)
        for role, i in pick.covers:
            done[role] = max(done.get(role, 0), i + 1)
    return out


def chart_events(v: Variant, flow: Flow) -> tuple[list[str], list[Event]]:
    """The lifelines and events of :func:`ethvoip.spec.msc.render_msc` for ``flow``."""
    lanes = {r.name: lane(r) for r in v.roles}
    events = []
    for row in flow.rows:
        src = lanes[row.src_role]
        if row.kind == "message" and row.dst_role is not None:
            label = f"{row.label} → {row.dst_label}"
            events.append(Event(src, lanes[row.dst_role], label, row.text))
        elif row.kind == "unreceived":
            events.append(Event(src, NETWORK, f"{row.label} → (no role)", row.text))
        else:
            events.append(Event(src, src, row.label, row.text))
    names = list(lanes.values())
    if any(e.dst == NETWORK for e in events):
        names.append(NETWORK)
    return names, events
