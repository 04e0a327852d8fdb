"""One bounded world as a z3 problem: a fixed list of role runs, their events and the intruder.

A :class:`World` is built for one *role assignment* (which role each run plays; the actors
and intended peers are left to z3).  It holds:

* per run and step an execution flag and an integer time: runs execute as prefixes, steps
  of a run in order;
* per receive: the pattern, instantiated with the run's bindings (new variables become
  typed leaves), must be derivable by the intruder from what was sent strictly before;
* per look-up: the key registered under the name (an honest agent's own key; for ``e``
  whatever he registered: his own key, or with ``pop_required`` off any public key);
* replay caches (``once``): one agent's two runs of a role never accept the same values;
* key compromise (``Variant.reveals``): a run of a revealing role may, after its last step
  and before run 0 (the claimant) starts, give the intruder its value of the revealed term.

With ``optional_runs`` every constraint a run adds on its own (its actor is honest, plays
the unique role's player, believes no ``e`` in an honest-only role, its look-ups) holds only
once the run has executed its first step: a run that never starts then constrains nothing,
so the world also contains every world made of a subset of its runs (:mod:`.reduce`).

Claims are added on top (:mod:`ethvoip.model.claims`), so one world serves every claim of
the role whose run 0 claims.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import z3

from ethvoip.model.intruder import END, Intruder, Moment, Position, positions
from ethvoip.model.symbolic import (
    HONEST,
    INTRUDER,
    INTRUDER_FRESH,
    Builder,
    Cond,
    Env,
    Leaf,
    SPk,
    STerm,
    Universe,
    as_z3,
    conj,
    disj,
    eq,
    honest_names,
    implies,
    instantiate,
    leaf_eq,
    leaf_is,
    neg,
    skey,
)
from ethvoip.spec import terms as T
from ethvoip.spec.errors import MalformedProtocol, UnsupportedProtocol
from ethvoip.spec.protocol import Lookup, Recv, Role, Send, Step, Variant
from ethvoip.spec.semantics import honest_execution
from ethvoip.spec.terms import Sort


@dataclass(eq=False)
class Event:
    run: int
    index: int
    label: str
    kind: str  # "send" | "recv" | "lookup" | "reveal"
    moment: Moment
    term: STerm | None = None  # sent term or received message; the key for a look-up
    name: STerm | None = None  # the looked-up name


@dataclass(eq=False)
class Run:
    rid: int
    role: Role
    env: Env
    actor: Leaf
    events: list[Event] = field(default_factory=list)
    bound_at: dict[T.Var | T.Fresh, int] = field(default_factory=dict)
    reveals: list[Event] = field(default_factory=list)  # key compromise after its end

    @property
    def last(self) -> Event:
        return self.events[-1]

    def value(self, name: str, upto: int | None = None) -> STerm | None:
        """The run's value for a role variable or fresh name, if bound by step ``upto``."""
        for k, v in self.env.values.items():
            if k.name == name and (upto is None or self.bound_at[k] <= upto):
                return v
        return None


def _atoms_in(t: T.Term) -> list[T.Atom]:
    return [s for s in T.subterms(t) if isinstance(s, T.Atom)]


def _role_terms(r: Role) -> list[T.Term]:
    out: list[T.Term] = [*r.knows]
    for s in r.steps:
        match s:
            case Send(_, term):
                out.append(term)
            case Recv(_, pattern, once):
                out += [pattern, *once]
            case Lookup(_, name, key):
                out += [name, key]
    if r.session_key is not None:
        out.append(r.session_key)
    return out


def check_supported(v: Variant) -> None:
    """Raise :class:`UnsupportedProtocol` for constructs outside the typed encoding."""
    for r in v.roles:
        if r.agent not in r.params:
            raise UnsupportedProtocol(f"role {r.name}: its agent {r.agent} is not a parameter")
        for t in _role_terms(r):
            for s in T.subterms(t):
                # a msg *variable* is a ticket, shaped by its honest value (Builder.fresh_value)
                if isinstance(s, T.Atom | T.Fresh) and s.sort is Sort.MSG:
                    raise UnsupportedProtocol(
                        f"role {r.name}: {s} has sort msg; the typed encoding needs a shape"
                    )
                if isinstance(s, T.Atom) and s.sort in (Sort.PUBKEY, Sort.GROUP):
                    raise UnsupportedProtocol(f"role {r.name}: bare {s.sort} atom {s}")


#: ``receive_shapes`` per variant object (``id`` -> (variant, shapes)); a world is built per
#: role assignment, the honest execution it reads is the same for all of them.
_SHAPES: dict[int, tuple[Variant, dict[tuple[str, str], T.Term]]] = {}


def receive_shapes(v: Variant) -> dict[tuple[str, str], T.Term]:
    """(role, variable) -> the value the spec's honest run binds it to at a receive.

    Empty when the honest run cannot complete (the front end refuses such a variant before
    any claim; a world of it is only built by tests of the encoding itself).
    """
    hit = _SHAPES.get(id(v))
    if hit is not None and hit[0] is v:
        return hit[1]
    out: dict[tuple[str, str], T.Term] = {}
    try:
        runs, _ = honest_execution(v)
    except MalformedProtocol:
        runs = []
    for run in runs:
        for step in run.role.steps:
            if isinstance(step, Recv):
                for x in T.variables(step.pattern):
                    out.setdefault((run.role.name, x.name), run.bindings[x])
    _SHAPES[id(v)] = (v, out)
    return out


class World:
    """The z3 encoding of ``roles[i]`` played by run ``i``, for ``variant``."""

    def __init__(
        self,
        variant: Variant,
        roles: Sequence[Role],
        *,
        passive: bool = False,
        honest: Sequence[str] | None = None,
        shapes: Mapping[tuple[str, str], T.Term] | None = None,
        optional_runs: bool = False,
    ) -> None:
        check_supported(variant)
        self.variant = variant
        self.u = Universe()
        # a context of its own: z3's choices then depend only on this world (determinism)
        self.ctx = z3.Context()
        # ``shapes`` (the untyped mode) gives some received variables another shape than
        # their honest value's: (role, variable) -> a ground term of that shape
        self.b = Builder(self.u, self.ctx, {**receive_shapes(variant), **(shapes or {})})
        self.constraints: list[z3.BoolRef] = []
        self.passive = passive
        self.optional_runs = optional_runs
        b = self.b
        if honest is None:  # the variant's honest agents: a, b (c ... for a server of its own)
            honest = HONEST if variant.honest_agents <= 2 else honest_names(variant.honest_agents)
        self.honest = tuple(honest)
        self.agent = {n: b.const(n, Sort.AGENT) for n in (*self.honest, INTRUDER)}
        self.e = self.agent[INTRUDER]
        intruder_fresh = self._declare_constants()
        # the directory entry of e: his own key, or (no proof of possession) any known one
        self.reg_e = b.var("registered_e", Sort.AGENT)
        # restricted to the world's agents (a, b, e), as the evaluator's directory check is;
        # a protocol constant agent such as the app store is not among them
        self.constraints.append(
            as_z3(disj(leaf_eq(self.reg_e, x) for x in self.agent.values()), self.ctx)
        )
        if variant.pop_required or passive:  # the honest run: nobody registers others' keys
            self.constraints.append(as_z3(leaf_eq(self.reg_e, self.e), self.ctx))

        initial = self._initial_positions()

        # one player world-wide for each unique role (the operator, the contract)
        self.player = {
            r.agent: b.var(f"player.{r.agent.name}", Sort.AGENT) for r in variant.roles if r.unique
        }
        self.runs: list[Run] = []
        for rid, role in enumerate(roles):
            self.runs.append(self._make_run(rid, role))
        if not passive:
            self._make_reveals()

        sent = self._sent_positions()
        self.intruder = Intruder(self._known(intruder_fresh), initial + sent, own=self.e.const)
        self.sent = sent

        for run in self.runs:
            self._constrain_run(run)
        self._constrain_once()
        self.constraints += b.domain_constraints()

    # ----------------------------------------------------------------------------------

    def _declare_constants(self) -> dict[Sort, list[Leaf]]:
        """The protocol's constants, then the intruder's own fresh values (in this order:
        a constant's number is its order of declaration)."""
        b = self.b
        for r in self.variant.roles:
            for t in _role_terms(r):
                for a in _atoms_in(t):
                    b.const(a.name, a.sort)
        return {
            s: [b.const(f"{s.value}{i}#e", s) for i in range(1, INTRUDER_FRESH + 1)]
            for s in (Sort.NONCE, Sort.KEY, Sort.EXP)
        }

    def _initial_positions(self) -> list[Position]:
        """What e knows at the start, as each role he may play knows it."""
        initial: list[Position] = []
        for r in self.variant.roles:
            if r.honest_only:
                continue
            for kt in self._intruder_knows(r):
                initial += positions(kt, None)
        return initial

    def _sent_positions(self) -> list[Position]:
        """Every message the runs send and every value they reveal, at its moment."""
        sent: list[Position] = []
        for run in self.runs:
            for ev in (*run.events, *run.reveals):
                if ev.kind in ("send", "reveal") and ev.term is not None:
                    sent += positions(ev.term, ev.moment)
        return sent

    def _known(self, intruder_fresh: Mapping[Sort, list[Leaf]]) -> dict[Sort, list[int]]:
        """The atoms e knows by sort: every name, and his own fresh values."""
        known: dict[Sort, list[int]] = {
            # every name is public: the world's agents and the protocol's named agents
            # (the app store): the evaluator's intruder builds them all too
            Sort.AGENT: list(self.u.by_sort[Sort.AGENT]),
            Sort.CONST: list(self.u.by_sort[Sort.CONST]),
        }
        for s, leaves_ in intruder_fresh.items():
            known[s] = [x.const for x in leaves_ if x.const is not None]
        return known

    def _intruder_knows(self, r: Role) -> list[STerm]:
        """The initial knowledge of role ``r`` played by ``e``, for every choice of peers."""
        others = [p for p in r.params if p != r.agent]
        out: list[STerm] = []
        for choice in itertools.product(list(self.agent), repeat=len(others)):
            env = Env()
            env[r.agent] = self.e
            for p, a in zip(others, choice, strict=True):
                env[p] = self.agent[a]
            for f in r.fresh:
                env[f] = self.b.const(f"{f.name}#e", f.sort)
            for t in r.knows:
                out.append(instantiate(t, env, self.b, f"{r.name}.knows"))
        unique = {skey(t): t for t in out}
        return list(unique.values())

    def _make_run(self, rid: int, role: Role) -> Run:
        own = len(self.constraints)  # the constraints from here on are this run's own
        b = self.b
        b.role = role.name
        env = Env()
        tag = f"r{rid + 1}"
        actor = b.var(f"{tag}.{role.agent.name}", Sort.AGENT)
        env[role.agent] = actor
        run = Run(rid, role, env, actor)
        run.bound_at[role.agent] = -1
        self._bind_params(run, tag)
        for f in role.fresh:
            env[f] = b.const(f"{f.name}#{rid + 1}", f.sort)
            run.bound_at[f] = -1
        self.constraints.append(
            as_z3(disj(leaf_eq(actor, self.agent[h]) for h in self.honest), self.ctx)
        )
        for k, step in enumerate(role.steps):
            m = Moment(
                rid,
                k,
                z3.Int(f"t.{tag}.{step.label}", self.ctx),
                z3.Bool(f"do.{tag}.{step.label}", self.ctx),
            )
            before = set(env.values)
            ev = self._event(run, k, step, m, tag)
            for v in set(env.values) - before:
                run.bound_at[v] = k
            run.events.append(ev)
        if role.session_key is not None:
            # instantiated lazily by claims; check now that it is bound by the end
            instantiate(role.session_key, env, b, f"{tag}.session_key")
        if self.optional_runs and run.events:
            started = run.events[0].moment.done
            assert started is not None
            self.constraints[own:] = [z3.Implies(started, c) for c in self.constraints[own:]]
        return run

    def _bind_params(self, run: Run, tag: str) -> None:
        """The run's peers: agents, never e for an honest-only role, the one player of a
        unique role."""
        role, env = run.role, run.env
        trusted = {r.agent for r in self.variant.roles if r.honest_only}
        for p in role.params:
            if p == role.agent:
                continue
            if p.sort is not Sort.AGENT:
                raise UnsupportedProtocol(f"role {role.name}: parameter {p} is not an agent")
            env[p] = self.b.var(f"{tag}.{p.name}", Sort.AGENT)
            run.bound_at[p] = -1
            if p in trusted:
                # the player of an honest-only role (the chain, the operator) is never e,
                # so nobody starts a session believing e plays it
                self.constraints.append(as_z3(neg(leaf_eq(env.leaf(p), self.e)), self.ctx))
            if p in self.player:
                self.constraints.append(as_z3(leaf_eq(env.leaf(p), self.player[p]), self.ctx))
        if role.agent in self.player:
            self.constraints.append(as_z3(leaf_eq(run.actor, self.player[role.agent]), self.ctx))

    def _event(self, run: Run, k: int, step: Step, m: Moment, tag: str) -> Event:
        """Step ``k`` of ``run`` as an event: its term, bound in the run's environment."""
        env, b, rid = run.env, self.b, run.rid
        label = f"{tag}.{step.label}"
        match step:
            case Send(_, term):
                return Event(rid, k, step.label, "send", m, instantiate(term, env, b, label))
            case Recv(_, pattern):
                msg = instantiate(pattern, env, b, label, bind=True, run=tag)
                return Event(rid, k, step.label, "recv", m, msg)
        assert isinstance(step, Lookup)
        return self._lookup(run, k, step, m, tag)

    def _lookup(self, run: Run, k: int, step: Lookup, m: Moment, tag: str) -> Event:
        """A directory look-up: the key registered for e is reg_e's, anyone else's is his own."""
        env, b = run.env, self.b
        label = f"{tag}.{step.label}"
        name, key = step.name, step.key
        who = instantiate(name, env, b, label)
        if not isinstance(who, Leaf) or who.sort is not Sort.AGENT:
            raise UnsupportedProtocol(f"{label}: look-up of a non-agent {name}")
        if key in env:
            val = env[key]
        else:
            val = b.fresh_value(key, f"{tag}.{key.name}")
            env[key] = val
        if not isinstance(val, SPk):
            raise UnsupportedProtocol(f"{label}: look-up into {key} (not a pubkey)")
        is_e = leaf_eq(who, self.e)
        self.constraints.append(
            as_z3(
                conj(
                    [
                        implies(is_e, leaf_eq(val.owner, self.reg_e)),
                        implies(neg(is_e), leaf_eq(val.owner, who)),
                    ]
                ),
                self.ctx,
            )
        )
        return Event(run.rid, k, step.label, "lookup", m, val, who)

    def _make_reveals(self) -> None:
        """Key compromise of old sessions: a run of a revealing role may give its value of
        the term away after its last step, before the claiming run 0 starts."""
        if not self.variant.reveals or not self.runs:
            return
        first = self.runs[0].events[0].moment
        assert first.done is not None and first.time is not None
        for run in self.runs[1:]:
            mine = [rv for rv in self.variant.reveals if rv.role == run.role.name]
            end = run.last.moment
            assert end.done is not None and end.time is not None
            for i, rv in enumerate(mine):
                tag = f"r{run.rid + 1}.reveal{i}"
                m = Moment(
                    run.rid,
                    len(run.events) + i,
                    z3.Int(f"t.{tag}", self.ctx),
                    z3.Bool(f"do.{tag}", self.ctx),
                )
                assert m.done is not None and m.time is not None
                term = instantiate(rv.term, run.env, self.b, tag)
                run.reveals.append(Event(run.rid, m.index, "reveal", "reveal", m, term))
                self.constraints.append(
                    z3.Implies(
                        m.done,
                        z3.And(end.done, end.time < m.time, first.done, m.time < first.time),
                    )
                )

    def _constrain_run(self, run: Run) -> None:
        prev: Event | None = None
        for ev in run.events:
            m = ev.moment
            assert m.done is not None and m.time is not None
            if prev is not None:
                assert prev.moment.done is not None and prev.moment.time is not None
                self.constraints.append(z3.Implies(m.done, prev.moment.done))
                self.constraints.append(prev.moment.time < m.time)
            if ev.kind == "recv" and ev.term is not None:
                self.constraints.append(z3.Implies(m.done, as_z3(self._receivable(ev), self.ctx)))
            prev = ev

    def _receivable(self, ev: Event) -> Cond:
        assert ev.term is not None
        if not self.passive:
            return self.intruder.derive(ev.term, ev.moment)
        # an honest run: the network delivers a message another run sent, unchanged
        out: list[Cond] = []
        for run in self.runs:
            for s in run.events:
                if s.kind != "send" or s.term is None or run.rid == ev.run:
                    continue
                assert s.moment.done is not None and s.moment.time is not None
                assert ev.moment.time is not None
                out.append(
                    conj([s.moment.done, s.moment.time < ev.moment.time, eq(ev.term, s.term)])
                )
        return disj(out)

    def _constrain_once(self) -> None:
        for i, r1 in enumerate(self.runs):
            for r2 in self.runs[i + 1 :]:
                if r1.role.name != r2.role.name:
                    continue
                for k, step in enumerate(r1.role.steps):
                    if not isinstance(step, Recv) or not step.once:
                        continue
                    d1, d2 = r1.events[k].moment.done, r2.events[k].moment.done
                    assert d1 is not None and d2 is not None
                    same = conj(
                        [leaf_eq(r1.actor, r2.actor)]
                        + [
                            eq(
                                instantiate(t, r1.env, self.b, "once"),
                                instantiate(t, r2.env, self.b, "once"),
                            )
                            for t in step.once
                        ]
                    )
                    self.constraints.append(z3.Implies(z3.And(d1, d2), as_z3(neg(same), self.ctx)))

    # ----------------------------------------------------------------------------------

    def value(self, run: Run, t: T.Term, upto: int | None = None) -> STerm | None:
        """``t`` in ``run``'s terms, matching role names by name; ``None`` if not bound."""
        env = Env()
        for v in T.subterms(t):
            if isinstance(v, T.Var | T.Fresh):
                val = run.value(v.name, upto)
                if val is None:
                    return None
                env[v] = val
        return instantiate(t, env, self.b, f"r{run.rid + 1}.value")

    def z3(self, c: Cond) -> z3.BoolRef:
        return as_z3(c, self.ctx)

    def is_e(self, x: Leaf) -> Cond:
        return leaf_is(x, self.e.const) if self.e.const is not None else False

    def derive_at_end(self, t: STerm) -> Cond:
        return self.intruder.derive(t, END)
