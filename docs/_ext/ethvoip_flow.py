"""The honest run of a protocol variant, as the rows of its message sequence chart.

A variant describes each role on its own; which send feeds which receive is not written
down.  To draw the chart we execute one run of every role with honest agents and no
intruder: sends put ground messages on the wire, a receive takes the earliest message from
another role that matches its pattern (with :func:`ethvoip.spec.terms.match`, so the chart
pairs steps exactly as the spec's own matching does), a look-up binds ``pk(name)``.  Roles run
greedily in order until they block, then the next role that can move takes over.

If the honest run cannot finish (a receive that nothing matches), the chart still shows every
step, with the stuck ones as boxes, and :attr:`Flow.complete` is false: a protocol whose honest
participants cannot talk to each other is a bug in its spec, and the docs build says so.  A
message that no role receives (a last call to the chain, say) is drawn to a ``(network)``
lifeline and is not a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ethvoip.spec.protocol import Lookup, Recv, Role, Send, Variant
from ethvoip.spec.terms import Atom, Pk, Sort, Term, Var, match, substitute
from ethvoip_notation import notation
from msc import Event


@dataclass
class Row:
    """One chart row: a message (``dst_role`` set), a look-up, or a step that did not run.

    ``covers`` lists ``(role, step index)`` of every step the row stands for (a message row
    stands for its send and its receive); rows are ordered so that each role's steps appear in
    program order.
    """

    kind: str  # "message" | "lookup" | "unreceived" | "stuck" | "not reached"
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


@dataclass
class _Run:
    role: Role
    env: dict[Var, Term]
    fresh: dict[Any, Term]  # Fresh -> Atom (Mapping keys are invariant, see substitute)
    pc: int = 0

    def ground(self, t: Term) -> Term:
        return substitute(substitute(t, self.fresh), self.env)

    @property
    def done(self) -> bool:
        return self.pc >= len(self.role.steps)


@dataclass
class _Wire:
    sender: str
    term: Term
    row: Row
    taken: bool = False


def honest_run(v: Variant) -> Flow:
    """Execute one honest run of every role of ``v`` and return the chart rows."""
    agents: dict[Var, Term] = {}
    for r in v.roles:
        for x in (r.agent, *r.params):
            if x.sort is Sort.AGENT and x not in agents:
                agents[x] = Atom(x.name.lower(), Sort.AGENT)
    runs = [
        _Run(r, dict(agents), {f: Atom(f"{r.name}.{f.name}", f.sort) for f in r.fresh})
        for r in v.roles
    ]
    flow = Flow()
    wire: list[_Wire] = []

    def ready(run: _Run) -> bool:
        if run.done:
            return False
        step = run.role.steps[run.pc]
        return not isinstance(step, Recv) or _find(run, step, wire) is not None

    current = 0
    while True:
        run = runs[current]
        while ready(run):
            _advance(run, wire, flow)
        waiting = [i for i in range(len(runs)) if ready(runs[i])]
        if not waiting:
            break
        # the next role after the current one, cyclically, that can move
        current = min(waiting, key=lambda i: (i - current) % len(runs))

    for w in wire:
        if not w.taken:
            w.row.kind = "unreceived"
    for run in runs:
        for k, step in enumerate(run.role.steps[run.pc :], start=run.pc):
            kind = "stuck" if k == run.pc else "not reached"
            text = notation(step.pattern) if isinstance(step, Recv) else ""
            row = Row(
                kind, run.role.name, step.label, f"{kind}: {text}".strip(), [(run.role.name, k)]
            )
            flow.rows.append(row)
            if kind == "stuck":
                flow.problems.append(f"{step.label}: no message matches {text}")
    flow.rows = _program_order(flow.rows)
    return flow


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


def _find(run: _Run, step: Recv, wire: list[_Wire]) -> tuple[_Wire, dict[Var, Term]] | None:
    pattern = substitute(step.pattern, run.fresh)
    for w in wire:
        if w.taken or w.sender == run.role.name:
            continue
        env = match(pattern, w.term, run.env)
        if env is not None:
            return w, env
    return None


def _advance(run: _Run, wire: list[_Wire], flow: Flow) -> None:
    step = run.role.steps[run.pc]
    where = (run.role.name, run.pc)
    run.pc += 1
    match step:
        case Lookup(label, name, key):
            run.env[key] = Pk(run.ground(name))
            text = f"{notation(key)} := look-up({notation(name)})"
            flow.rows.append(Row("lookup", run.role.name, label, text, [where]))
        case Send(label, term):
            row = Row("message", run.role.name, label, notation(term), [where])
            flow.rows.append(row)
            wire.append(_Wire(run.role.name, run.ground(term), row))
        case Recv():
            found = _find(run, step, wire)
            assert found is not None  # ready() checked it
            w, env = found
            w.taken = True
            w.row.dst_role, w.row.dst_label = run.role.name, step.label
            w.row.covers.append(where)
            run.env = env


def chart_events(v: Variant, flow: Flow) -> tuple[list[str], list[Event]]:
    """The lifelines and events of :func:`msc.render_msc` for ``flow``."""
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
