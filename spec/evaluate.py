"""Independent re-check of a trace against the term algebra (no solver involved).

Given a protocol variant and a :class:`~ethvoip.spec.trace.Trace`, replay it symbolically:

1. every run starts with the parameters the trace states, honest-only roles are played by
   honest agents, and the directory holds only what registration allows (the intruder may
   register someone else's public key only where the variant does not demand proof of
   possession);
2. every event is the next step of its run: a send produces exactly the stated term, a
   look-up returns the registered key, a receive matches the role's pattern;
3. every message an honest run receives is derivable by the intruder from his initial
   knowledge and the messages sent *strictly before* it; a stated derivation tree is itself
   checked rule by rule;
4. for an attack, the named claim really is violated at the end; for an honest trace,
   every run finishes and no message was altered;
5. a ``reveal`` event (key compromise, :class:`~ethvoip.spec.protocol.Reveal`) gives the
   intruder a finished run's value of a term the variant lets him learn, and comes before
   the claiming run's first event (only old sessions are compromised).

Written separately from the z3 encoding in :mod:`ethvoip.model`, so that a reported attack is
confirmed by a second, simpler reading of the same semantics.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ethvoip.spec.deduction import Derivation, Knowledge
from ethvoip.spec.errors import TraceError
from ethvoip.spec.protocol import Claim, ClaimKind, Lookup, Protocol, Recv, Send, Variant
from ethvoip.spec.semantics import INTRUDER, Run, receive, send, start_run
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Exp,
    G,
    Hash,
    Ltk,
    Pk,
    SEnc,
    Sign,
    Sk,
    Sort,
    Term,
    Tup,
    Var,
    ephemeral,
    exp,
    substitute,
    subterms,
)
from ethvoip.spec.trace import Trace, TraceEvent

INTRUDER_SUFFIX = "#e"


def intruder_atom(name: str, sort: Sort) -> Atom:
    """A fresh value the intruder generated himself (``Ks#e``, ``x#e`` ...)."""
    return Atom(name + INTRUDER_SUFFIX, sort)


@dataclass(frozen=True)
class Evaluation:
    """Outcome of a valid trace: whether its claim is violated, and why (in words)."""

    violated: bool
    explanation: str
    finished_runs: tuple[int, ...]


def intruder_initial(variant: Variant, agents: Iterable[Atom], own: Iterable[Atom]) -> list[Term]:
    """What the intruder knows before anything is sent.

    Every agent's name and public key, his own private key, every fresh value of his own
    (``own``), and what each role he may play knows at its start when he is its actor.  His
    long-term symmetric keys ``k(e, X)``, ``k(X, e)`` are known too (:class:`Knowledge`
    gives them to its ``own`` agent, here ``e``).
    """
    agents = list(agents)
    out: list[Term] = [INTRUDER, Sk(INTRUDER), G, *own]
    for a in agents:
        out.extend((a, Pk(a)))
    for role in variant.roles:
        if role.honest_only:
            continue
        others = [p for p in role.params if p != role.agent]
        # as the role's actor he may name any agents as its peers: every choice counts
        for choice in itertools.product([*agents, INTRUDER], repeat=len(others)):
            env: dict[Term, Term] = {role.agent: INTRUDER, **dict(zip(others, choice, strict=True))}
            env.update({f: intruder_atom(f.name, f.sort) for f in role.fresh})
            out.extend(substitute(t, env) for t in role.knows)
    return list(dict.fromkeys(out))


def evaluate(
    protocol: Protocol, trace: Trace, *, check_digest: bool = True, untyped: bool = False
) -> Evaluation:
    """Re-check ``trace``; raise :class:`TraceError` at the first step that does not hold.

    ``untyped``: receive patterns bind terms of any sort (a trace of the untyped mode,
    :mod:`ethvoip.model.untyped`); by default matching is typed, as the model's typed mode."""
    if check_digest:
        trace.check_fresh(protocol)
    variant = protocol.variant(trace.variant)
    runs = _start_runs(variant, trace)
    agents = {r.actor for r in runs.values()} | {Atom(n, Sort.AGENT) for n in trace.directory}
    directory = _check_directory(variant, trace, agents)
    own = {
        s
        for e in trace.events
        for s in subterms(e.term)
        if isinstance(s, Atom) and s.name.endswith(INTRUDER_SUFFIX)
    }
    initial = intruder_initial(variant, agents, own)
    replay = _Replay(runs, directory, Knowledge(initial, own=INTRUDER), set(initial), untyped)
    for t, ev in enumerate(trace.events):
        replay.event(variant, t, ev)
    return _verdict(variant, trace, replay)


@dataclass
class _Replay:
    """The state of a replay in progress: the runs, what was sent and what the intruder knows."""

    runs: dict[int, Run]
    directory: dict[str, Term]
    know: Knowledge
    initial: set[Term]
    untyped: bool
    sent: dict[int, Term] = field(default_factory=dict)
    when_done: dict[int, int] = field(default_factory=dict)
    revealed: list[int] = field(default_factory=list)
    altered: bool = False

    def event(self, variant: Variant, t: int, ev: TraceEvent) -> None:
        """Check event ``t`` as the next step of its run and apply it."""
        run = self.runs[ev.run]
        if ev.action == "reveal":
            _check_reveal(variant, run, ev, t)
            self.sent[t] = ev.term
            self.know.observe(ev.term, t)
            self.revealed.append(t)
            return
        step = run.next_step
        if step is None or step.label != ev.label:
            raise TraceError(f"event {t}: run {ev.run} is not at step {ev.label}")
        if isinstance(step, Send):
            self._send(run, ev, t)
        elif isinstance(step, Lookup):
            self._lookup(run, step, ev, t)
        else:
            self._recv(run, step, ev, t)
        if run.finished:
            self.when_done[run.run_id] = t

    def _send(self, run: Run, ev: TraceEvent, t: int) -> None:
        _expect(ev, "send", t)
        got = send(run)
        if got != ev.term:
            raise TraceError(f"event {t}: {ev.label} sends {got}, trace says {ev.term}")
        self.sent[t] = got
        self.know.observe(got, t)

    def _lookup(self, run: Run, step: Lookup, ev: TraceEvent, t: int) -> None:
        _expect(ev, "lookup", t)
        name = run.value(step.name)
        if not isinstance(name, Atom) or name.name not in self.directory:
            raise TraceError(f"event {t}: look-up of unregistered name {name}")
        if self.directory[name.name] != ev.term:
            raise TraceError(f"event {t}: directory holds {self.directory[name.name]} for {name}")
        run.bindings[step.key] = ev.term
        run.done += 1

    def _recv(self, run: Run, step: Recv, ev: TraceEvent, t: int) -> None:
        _expect(ev, "recv", t)
        if not self.know.derivable(ev.term):
            raise TraceError(f"event {t}: the intruder cannot derive {ev.term} by then")
        if ev.derivation is not None:
            _check_derivation(ev.derivation, ev.term, self.initial, self.sent, t)
        if ev.term not in self.sent.values():
            self.altered = True
        if not _receive_once(run, step, ev.term, self.runs, self.untyped):
            raise TraceError(f"event {t}: {ev.term} does not match {ev.label}'s pattern")


def _verdict(variant: Variant, trace: Trace, replay: _Replay) -> Evaluation:
    """After a replay: an honest trace must be clean; an attack must violate its claim."""
    runs, when_done, revealed = replay.runs, replay.when_done, replay.revealed
    finished = tuple(sorted(when_done))
    if trace.kind == "honest":
        if len(finished) != len(runs) or replay.altered or revealed:
            raise TraceError("an honest trace must finish every run with unaltered messages")
        return Evaluation(False, "every run finished; the intruder only forwarded", finished)
    assert trace.claim is not None and trace.violation is not None
    claim = variant.claim(trace.claim)
    r = runs.get(trace.violation.run)
    if r is None or r.role.name != claim.role or r.run_id not in when_done:
        raise TraceError("the violation must name a finished run of the claiming role")
    start = min(i for i, ev in enumerate(trace.events) if ev.run == r.run_id)
    if any(i > start for i in revealed):
        raise TraceError("a key is revealed after the claiming run started: not an old session")
    violated, why = _violated(variant, claim.name, r, runs, when_done, replay.know, trace.events)
    return Evaluation(violated, why, finished)


def _check_reveal(variant: Variant, run: Run, ev: TraceEvent, t: int) -> None:
    """A reveal gives away a finished run's value of a term its role's reveals name."""
    if not run.finished:
        raise TraceError(f"event {t}: run {ev.run} reveals before it finished")
    allowed = {run.value(rv.term) for rv in variant.reveals if rv.role == run.role.name}
    if ev.term not in allowed:
        raise TraceError(f"event {t}: run {ev.run} may not reveal {ev.term}")


def _expect(ev: TraceEvent, action: str, t: int) -> None:
    if ev.action != action:
        raise TraceError(f"event {t}: step {ev.label} is a {action}, trace says {ev.action}")


def _start_runs(variant: Variant, trace: Trace) -> dict[int, Run]:
    runs: dict[int, Run] = {}
    for tr in trace.runs:
        try:
            role = variant.role(tr.role)
        except KeyError:
            raise TraceError(f"run {tr.id} plays unknown role {tr.role}") from None
        by_name = {p.name: p for p in role.params}
        if set(tr.params) != set(by_name):
            raise TraceError(f"run {tr.id} must bind exactly {sorted(by_name)}")
        params: dict[Var, Atom] = {}
        for name, value in tr.params.items():
            if not isinstance(value, Atom) or value.sort is not Sort.AGENT:
                raise TraceError(f"run {tr.id}: parameter {name} must be an agent")
            params[by_name[name]] = value
        for other in variant.roles:
            if other.honest_only and params.get(other.agent) == INTRUDER:
                raise TraceError(f"run {tr.id} believes the intruder plays {other.name}")
        run = start_run(role, tr.id, params)
        if run.actor.name != tr.agent:
            raise TraceError(f"run {tr.id}: agent {tr.agent} is not its actor {run.actor}")
        if run.actor == INTRUDER:
            raise TraceError(f"run {tr.id}: the intruder's own actions are not runs")
        runs[tr.id] = run
    for role in variant.roles:
        if role.unique:
            players = {r.value(role.agent) for r in runs.values() if role.agent in r.bindings}
            if len(players) > 1:
                raise TraceError(f"role {role.name} has one player, the trace names {players}")
    return runs


def _check_directory(variant: Variant, trace: Trace, agents: set[Atom]) -> dict[str, Term]:
    out = dict(trace.directory)
    for name, key in out.items():
        if name != INTRUDER.name:
            if key != Pk(Atom(name, Sort.AGENT)):
                raise TraceError(f"honest {name} must be registered with its own key")
        elif key != Pk(INTRUDER):
            if variant.pop_required:
                raise TraceError("proof of possession: the intruder can only register pk(e)")
            if not isinstance(key, Pk) or key.owner not in agents:
                raise TraceError(f"the intruder registered {key}, which he does not know")
    return out


def _receive_once(
    run: Run, step: Recv, msg: Term, runs: Mapping[int, Run], untyped: bool = False
) -> bool:
    before = dict(run.bindings)
    if not receive(run, msg, untyped=untyped):
        return False
    if step.once:
        mine = tuple(run.value(t) for t in step.once)
        for other in runs.values():
            if other is run or other.actor != run.actor or other.role is not run.role:
                continue
            if other.done > run.role.labels.index(step.label) and mine == tuple(
                other.value(t) for t in step.once
            ):
                run.bindings.clear()
                run.bindings.update(before)
                run.done -= 1
                return False
    return True


def _honest(r: Run, variant: Variant) -> bool:
    for v in variant.agent_vars:
        val = r.value(v)
        if val == INTRUDER:
            return False
    return True


def _violated(
    variant: Variant,
    claim_name: str,
    r: Run,
    runs: Mapping[int, Run],
    when_done: Mapping[int, int],
    know: Knowledge,
    events: tuple[TraceEvent, ...],
) -> tuple[bool, str]:
    claim = variant.claim(claim_name)
    if not _honest(r, variant):
        return False, "the claiming run talks to the intruder: no guarantee is claimed"
    end = _End(variant, claim, r, runs, when_done, know, events)
    return _BY_KIND.get(claim.kind, _agreement)(end)


@dataclass(frozen=True)
class _End:
    """The end of a replayed trace, as the claim of run ``r`` is judged against it."""

    variant: Variant
    claim: Claim
    r: Run
    runs: Mapping[int, Run]
    when_done: Mapping[int, int]
    know: Knowledge
    events: tuple[TraceEvent, ...]


def _secrecy(end: _End) -> tuple[bool, str]:
    assert end.claim.term is not None
    secret = end.r.value(end.claim.term)
    if end.know.derivable(secret):
        return True, f"the intruder derives {secret}"
    return False, f"{secret} stays secret"


def _key_agreement(end: _End) -> tuple[bool, str]:
    assert end.claim.term is not None
    r = end.r
    key = r.value(end.claim.term)
    for s in end.runs.values():
        if s is r or s.run_id not in end.when_done or s.role.session_key is None:
            continue
        if s.value(s.role.session_key) != key:
            continue
        for v in end.variant.agent_vars:
            if v not in s.bindings or v not in r.bindings:
                continue  # a run that never learnt this name holds no belief on it
            if s.value(v) != r.value(v):
                return True, f"run {s.run_id} holds the same key with {v} = {s.value(v)}"
    return False, "every holder of the key agrees on the peers"


def _aliveness(end: _End) -> tuple[bool, str]:
    assert end.claim.peer is not None
    peer_agent = end.r.value(end.variant.role(end.claim.peer).agent)
    for t, ev in enumerate(end.events[: end.when_done[end.r.run_id] + 1]):
        if end.runs[ev.run].actor == peer_agent:
            return False, f"{peer_agent} acted at event {t}"
    return True, f"{peer_agent} never acted"


def _agreement(end: _End) -> tuple[bool, str]:
    """Weak, non-injective and injective agreement: a matching peer run (one each)."""
    claim, r, runs = end.claim, end.r, end.runs
    assert claim.peer is not None
    peer_agent = r.value(end.variant.role(claim.peer).agent)
    if not _partners(end, r):
        return True, f"no run of {peer_agent} as {claim.peer} agrees with run {r.run_id}"
    if claim.kind is ClaimKind.I_AGREEMENT:
        claimers = [
            c
            for c in runs.values()
            if c.role is r.role and c.run_id in end.when_done and _honest(c, end.variant)
        ]
        if not _matching_exists(
            {c.run_id: [s.run_id for s in _partners(end, c)] for c in claimers}
        ):
            return True, "two claiming runs must share one peer run: injectivity fails"
    return False, "a matching peer run exists"


def _partners(end: _End, claimer: Run) -> list[Run]:
    """The peer runs that reached the claim's peer step by the claimer's end and agree."""
    claim = end.claim
    assert claim.peer is not None and claim.peer_at is not None
    peer_role = end.variant.role(claim.peer)
    step_index = peer_role.labels.index(claim.peer_at)
    claimer_at = end.when_done[claimer.run_id]
    out = []
    for s in end.runs.values():
        if s.role is not peer_role or s.actor != claimer.value(peer_role.agent):
            continue
        if s.value(end.variant.role(claim.role).agent) != claimer.actor:
            continue
        reached = [
            t
            for t, ev in enumerate(end.events)
            if ev.run == s.run_id and ev.label == claim.peer_at and t <= claimer_at
        ]
        if not reached or s.done <= step_index:
            continue
        if claim.kind is not ClaimKind.WEAK_AGREEMENT:
            mine = tuple(claimer.value(d) for d in claim.data)
            theirs = tuple(s.value(d) for d in claim.peer_view)
            if mine != theirs:
                continue
        out.append(s)
    return out


_BY_KIND: dict[ClaimKind, Callable[[_End], tuple[bool, str]]] = {
    ClaimKind.SECRECY: _secrecy,
    ClaimKind.KEY_AGREEMENT: _key_agreement,
    ClaimKind.ALIVENESS: _aliveness,
}


def _matching_exists(options: Mapping[int, list[int]]) -> bool:
    """Whether every claiming run can get a distinct partner (bipartite matching)."""
    owner: dict[int, int] = {}

    def augment(c: int, seen: set[int]) -> bool:
        for s in options[c]:
            if s in seen:
                continue
            seen.add(s)
            if s not in owner or augment(owner[s], seen):
                owner[s] = c
                return True
        return False

    return all(augment(c, set()) for c in options)


# -- derivation trees -----------------------------------------------------------------

_CONSTRUCTORS = {"tup", "aenc", "senc", "sign", "hash", "pk", "sk", "exp"}


def _check_derivation(
    d: Derivation, target: Term, initial: set[Term], sent: Mapping[int, Term], now: int
) -> None:
    if d.term != target:
        raise TraceError(f"derivation yields {d.term}, not {target}")
    _check_node(d, initial, sent, now)


def _check_node(d: Derivation, initial: set[Term], sent: Mapping[int, Term], now: int) -> None:
    for p in d.premises:
        _check_node(p, initial, sent, now)
    prem = [p.term for p in d.premises]
    t = d.term
    ok: bool
    match d.rule:
        case "initial":
            ok = t in initial or (isinstance(t, Ltk) and INTRUDER in (t.owner, t.peer))
        case "public":
            ok = isinstance(t, Atom) and t.sort in (Sort.AGENT, Sort.CONST)
        case "observed":
            ok = d.event is not None and d.event < now and sent.get(d.event) == t
        case "project":
            ok = (
                len(prem) == 1
                and isinstance(prem[0], Tup)
                and d.index is not None
                and 0 <= d.index < len(prem[0].items)
                and prem[0].items[d.index] == t
            )
        case "unsign":
            ok = len(prem) == 1 and isinstance(prem[0], Sign) and prem[0].body == t
        case "decrypt":
            ok = len(prem) == 2 and (
                (
                    isinstance(prem[0], AEnc)
                    and isinstance(prem[0].key, Pk)
                    and prem[1] == Sk(prem[0].key.owner)
                )
                or (isinstance(prem[0], SEnc) and prem[1] == prem[0].key)
            )
            ok = ok and isinstance(prem[0], AEnc | SEnc) and prem[0].body == t
        case rule if rule in _CONSTRUCTORS:
            ok = _constructs(rule, prem, t)
        case _:
            raise TraceError(f"unknown derivation rule {d.rule!r}")
    if not ok:
        raise TraceError(f"derivation step {d.rule} does not yield {t}")


def _constructs(rule: str, prem: list[Term], t: Term) -> bool:
    match rule, t:
        case "tup", Tup(items):
            return tuple(prem) == items
        case ("aenc", AEnc(b, k)) | ("senc", SEnc(b, k)) | ("sign", Sign(b, k)):
            return prem == [b, k]
        case "hash", Hash(_, args):
            return tuple(prem) == args
        case "pk", Pk(owner):
            return prem == [owner]
        case "sk", Sk(owner):
            return prem == [owner] and ephemeral(owner)  # an agent's never
        case "exp", Exp():
            return (
                len(prem) == 2
                and (prem[0] == G or isinstance(prem[0], Exp | Var | Atom))
                and (exp(prem[0], prem[1]) == t)
            )
    return False
