"""Operational meaning of a protocol description: runs, instantiation, the honest run.

A *run* is one execution of one role by one agent.  Instantiating a role for run ``n``
binds its parameters to agent atoms and renames each fresh value ``X`` to the atom
``X#n``, so values from different runs never collide.  Executing a step either produces a
ground message (send), extends the run's bindings by matching (receive), or binds a
public key from the directory (look-up).

:func:`honest_run` is the executability check (Tamarin's exists-trace lemma, computed
directly on terms): one run per role, every message delivered unchanged to the first run
that accepts it; it must reach the end of every role.  A description in which honest agents
cannot finish would make every security verdict vacuous.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ethvoip.spec.errors import MalformedProtocol
from ethvoip.spec.protocol import Lookup, Recv, Role, Send, Step, Variant
from ethvoip.spec.terms import Atom, Pk, Sort, Term, Var, match, substitute, variables

#: The intruder's own name; honest agents are ``a``, ``b``, ``c`` ...
INTRUDER = Atom("e", Sort.AGENT)


def honest_agent(i: int) -> Atom:
    return Atom("abcdfghijk"[i], Sort.AGENT)


def fresh_atom(name: str, run: int) -> str:
    return f"{name}#{run}"


@dataclass
class Run:
    """A run in progress: its role, the bindings so far and how many steps it has done."""

    run_id: int
    role: Role
    actor: Atom
    bindings: dict[Term, Term] = field(default_factory=dict)
    done: int = 0

    @property
    def finished(self) -> bool:
        return self.done == len(self.role.steps)

    @property
    def next_step(self) -> Step | None:
        return None if self.finished else self.role.steps[self.done]

    def value(self, t: Term) -> Term:
        """``t`` under this run's bindings (fresh values renamed to this run's atoms)."""
        return substitute(t, self.bindings)


def start_run(role: Role, run_id: int, params: Mapping[Var, Atom]) -> Run:
    """Begin a run of ``role``: ``params`` binds every parameter (the actor among them)."""
    missing = [p.name for p in role.params if p not in params]
    if missing:
        raise MalformedProtocol(f"run {run_id} leaves parameters {missing} unbound", role=role.name)
    bindings: dict[Term, Term] = {p: params[p] for p in role.params}
    for f in role.fresh:
        bindings[f] = Atom(fresh_atom(f.name, run_id), f.sort)
    actor = params[role.agent]
    return Run(run_id, role, actor, bindings)


def send(run: Run) -> Term:
    """Execute the run's next step, which must be a send; return the ground message."""
    step = run.next_step
    assert isinstance(step, Send)
    run.done += 1
    return run.value(step.term)


def receive(run: Run, message: Term, *, untyped: bool = False) -> bool:
    """Try the run's next step (a receive) on ``message``; on a match, bind and advance.

    ``untyped``: variables bind terms of any sort (the receiver checks no types)."""
    step = run.next_step
    assert isinstance(step, Recv)
    env = {k: v for k, v in run.bindings.items() if isinstance(k, Var)}
    pattern = substitute(step.pattern, {k: v for k, v in run.bindings.items() if k not in env})
    got = match(pattern, message, env, untyped=untyped)
    if got is None:
        return False
    run.bindings.update(dict(got.items()))
    run.done += 1
    return True


def lookup(run: Run, directory: Mapping[Atom, Term]) -> Term:
    """Execute a look-up step against ``directory`` (name -> registered public key)."""
    step = run.next_step
    assert isinstance(step, Lookup)
    name = run.value(step.name)
    if not isinstance(name, Atom) or name not in directory:
        raise MalformedProtocol(f"look-up of unregistered name {name}", role=run.role.name)
    key = directory[name]
    run.bindings[step.key] = key
    run.done += 1
    return key


@dataclass(frozen=True)
class HonestEvent:
    """One step of the honest run: which run, role and label, what was sent or received."""

    run_id: int
    role: str
    label: str
    action: str
    term: Term


def honest_assignment(variant: Variant) -> dict[Var, Atom]:
    """Each role's agent variable played by a distinct honest agent, in role order."""
    return {r.agent: honest_agent(i) for i, r in enumerate(variant.roles)}


def honest_run(variant: Variant) -> list[HonestEvent]:
    """Run every role once between honest agents, delivering messages unchanged.

    Raises :class:`MalformedProtocol` naming the stuck role and label if the run cannot
    complete.
    """
    return honest_execution(variant)[1]


def honest_execution(variant: Variant) -> tuple[list[Run], list[HonestEvent]]:
    """:func:`honest_run` with the finished runs too (their bindings show what each
    receive bound, which the typed-language check needs)."""
    agents = honest_assignment(variant)
    runs = []
    for i, role in enumerate(variant.roles, start=1):
        params = {}
        for p in role.params:
            if p not in agents:
                raise MalformedProtocol(
                    f"parameter {p} is not the agent variable of any role",
                    variant=variant.name,
                    role=role.name,
                )
            params[p] = agents[p]
        runs.append(start_run(role, i, params))
    directory: dict[Atom, Term] = {a: Pk(a) for a in agents.values()}
    pending: list[tuple[int, Term]] = []  # (sender run, message) not yet delivered
    events: list[HonestEvent] = []
    progress = True
    while progress:
        progress = False
        for run in runs:
            step = run.next_step
            if step is None:
                continue
            if isinstance(step, Send):
                msg = send(run)
                pending.append((run.run_id, msg))
                events.append(HonestEvent(run.run_id, run.role.name, step.label, "send", msg))
                progress = True
            elif isinstance(step, Lookup):
                key = lookup(run, directory)
                events.append(HonestEvent(run.run_id, run.role.name, step.label, "lookup", key))
                progress = True
            else:
                for k, (sender, msg) in enumerate(pending):
                    if sender != run.run_id and receive(run, msg):
                        del pending[k]
                        events.append(
                            HonestEvent(run.run_id, run.role.name, step.label, "recv", msg)
                        )
                        progress = True
                        break
    stuck = [r for r in runs if not r.finished]
    if stuck:
        r = stuck[0]
        step = r.next_step
        assert step is not None
        raise MalformedProtocol(
            "honest run cannot complete: no delivered message matches this receive",
            variant=variant.name,
            role=r.role.name,
            label=step.label,
        )
    return runs, events


def received_variables(run: Run) -> Iterator[tuple[Recv, Var]]:
    """Each variable ``run``'s role first binds at a receive, with that receive: in step order,
    by name within a step (parameters and looked-up keys are bound otherwise)."""
    seen: set[Var] = set(run.role.params)
    for step in run.role.steps:
        if isinstance(step, Lookup):
            seen.add(step.key)
        if not isinstance(step, Recv):
            continue
        for x in sorted(variables(step.pattern) - seen, key=lambda x: x.name):
            yield step, x
            seen.add(x)
