"""Replay a model trace on the concrete role machines, step label by step label.

The walk is the conformance engine's (:class:`~ethvoip.attacks.conformance.TraceWalk`); this
module is its target on the handshakes' role machines.

:func:`replay` builds a :class:`~ethvoip.attacks.world.World` (agents ``a``, ``b``, ``e`` with
real identity keys, the trace's directory), starts one role machine per trace run with the
run's parameters, deterministic randomness and the shared clock, and walks the trace's events
in order:

* a look-up or send is taken from what the run's machine emitted (the machine does both
  itself; the replay only checks the step label and the term);
* a receive gets either the bytes an earlier send produced (forwarded) or the bytes the
  :class:`~ethvoip.attacks.strategy.NetworkIntruder` computes by following the event's
  derivation tree with only its own keys and what it has seen.

**Conformance mode** (the machines' variant is the trace's): after every step the concrete
message, mapped back to a term with :meth:`RoleMachine.term_of` and the replay's exact
:class:`~ethvoip.attacks.world.Naming` (``N1#2`` is the value run 2 drew), must equal the
trace's term, and every machine must accept what the model says it accepts; any difference
raises :class:`ConformanceError`.

**Strategy mode** (``variant=`` another variant, e.g. a paper attack against ``hardened``):
the intruder performs the same operations on whatever the machines now send, each event
maps to its run's next step of the same kind, and the replay stops at the first message a
machine rejects; :attr:`Replay.rejection` says which run, step and error.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ethvoip.attacks.conformance import TraceWalk, actor
from ethvoip.attacks.strategy import NetworkIntruder, encode
from ethvoip.attacks.world import Naming, World
from ethvoip.impl.handshake import create, layout
from ethvoip.impl.handshake.layouts import Layout
from ethvoip.impl.handshake.machine import Completed, Event, LookedUp, RoleMachine, Sent, State
from ethvoip.spec.catalogue import get
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import ConformanceError, EthVoipError
from ethvoip.spec.terms import Term
from ethvoip.spec.trace import Trace, TraceEvent


@dataclass(frozen=True)
class Step:
    """One trace event as it happened on the concrete code."""

    index: int
    run: int
    label: str  # the label the machine executed (in strategy mode it may differ)
    action: str
    actor: str  # "a: R#1"
    data: bytes | None  # what went over the network (None for a look-up)
    term: Term | None  # the concrete step mapped back to a term (None if not executed)
    derivation: Derivation | None  # how the intruder built a received message
    intruder: tuple[str, ...] = ()  # what the intruder did for it, in words


@dataclass(frozen=True)
class Rejection:
    """The first message a machine refused, and the typed error it raised."""

    run: int
    label: str
    error: EthVoipError

    def describe(self) -> str:
        return f"{self.label}: {type(self.error).__name__}: {self.error}"


@dataclass
class Replay:
    """The outcome of :func:`replay`."""

    trace: Trace
    variant: str
    world: World
    naming: Naming
    machines: dict[int, RoleMachine]
    intruder: NetworkIntruder
    steps: list[Step] = field(default_factory=list)
    rejection: Rejection | None = None

    def completed(self, run: int) -> Completed | None:
        m = self.machines.get(run)
        if m is None or m.state is not State.DONE:
            return None
        done = m.transcript[-1]
        assert isinstance(done, Completed)
        return done

    def actor(self, run: int) -> str:
        return actor(self.trace, run)


def replay(trace: Trace, *, variant: str | None = None, seed: bytes = b"ethvoip") -> Replay:
    """Replay ``trace`` on machines of ``variant`` (default: the trace's own)."""
    return _Replayer(trace, variant or trace.variant, seed).run()


class _Replayer(TraceWalk[tuple[bytes, Layout]]):
    """The conformance engine on the role machines: a step is a machine's send or receive."""

    def __init__(self, trace: Trace, variant: str, seed: bytes) -> None:
        super().__init__(trace, variant)
        protocol = get(trace.protocol)
        trace.check_fresh(protocol)
        self.spec = protocol.variant(variant)
        agents = {r.agent for r in trace.runs} | set(trace.directory)
        world = World(seed + b"/" + trace.protocol.encode(), sorted(agents))
        world.register(trace.directory)
        naming = Naming(world)
        intruder = NetworkIntruder(world, naming, self.observed, seed)
        self.out = Replay(trace, variant, world, naming, {}, intruder)
        self.pending: dict[int, deque[Event]] = {}
        for r in trace.runs:
            role = self.spec.role(r.role)
            peers = {k: world.phone(str(v)) for k, v in r.params.items() if k != role.agent.name}
            env = world.env(r.agent, r.id)
            self.out.machines[r.id] = create(trace.protocol, variant, r.role, env, **peers)
            self.pending[r.id] = deque()

    # -- helpers -----------------------------------------------------------------------

    def _take(self, run: int, kind: type, label: str | None) -> Event | None:
        """The run's next emitted event of ``kind`` (with ``label`` in conformance mode)."""
        q = self.pending[run]
        for ev in list(q):
            if isinstance(ev, kind) and (label is None or ev.label == label):
                q.remove(ev)
                return ev
        return None

    def _start(self, run: int) -> None:
        m = self.out.machines[run]
        if m.state is State.IDLE:
            self.pending[run].extend(m.start())

    def _check_term(self, i: int, ev: TraceEvent, label: str) -> Term:
        m = self.out.machines[ev.run]
        self.out.naming.bind_fresh(ev.run, m.role, m.bindings)
        try:
            term = m.term_of(label, self.out.naming)
        except KeyError as exc:
            raise self.mismatch(i, ev, f"a value with no symbolic name: {exc}") from None
        self.check_term(i, ev, term)
        return term

    # -- the walk ----------------------------------------------------------------------

    def run(self) -> Replay:
        self.walk()
        return self.out

    def event(self, i: int, ev: TraceEvent) -> bool:
        try:
            return self._event(i, ev)
        except ConformanceError:
            raise
        except EthVoipError as exc:
            # a typed failure outside a receive: the intruder could not do its part
            if self.strict:
                raise self.mismatch(i, ev, f"{type(exc).__name__}: {exc}") from exc
            self.out.rejection = Rejection(ev.run, ev.label, exc)
            return False

    def _event(self, i: int, ev: TraceEvent) -> bool:
        m = self.out.machines[ev.run]
        self._start(ev.run)
        want = ev.label if self.strict else None
        if ev.action in ("send", "lookup"):
            kind = Sent if ev.action == "send" else LookedUp
            got = self._take(ev.run, kind, want)
            if got is None:
                if ev.action == "lookup" and not self.strict:
                    return True  # this variant's role does not look up here
                raise self.mismatch(i, ev, f"the machine emitted no {ev.action} here ({m!r})")
            assert isinstance(got, Sent | LookedUp)
            term = self._check_term(i, ev, got.label)
            data = got.data if isinstance(got, Sent) else None
            if isinstance(got, Sent):
                self.sent[i] = (got.data, layout(self.trace.protocol, self.variant, got.label))
            self.out.steps.append(
                Step(i, ev.run, got.label, ev.action, self.out.actor(ev.run), data, term, None)
            )
            return True
        return self._receive(i, ev, m)

    def _receive(self, i: int, ev: TraceEvent, m: RoleMachine) -> bool:
        label = m.expecting
        if label is None or (self.strict and label != ev.label):
            raise self.mismatch(i, ev, f"the machine waits at {label}, not {ev.label}")
        log_start = len(self.out.intruder.log)
        if ev.derivation is not None:
            # the intruder builds what the trace says, in the format of the trace's step
            target = layout(self.trace.protocol, self.trace.variant, ev.label)
            data = encode(target, self.out.intruder.derive(ev.derivation, target))
        else:
            data = self.forwarded(i, ev)[0]
        said = tuple(self.out.intruder.log[log_start:])
        try:
            self.pending[ev.run].extend(m.receive(data))
        except EthVoipError as exc:
            if self.strict:
                raise self.mismatch(i, ev, f"rejected: {type(exc).__name__}: {exc}") from exc
            self.out.rejection = Rejection(ev.run, label, exc)
            self.out.steps.append(
                Step(
                    i,
                    ev.run,
                    label,
                    "recv",
                    self.out.actor(ev.run),
                    data,
                    None,
                    ev.derivation,
                    said,
                )
            )
            return False
        term = self._check_term(i, ev, label)
        self.out.steps.append(
            Step(i, ev.run, label, "recv", self.out.actor(ev.run), data, term, ev.derivation, said)
        )
        return True


@dataclass(frozen=True)
class Outcome:
    """Whether the trace's claim outcome happened on the code, and what happened, in words."""

    reproduced: bool
    summary: str
    intruder_holds: bytes | None = None  # the secret the intruder computed, if any


def outcome(r: Replay) -> Outcome:
    """Check the end state against the trace's kind and claim.

    Honest: every run finished, all hold one key, each believes in the other.  Secrecy
    attack: the intruder, following the violation's derivation, computes the value the victim
    run holds as its session key.  Other attacks: the victim run finished believing in peer
    P with key K, and no run of P finished believing in the victim with K (B's peer is not
    who B thinks, or holds the key under another belief: an unknown key-share).
    """
    t = r.trace
    if r.rejection is not None:
        return Outcome(False, f"stopped: {r.rejection.describe()}")
    if t.kind == "honest":
        done = {rid: r.completed(rid) for rid in r.machines}
        if any(c is None for c in done.values()):
            return Outcome(False, "a run did not finish")
        keys = {c.session_key for c in done.values() if c is not None}
        names = {rid: m.env.name for rid, m in r.machines.items()}
        mutual = all(
            c is not None and c.peer in set(names.values()) - {names[rid]}
            for rid, c in done.items()
        )
        return Outcome(
            len(keys) == 1 and mutual,
            f"{len(done)} runs finished, {len(keys)} distinct key(s), "
            + ("each believes in the other" if mutual else "beliefs differ"),
        )
    assert t.violation is not None
    victim_id = t.violation.run
    victim = r.completed(victim_id)
    if victim is None:
        return Outcome(False, f"the victim run {victim_id} did not finish")
    me = r.machines[victim_id].env.name
    who = r.world.agent_of
    if t.violation.secret is not None and t.violation.derivation is not None:
        got = r.intruder.derive(t.violation.derivation)
        ok = isinstance(got, bytes) and got == victim.session_key
        return Outcome(
            ok,
            f"{who(me)} finished believing in {who(victim.peer)}; the intruder computes "
            f"its session key {t.violation.secret}" + ("" if ok else " WRONGLY"),
            got if isinstance(got, bytes) else None,
        )
    partners = [
        (rid, c)
        for rid, c in ((rid, r.completed(rid)) for rid in r.machines)
        if rid != victim_id and c is not None and r.machines[rid].env.name == victim.peer
    ]
    matching = [rid for rid, c in partners if c.peer == me and c.session_key == victim.session_key]
    beliefs = ", ".join(
        f"run {rid} believes in {who(c.peer)}"
        + (" with the same key" if c.session_key == victim.session_key else "")
        for rid, c in partners
    )
    return Outcome(
        not matching,
        f"{who(me)} finished believing in {who(victim.peer)}; that agent's finished runs: "
        + (beliefs or "none"),
    )
