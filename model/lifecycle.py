"""Bounded model checking of the key store's life cycle (issue 13) with z3.

Reads the table of :mod:`ethvoip.spec.lifecycle` and unrolls it: step ``i`` of an execution
is one action (a call of a table function by a party, a receipt purchase, the theft, a clock
tick, or nothing), chosen by z3, and the contract's state after it is the state before with
the function's writes applied.  Each party makes at most ``CALLS_PER_PARTY`` calls; the
environment's events come on top, up to ``MAX_STEPS`` steps in all.  A signature a call
presents was either made now by its caller (who must hold the key) or accepted earlier in the
execution (everything on chain is public and replayable).

Each claim is the negation of a ghost-state predicate (retired keys, the theft, revocations,
announcements, accepted signatures), checked at every step.  The answer is three-valued:
an attack (the shortest, found by deepening), "no attack within bound", or unknown when z3
gives up.  Every attack is written as a ``ethvoip-lifecycle-trace/1`` trace that
:mod:`ethvoip.spec.lifecycle_eval` replays without z3.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from ethvoip.model.boundary import solver_boundary
from ethvoip.spec import lifecycle as LC
from ethvoip.spec.errors import ModelError, UnknownProtocol
from ethvoip.spec.lifecycle import (
    KEYS,
    NUMBER_FIELDS,
    NUMBERS,
    PAIR_FIELDS,
    Call,
    ClaimId,
    Expected,
    Function,
    LifecycleClaim,
    LifecycleVariant,
    OperatorLogic,
    Question,
    SigValue,
    State,
    Status,
)
from ethvoip.spec.lifecycle_trace import LifecycleTrace, SigRecord, Step, Violation

SEED = 0
TIMEOUT_MS = 60_000
#: every integer of the model (times, steps, versions, serials, indices) is a signed
#: bit-vector of this width: the bound keeps them far below 2**(WIDTH-1), and bit-blasting a
#: finite problem is much faster than linear integer arithmetic over it
WIDTH = 7
BV = True  # bounded search on bit-vectors (the inductive step always uses integers)
SLOTS = 2  # most signatures a call carries (rotate: the current key's and the new key's)
#: the action kind before the table's functions: nothing (only at the end of an execution)
IDLE = 0
ENV_ACTIONS = ("idle",)


class Z3Logic(OperatorLogic):
    """:class:`ethvoip.spec.lifecycle.Logic` on z3 terms of one context."""

    def __init__(self, ctx: z3.Context, bv: bool) -> None:
        self.ctx = ctx
        self.bv = bv

    def const(self, x: int | bool) -> Any:
        if isinstance(x, bool):
            return z3.BoolVal(x, self.ctx)
        return z3.BitVecVal(x, WIDTH, self.ctx) if self.bv else z3.IntVal(x, self.ctx)

    def and_(self, *xs: Any) -> Any:
        return z3.And(*xs) if xs else z3.BoolVal(True, self.ctx)

    def or_(self, *xs: Any) -> Any:
        return z3.Or(*xs) if xs else z3.BoolVal(False, self.ctx)

    def not_(self, x: Any) -> Any:
        return z3.Not(x)

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return z3.If(c, a, b)

    def sel(self, xs: Sequence[Any], i: Any) -> Any:
        if isinstance(i, int):
            return xs[i]
        out = xs[-1]
        for j in range(len(xs) - 2, -1, -1):
            out = z3.If(i == j, xs[j], out)
        return out


@dataclass
class Action:
    kind: Any
    actor: Any
    number: Any
    key: Any
    sigs: list[SigValue[Any]]


@dataclass
class Ghost:
    """What the claims remember about the past, per step."""

    theft_at: Any  # the theft's step if it happened before this step, else -1
    retired: list[Any]  # per key: it was current for some number and stopped being so
    ever_approved: list[Any]  # per number: some key was approved for it
    released: list[Any]  # per number: a signed revoke since the last install
    announced: list[Any]  # per number: time of the pending announcement
    revoked_after_theft: Any  # the owner's number was revoked (signed) after the theft


class Unrolling:
    """``steps`` steps of ``variant`` with the operator ``honest`` or not, as z3 constraints."""

    def __init__(
        self,
        variant: LifecycleVariant,
        steps: int,
        *,
        operator_honest: bool,
        inductive: bool = False,
        lemmas: bool = True,
    ) -> None:
        """``inductive``: one step from an arbitrary state at an arbitrary step index (the
        caller constrains it by an invariant), signatures replayed from an arbitrary set of
        earlier ones (``in_a``); integers are unbounded there, so counters cannot wrap."""
        self.v = variant
        self.n_steps = steps
        self.honest_op = operator_honest
        self.inductive = inductive
        self.with_lemmas = lemmas
        self.use_bv = BV and not inductive
        self.ctx = z3.Context()
        self.L = Z3Logic(self.ctx, self.use_bv)
        self.cons: list[Any] = []
        self.theft = self._int("theft")  # the theft happens before this step (-1: never)
        self.base = self._int("base") if inductive else self.bv(0)  # index of step 0
        self.states: list[State[Any]] = [self._fresh_state(0)]
        self.ghosts: list[Ghost] = [self._fresh_ghost(0)]
        self.actions: list[Action] = []
        self.ticks: list[Any] = []
        self.in_a: list[list[Any]] = []  # inductive: slot s of step i replays a known signature
        if inductive:
            g = self.ghosts[0]
            self.cons += [self.base >= 0, self.theft >= -1]
            self.cons.append(g.theft_at == z3.If(self.theft <= self.base, self.theft, self.bv(-1)))
        else:
            self._initial()
        for i in range(steps):
            self.actions.append(self._fresh_action(i))
            self.in_a.append([self._bool(f"in_a{s}@{i}") for s in range(SLOTS)])
            self.states.append(self._fresh_state(i + 1))
            self.ghosts.append(self._fresh_ghost(i + 1))
            self._transition(i)
        if not inductive:
            self._budgets()

    # -- variables -----------------------------------------------------------------------

    def _int(self, name: str) -> Any:
        return z3.BitVec(name, WIDTH, self.ctx) if self.use_bv else z3.Int(name, self.ctx)

    def bv(self, x: int) -> Any:
        """The integer ``x`` in this unrolling's sort."""
        return z3.BitVecVal(x, WIDTH, self.ctx) if self.use_bv else z3.IntVal(x, self.ctx)

    def _bool(self, name: str) -> Any:
        return z3.Bool(name, self.ctx)

    def _var(self, name: str, boolean: bool) -> Any:
        return self._bool(name) if boolean else self._int(name)

    def _fresh_state(self, i: int) -> State[Any]:
        return State(
            scalars={s: self._int(f"{s}@{i}") for s in LC.SCALARS},
            numbers={
                f: [self._var(f"{f}[{n}]@{i}", f == "rec_on") for n in NUMBERS]
                for f in NUMBER_FIELDS
            },
            keys={"used": [self._bool(f"used[{k}]@{i}") for k in KEYS]},
            pairs={
                f: [[self._int(f"{f}[{n},{k}]@{i}") for k in KEYS] for n in NUMBERS]
                for f in PAIR_FIELDS
            },
            actors={f: [self._int(f"{f}[{a}]@{i}") for a in LC.ACTORS] for f in LC.ACTOR_FIELDS},
        )

    def _fresh_ghost(self, i: int) -> Ghost:
        return Ghost(
            self._int(f"theft_at@{i}"),
            [self._bool(f"retired[{k}]@{i}") for k in KEYS],
            [self._bool(f"ever[{n}]@{i}") for n in NUMBERS],
            [self._bool(f"released[{n}]@{i}") for n in NUMBERS],
            [self._int(f"announced[{n}]@{i}") for n in NUMBERS],
            self._bool(f"revoked_after_theft@{i}"),
        )

    def _fresh_action(self, i: int) -> Action:
        sigs = [
            SigValue(
                self._int(f"sig{j}.tag@{i}"),
                (
                    self._int(f"sig{j}.f0@{i}"),
                    self._int(f"sig{j}.f1@{i}"),
                    self._int(f"sig{j}.f2@{i}"),
                    self._int(f"sig{j}.f3@{i}"),
                ),
                self._int(f"sig{j}.key@{i}"),
            )
            for j in range(SLOTS)
        ]
        a = Action(
            self._int(f"kind@{i}"),
            self._int(f"actor@{i}"),
            self._int(f"number@{i}"),
            self._int(f"key@{i}"),
            sigs,
        )
        n_kinds = len(ENV_ACTIONS) + len(self.v.functions)
        self.cons += [
            a.kind >= 0,
            a.kind < n_kinds,
            a.actor >= 0,
            a.actor < len(LC.ACTORS),
            a.number >= 0,
            a.number < len(NUMBERS),
            a.key >= 0,
            a.key < len(KEYS),
        ]
        return a

    def _initial(self) -> None:
        init = LC.initial_state()
        s0 = self.states[0]
        for name, val in init.scalars.items():
            self.cons.append(s0.scalars[name] == val)
        for f, vals in init.numbers.items():
            self.cons += [x == v for x, v in zip(s0.numbers[f], vals, strict=True)]
        self.cons += [z3.Not(x) for x in s0.keys["used"]]
        for f, rows in init.pairs.items():
            for xr, vr in zip(s0.pairs[f], rows, strict=True):
                self.cons += [x == v for x, v in zip(xr, vr, strict=True)]
        for f, vals in init.actors.items():
            self.cons += [x == v for x, v in zip(s0.actors[f], vals, strict=True)]
        g = self.ghosts[0]
        self.cons += [self.theft >= -1, self.theft < self.n_steps]
        self.cons += [g.theft_at == z3.If(self.theft == 0, self.bv(0), self.bv(-1))]
        self.cons += [z3.Not(g.revoked_after_theft)]
        self.cons += [z3.Not(x) for x in g.retired + g.ever_approved + g.released]
        self.cons += [x == -1 for x in g.announced]

    # -- one step ------------------------------------------------------------------------

    def fn_kind(self, f: Function) -> int:
        return len(ENV_ACTIONS) + self.v.functions.index(f)

    def holds(self, actor: Any, key: Any, theft_at: Any) -> Any:
        L = self.L
        opts = [
            z3.And(actor == a, key == k) for a, held in enumerate(LC.HOLDS) for k in sorted(held)
        ]
        opts.append(z3.And(actor == LC.THIEF, key == LC.STOLEN, theft_at >= 0))
        return L.or_(*opts)

    def accepted(self, i: int, slot: int) -> Any:
        """Whether signature ``slot`` of step ``i`` was checked and accepted by its call."""
        a = self.actions[i]
        return self.L.or_(
            *(a.kind == self.fn_kind(f) for f in self.v.functions if len(f.sigs) > slot)
        )

    def same_sig(self, x: SigValue[Any], y: SigValue[Any]) -> Any:
        return z3.And(
            x.tag == y.tag,
            x.key == y.key,
            *(p == q for p, q in zip(x.fields, y.fields, strict=True)),
        )

    def _transition(self, i: int) -> None:
        pre, post = self.states[i], self.states[i + 1]
        g0, g1 = self.ghosts[i], self.ghosts[i + 1]
        a = self.actions[i]
        call = Call(a.actor, a.number, a.key, tuple(a.sigs), self.base + i)
        # per action kind: when it is enabled, and what it writes
        kinds: list[tuple[int, Any, list[LC.Write]]] = [(IDLE, z3.BoolVal(True, self.ctx), [])]
        for f in self.v.functions:
            kinds.append((self.fn_kind(f), *self._call(f, i, pre, call)))
        for k, enabled, _ in kinds:
            self.cons.append(z3.Implies(a.kind == k, enabled))
        # after any call the clock may advance by any number of ticks up to its bound
        # (nothing writes "now" otherwise)
        tick = self._int(f"ticks@{i}")
        self.ticks.append(tick)
        now = pre.scalars["now"]
        kinds = [(k, e, [*w, ("now", (), now + tick)]) for k, e, w in kinds]
        self.cons += [tick >= 0, now + tick <= LC.MAX_TIME]
        self.cons.append(z3.Implies(tick > 0, a.kind != IDLE))
        self._frame(pre, post, a.kind, [(k, w) for k, _, w in kinds if w])
        # unused signature slots are blank (so traces show none)
        for slot in range(SLOTS):
            s = a.sigs[slot]
            self.cons.append(
                z3.Implies(
                    z3.Not(self.accepted(i, slot)),
                    z3.And(s.tag == 0, s.key == 0, *(x == 0 for x in s.fields)),
                )
            )
        self._ghost_step(i, pre, post, g0, g1, a)
        if self.with_lemmas:
            self.cons += self.lemmas(pre, post)

    @staticmethod
    def lemmas(pre: State[Any], post: State[Any]) -> list[Any]:
        """Facts every transition implies (counters never go down), stated again so that the
        SAT solver need not rediscover them by arithmetic; ``test_lemmas_are_implied`` checks
        on one unconstrained step that the table implies each of them."""
        out = [post.scalars[x] >= pre.scalars[x] for x in LC.SCALARS]
        out += [
            p >= q for p, q in zip(post.numbers["version"], pre.numbers["version"], strict=True)
        ]
        return out

    def _owner_rule(self, a: Action, g0: Ghost) -> Any:
        """The honest owner never offers its stolen key as a new key (spec: OWNER_RULE)."""
        return z3.Not(z3.And(a.actor == LC.OWNER, a.key == LC.STOLEN, g0.theft_at >= 0))

    def _call(
        self, f: Function, i: int, pre: State[Any], c: Call[Any]
    ) -> tuple[Any, list[LC.Write]]:
        L = self.L
        g0 = self.ghosts[i]
        conds: list[Any] = []
        if f.caller == LC.OPERATOR_ONLY:
            conds.append(c.actor == LC.OPERATOR)
        if f.status_from is not None:
            st = pre.n(L, "status", c.number)
            conds.append(L.or_(*(st == int(s) for s in sorted(f.status_from))))
        if not f.uses_key:
            conds.append(c.key == 0)
        elif f.name in LC.NEW_KEY_FUNCTIONS:
            conds.append(self._owner_rule(self.actions[i], g0))
        for slot, rule in enumerate(f.sigs):
            sig = c.sigs[slot]
            d = next(x for x in self.v.digests if x.name == rule.digest)
            want = d.fn(L, pre, c)
            signer = pre.n(L, "key", c.number) if rule.signer == "current" else c.key
            conds += [sig.tag == self.v.digest_tag(rule.digest), sig.key == signer]
            conds += [x == y for x, y in zip(sig.fields, want, strict=True)]
            # made now by its caller, or any signature accepted before (public, replayable)
            earlier = [
                z3.And(self.accepted(j, s2), self.same_sig(sig, self.actions[j].sigs[s2]))
                for j in range(i)
                for s2 in range(SLOTS)
            ]
            if self.inductive:
                earlier.append(self.in_a[i][slot])
            made = LC.maker_ok(L, f, c.actor, c.number, sig.key, g0.theft_at)
            conds.append(L.or_(made, *earlier))
        conds += [chk.fn(L, pre, c) for chk in f.guards]
        if self.honest_op and f.caller == LC.OPERATOR_ONLY:
            conds.append(LC.service_ok(L, self.v, pre, f, c, g0.theft_at))
        writes: list[LC.Write] = []
        for _, eff in f.effects:
            writes += eff(L, pre, c)
        if f.status_to is not None:
            writes.append(("status", (c.number,), L.const(int(f.status_to))))
        return z3.And(*conds), writes

    def _frame(
        self,
        pre: State[Any],
        post: State[Any],
        kind: Any,
        writers: list[tuple[int, list[LC.Write]]],
    ) -> None:
        """One equation per state cell: the value the chosen action writes, else the old one
        (an action's later writes to a cell win over its earlier ones)."""

        def value(field: str, idx: tuple[int, ...], old: Any) -> Any:
            out = old
            for k, writes in writers:
                mine = [(w_idx, val) for f, w_idx, val in writes if f == field]
                if not mine:
                    continue
                v = old
                for w_idx, val in mine:
                    match = z3.And(*(w == x for w, x in zip(w_idx, idx, strict=True)))
                    v = z3.If(match, val, v) if w_idx else val
                out = z3.If(kind == k, v, out)
            return out

        eqs: list[Any] = []
        for sname in LC.SCALARS:
            eqs.append(post.scalars[sname] == value(sname, (), pre.scalars[sname]))
        for f in NUMBER_FIELDS:
            for n in range(len(NUMBERS)):
                eqs.append(post.numbers[f][n] == value(f, (n,), pre.numbers[f][n]))
        for f in LC.KEY_FIELDS:
            for k in range(len(KEYS)):
                eqs.append(post.keys[f][k] == value(f, (k,), pre.keys[f][k]))
        for f in PAIR_FIELDS:
            for n in range(len(NUMBERS)):
                for k in range(len(KEYS)):
                    eqs.append(post.pairs[f][n][k] == value(f, (n, k), pre.pairs[f][n][k]))
        for f in LC.ACTOR_FIELDS:
            for p in range(len(LC.ACTORS)):
                eqs.append(post.actors[f][p] == value(f, (p,), pre.actors[f][p]))
        self.cons += eqs

    # -- ghosts and claims ---------------------------------------------------------------

    @staticmethod
    def current(st: State[Any], n: int, k: int) -> Any:
        s = st.numbers["status"][n]
        return z3.And(
            z3.Or(s == int(Status.APPROVED), s == int(Status.SUSPENDED)),
            st.numbers["key"][n] == k,
        )

    @staticmethod
    def active(st: State[Any], n: int, k: int) -> Any:
        return z3.And(st.numbers["status"][n] == int(Status.APPROVED), st.numbers["key"][n] == k)

    def installs(self, i: int, n: int, k: int) -> Any:
        """Step ``i`` makes ``k`` the active key of ``n``."""
        pre, post = self.states[i], self.states[i + 1]
        return z3.And(self.active(post, n, k), z3.Not(self.active(pre, n, k)))

    def is_call(self, i: int, name: str, number: int | None = None) -> Any:
        a = self.actions[i]
        try:
            f = self.v.function(name)
        except UnknownProtocol:
            return z3.BoolVal(False, self.ctx)
        c = a.kind == self.fn_kind(f)
        return c if number is None else z3.And(c, a.number == number)

    def _ghost_step(
        self, i: int, pre: State[Any], post: State[Any], g0: Ghost, g1: Ghost, a: Action
    ) -> None:
        self.cons.append(
            g1.theft_at == z3.If(self.theft <= self.base + i + 1, self.theft, self.bv(-1))
        )
        for k in range(len(KEYS)):
            left = z3.Or(
                *(z3.And(self.current(pre, n, k), z3.Not(self.current(post, n, k))) for n in (0, 1))
            )
            self.cons.append(g1.retired[k] == z3.Or(g0.retired[k], left))
        for n in range(len(NUMBERS)):
            approved = z3.Or(*(self.active(post, n, k) for k in range(len(KEYS))))
            self.cons.append(g1.ever_approved[n] == z3.Or(g0.ever_approved[n], approved))
            installed = z3.Or(*(self.installs(i, n, k) for k in range(len(KEYS))))
            self.cons.append(
                g1.released[n]
                == z3.If(
                    self.is_call(i, "revoke", n),
                    True,
                    z3.If(installed, False, g0.released[n]),
                )
            )
            self.cons.append(
                g1.announced[n]
                == z3.If(
                    self.is_call(i, "announceRecovery", n), pre.scalars["now"], g0.announced[n]
                )
            )
        self.cons.append(
            g1.revoked_after_theft
            == z3.Or(
                g0.revoked_after_theft,
                z3.And(
                    self.is_call(i, "revoke", 0),
                    a.actor == LC.OWNER,
                    g0.theft_at >= 0,
                    self.current(pre, 0, LC.STOLEN),
                ),
            )
        )

    def violation_at(self, claim: ClaimId, i: int, condition: str = "") -> Any:
        pre, g0 = self.states[i], self.ghosts[i]
        a = self.actions[i]
        if claim is ClaimId.KEY_DEAD:
            return z3.Or(
                *(
                    z3.And(g0.retired[k], self.installs(i, n, k))
                    for n in range(len(NUMBERS))
                    for k in range(len(KEYS))
                )
            )
        if claim is ClaimId.THIEF_GETS_NOTHING:
            return z3.And(
                g0.revoked_after_theft,
                z3.Or(*(self.installs(i, 0, k) for k in (LC.KT, LC.STOLEN))),
            )
        if claim is ClaimId.OPERATOR_TIMELOCK:
            by_op = z3.Or(
                *(self.is_call(i, name) for name in ("approve", "approveClient", "executeRecovery"))
            )
            out = []
            for n in range(len(NUMBERS)):
                late = z3.And(
                    self.is_call(i, "executeRecovery"),
                    g0.announced[n] >= 0,
                    pre.scalars["now"] >= g0.announced[n] + LC.RECOVERY_DELAY,
                )
                new_key = z3.Or(
                    *(
                        z3.And(self.installs(i, n, k), z3.Not(self.current(pre, n, k)))
                        for k in range(len(KEYS))
                    )
                )
                out.append(
                    z3.And(
                        by_op,
                        a.number == n,
                        new_key,
                        g0.ever_approved[n],
                        z3.Not(g0.released[n]),
                        z3.Not(late),
                    )
                )
            return z3.Or(*out)
        if claim is ClaimId.SIG_ONCE:
            out = []
            for s in range(SLOTS):
                for j in range(i):
                    for s2 in range(SLOTS):
                        parts = [
                            self.accepted(i, s),
                            self.accepted(j, s2),
                            self.same_sig(a.sigs[s], self.actions[j].sigs[s2]),
                        ]
                        if condition == LC.CROSS_FUNCTION:
                            parts.append(a.kind != self.actions[j].kind)
                        out.append(z3.And(*parts))
            return z3.Or(*out) if out else z3.BoolVal(False, self.ctx)
        raise ModelError(f"unknown claim {claim}")

    def _budgets(self) -> None:
        calls = [a.kind >= len(ENV_ACTIONS) for a in self.actions]
        for p in range(len(LC.ACTORS)):
            mine = [
                z3.If(z3.And(c, a.actor == p), self.bv(1), self.bv(0))
                for c, a in zip(calls, self.actions, strict=True)
            ]
            if mine:
                self.cons.append(z3.Sum(*mine) <= LC.CALLS_PER_PARTY)
        for j in range(1, len(self.actions)):
            # idle steps only at the end: one execution, one shape
            self.cons.append(
                z3.Implies(self.actions[j - 1].kind == IDLE, self.actions[j].kind == IDLE)
            )
        for a in self.actions:
            self.cons.append(
                z3.Implies(a.kind == IDLE, z3.And(a.actor == 0, a.number == 0, a.key == 0))
            )

    # -- reading a model back ------------------------------------------------------------

    def solver(self) -> z3.Solver:
        z3.set_param("smt.random_seed", SEED)
        s = z3.SolverFor("QF_BV", ctx=self.ctx) if self.use_bv else z3.Solver(ctx=self.ctx)
        s.set("random_seed", SEED)
        s.set("timeout", TIMEOUT_MS)
        s.add(*self.cons)
        return s

    def steps_of(self, m: z3.ModelRef, upto: int) -> list[Step]:
        """The first ``upto`` steps of model ``m``, with the theft and the clock's ticks
        written as steps of their own where they happen."""

        def ev(x: Any) -> int:
            v = m.eval(x, model_completion=True)
            return int(v.as_signed_long() if self.use_bv else v.as_long())

        theft = ev(self.theft)
        out: list[Step] = []
        for i in range(upto):
            a = self.actions[i]
            kind = ev(a.kind)
            now = ev(self.states[i].scalars["now"])
            if kind == IDLE:
                break
            if i == theft:
                out.append(Step("theft", None, None, None, None, (), now))
            f = self.v.functions[kind - len(ENV_ACTIONS)]
            sigs = []
            for slot, rule in enumerate(f.sigs):
                s = a.sigs[slot]
                sigs.append(SigRecord(rule.digest, tuple(ev(x) for x in s.fields), KEYS[ev(s.key)]))
            out.append(
                Step(
                    "call",
                    f.name,
                    LC.ACTORS[ev(a.actor)],
                    NUMBERS[ev(a.number)],
                    KEYS[ev(a.key)] if f.uses_key else None,
                    tuple(sigs),
                    now,
                )
            )
            if i + 1 < upto:
                out += [
                    Step("tick", None, None, None, None, (), now + k)
                    for k in range(ev(self.ticks[i]))
                ]
        return out


@dataclass(frozen=True)
class Result:
    question: Question
    claim: LifecycleClaim
    verdict: Expected
    steps: int | None  # attack: its length in calls; otherwise the bound searched
    seconds: float
    trace: LifecycleTrace | None = None
    reason: str = ""
    inductive: bool = False  # no attack, and an inductive invariant covers any length


def _applies(v: LifecycleVariant, claim: ClaimId) -> bool:
    names = {f.name for f in v.functions}
    if claim in (ClaimId.KEY_DEAD, ClaimId.THIEF_GETS_NOTHING):
        return "revoke" in names
    if claim is ClaimId.SIG_ONCE:
        return bool(v.digests)
    return True


#: the bounded search's length (calls in all; every party at most CALLS_PER_PARTY)
SEARCH_STEPS = 6


def claim_of(q: Question) -> LifecycleClaim:
    return next(c for c in LC.CLAIMS if c.id is q.claim)


@solver_boundary
def check(
    v: LifecycleVariant,
    questions: Sequence[Question] | None = None,
    *,
    max_steps: int = SEARCH_STEPS,
    generated_by: str = "ethvoip prove key_lifecycle",
    induction: bool = True,
) -> list[Result]:
    """Decide each claim on ``v``: an attack of up to ``max_steps`` calls (the shortest), or
    none; then, where none, try the inductive invariant (executions of any length)."""
    if max_steps < 1:
        raise ModelError("the bound must be at least one step")
    out: list[Result] = []
    worlds: dict[bool, tuple[Unrolling, z3.Solver]] = {}
    proofs: dict[ClaimId, Induction] = {}
    for q in v.all_questions if questions is None else questions:
        c = claim_of(q)
        t0 = time.perf_counter()
        if not _applies(v, c.id):
            out.append(
                Result(q, c, Expected.NOT_APPLICABLE, None, 0.0, None, "the variant lacks it")
            )
            continue
        honest = c.operator == "honest"
        if honest not in worlds:
            u = Unrolling(v, max_steps, operator_honest=honest)
            worlds[honest] = (u, u.solver())
        u, s = worlds[honest]
        s.push()
        s.add(z3.Or(*(u.violation_at(c.id, i, q.condition) for i in range(max_steps))))
        status = s.check()
        s.pop()
        if status == z3.sat:
            tr, n = _shortest(u, s, v, q, c, max_steps, generated_by)
            out.append(Result(q, c, Expected.ATTACK, n, time.perf_counter() - t0, tr))
            continue
        if status != z3.unsat:
            why = f"z3: {s.reason_unknown()}"
            out.append(
                Result(q, c, Expected.UNKNOWN, max_steps, time.perf_counter() - t0, None, why)
            )
            continue
        reason = f"no attack in {max_steps} calls ({LC.CALLS_PER_PARTY} per party at most)"
        proved = False
        if induction:
            if c.id not in proofs:  # a restricted question shares its claim's proof
                proofs[c.id] = prove_inductive(v, c)
            ind = proofs[c.id]
            proved = ind.proved
            reason += (
                "; inductive invariant: no attack in any number of calls"
                if proved
                else f"; not inductive ({', '.join(ind.failing)})"
            )
        out.append(
            Result(
                q, c, Expected.NO_ATTACK, max_steps, time.perf_counter() - t0, None, reason, proved
            )
        )
    return out


def _shortest(
    u: Unrolling,
    s: z3.Solver,
    v: LifecycleVariant,
    q: Question,
    c: LifecycleClaim,
    max_steps: int,
    generated_by: str,
) -> tuple[LifecycleTrace, int]:
    """The attack with the fewest calls; among those, one without clock ticks and on the
    owner's number where one exists (any attack proves the verdict; these read best)."""
    for i in range(max_steps):
        s.push()
        s.add(u.violation_at(c.id, i, q.condition))
        if i + 1 < max_steps:
            s.add(u.actions[i + 1].kind == IDLE)
        if s.check() != z3.sat:
            s.pop()
            continue
        done = u.actions[: i + 1]
        model = s.model()
        prefs = (
            z3.And(u.theft == -1, *(a.actor != LC.THIEF for a in done)),  # no thief
            z3.And(*(a.actor != LC.OTHER for a in done)),  # no other subscriber
            # the operator alone: the owner's one registration, nothing more
            z3.Sum(*(z3.If(a.actor == LC.OWNER, u.bv(1), u.bv(0)) for a in done)) <= 1
            if c.id is ClaimId.OPERATOR_TIMELOCK
            else z3.BoolVal(True, u.ctx),
            # the thief steals from a subscriber who is already on board
            z3.Or(u.theft == -1, u.theft > 1),
            # every party names keys it holds (the paper checks no possession at all)
            z3.And(
                *(
                    z3.Implies(
                        z3.Or(*(u.is_call(j, f) for f in sorted(LC.NEW_KEY_FUNCTIONS))),
                        u.holds(a.actor, a.key, u.ghosts[j].theft_at),
                    )
                    for j, a in enumerate(done)
                )
            ),
            z3.And(*(a.number == 0 for a in done)),  # the owner's number
            z3.And(*(t == 0 for t in u.ticks[: i + 1])),  # no clock ticks
        )
        pushed = 0
        for pref in prefs:  # greedily: keep each preference that still admits the attack
            s.push()
            pushed += 1
            s.add(pref)
            if s.check() == z3.sat:
                model = s.model()
            else:
                s.pop()
                pushed -= 1
        for _ in range(pushed + 1):
            s.pop()
        tr = LifecycleTrace(
            variant=v.name,
            spec_digest=LC.digest(v),
            kind="attack",
            claim=q.name,
            operator=c.operator,
            bound=max_steps,
            generated_by=generated_by,
            steps=tuple(u.steps_of(model, i + 1)),
            violation=Violation(i, c.text),
        )
        return tr, i + 1
    raise ModelError(f"{v.name}/{c.id}: an attack exists but no step violates")  # pragma: no cover


# -- the inductive step: claims for executions of any length ----------------------------------


def _sig_invariant(u: Unrolling, x: SigValue[Any], st: State[Any]) -> Any:
    """What holds of every signature accepted so far, in state ``st``: the counter its digest
    names has moved on (so it never verifies again).  Written for the hardened digests."""
    L = u.L
    out: list[Any] = []
    names = {d.name for d in u.v.digests}

    def tag(name: str) -> Any:
        return x.tag == u.v.digest_tag(name) if name in names else z3.BoolVal(False, u.ctx)

    number_ok = z3.And(x.fields[0] >= 0, x.fields[0] < len(NUMBERS))
    version = st.n(L, "version", x.fields[0])
    out.append(z3.Implies(tag("Revoke"), z3.And(number_ok, x.fields[1] < version)))
    for name in ("Rotate", "RotateTo"):
        out.append(z3.Implies(tag(name), z3.And(number_ok, x.fields[2] < version)))
    # a registration spends its key: the key it names has entered the store
    key_ok = z3.And(x.fields[1] >= 0, x.fields[1] < len(KEYS))
    out.append(z3.Implies(tag("Register"), z3.And(number_ok, key_ok, st.k(L, "used", x.fields[1]))))
    serials = st.scalars["serials"]
    out.append(z3.Implies(tag("Recovery"), z3.And(number_ok, x.fields[2] <= serials)))
    pending_now = z3.And(
        st.n(L, "rec_on", x.fields[0]), st.n(L, "rec_serial", x.fields[0]) == x.fields[2]
    )
    out.append(
        z3.Implies(tag("Veto"), z3.And(number_ok, x.fields[2] <= serials, z3.Not(pending_now)))
    )
    known = [tag(d.name) for d in u.v.digests]
    out.append(z3.Or(*known))
    return z3.And(*out)


def invariant(u: Unrolling, idx: int) -> list[tuple[str, Any]]:
    """The strengthened claims over state ``idx`` of ``u`` (named, for a counterexample)."""
    st, g = u.states[idx], u.ghosts[idx]
    step = u.base + idx
    out: list[tuple[str, Any]] = []
    now, serials = st.scalars["now"], st.scalars["serials"]
    out.append(("clock", z3.And(now >= 0, now <= LC.MAX_TIME, serials >= 0)))
    A, S = int(Status.APPROVED), int(Status.SUSPENDED)
    nk = len(KEYS)
    for n in range(len(NUMBERS)):
        stt, key = st.numbers["status"][n], st.numbers["key"][n]
        rec_on, rec_key = st.numbers["rec_on"][n], st.numbers["rec_key"][n]
        out.append(
            (
                f"domain[{n}]",
                z3.And(
                    stt >= 0,
                    stt <= 4,
                    stt != int(Status.PENDING),
                    st.numbers["version"][n] >= 0,
                    key >= -1,
                    key < nk,
                    rec_key >= -1,
                    rec_key < nk,
                    st.numbers["rec_serial"][n] >= 0,
                    st.numbers["rec_serial"][n] <= serials,
                    st.numbers["burned"][n] >= -1,
                    st.numbers["burned"][n] < step,
                    g.announced[n] >= -1,
                    g.announced[n] <= now,
                ),
            )
        )
        live = z3.Or(stt == A, stt == S)
        out.append(
            (
                f"current key entered the store[{n}]",
                z3.Implies(
                    live,
                    z3.And(
                        key >= 0, *(z3.Implies(key == k, st.keys["used"][k]) for k in range(nk))
                    ),
                ),
            )
        )
        rec = [
            live,
            g.announced[n] >= 0,
            st.numbers["rec_at"][n] == g.announced[n] + LC.RECOVERY_DELAY,
            rec_key >= 0,
            st.numbers["rec_serial"][n] >= 1,
        ]
        if u.honest_op:
            owner_keys = sorted(LC.HOLDS[LC.NUMBER_OWNER[n]])
            rec.append(z3.Or(*(rec_key == k for k in owner_keys)))
        out.append((f"recovery[{n}]", z3.Implies(rec_on, z3.And(*rec))))
        out.append(
            (f"never approved while None[{n}]", z3.Implies(stt == 0, z3.Not(g.ever_approved[n])))
        )
        out.append(
            (
                f"revoked only by the key's holder[{n}]",
                z3.Implies(stt == int(Status.REVOKED), g.released[n]),
            )
        )
    for k in range(nk):
        out.append(
            (
                f"retired key stays out[{k}]",
                z3.Implies(
                    g.retired[k],
                    z3.And(st.keys["used"][k], *(z3.Not(u.current(st, n, k)) for n in range(2))),
                ),
            )
        )
        out.append(
            (f"one number per key[{k}]", z3.Not(z3.And(u.current(st, 0, k), u.current(st, 1, k))))
        )
    for n in range(len(NUMBERS)):
        for k in range(nk):
            at, reg = st.pairs["pend_at"][n][k], st.pairs["pend_reg"][n][k]
            holders = [a for a, held in enumerate(LC.HOLDS) if k in held]
            by = [reg == a for a in holders]
            if k == LC.STOLEN:
                by.append(z3.And(reg == LC.THIEF, g.theft_at >= 0))
            out.append(
                (
                    f"pending[{n},{k}] registered by a holder",
                    z3.And(
                        at >= -1,
                        at <= now,
                        reg >= -1,
                        reg < len(LC.ACTORS),
                        z3.Implies(at >= 0, z3.Or(*by)),
                    ),
                )
            )
    for k in range(nk):
        words = [st.pairs["pend_at"][n][k] >= 0 for n in range(len(NUMBERS))]
        out.append((f"one registration per key[{k}]", z3.Not(z3.And(*words))))
        was_current = z3.Or(g.retired[k], *(u.current(st, n, k) for n in range(len(NUMBERS))))
        for n in range(len(NUMBERS)):
            out.append(
                (
                    f"registration word[{n},{k}] spent the key, used once",
                    z3.And(
                        z3.Implies(words[n], st.keys["used"][k]),
                        z3.Implies(
                            z3.And(words[n], was_current),
                            st.pairs["pend_ver"][n][k] < st.numbers["version"][n],
                        ),
                    ),
                )
            )
    out.append(
        (
            "the stolen key's revocation sticks",
            z3.Implies(
                g.revoked_after_theft,
                z3.And(
                    g.theft_at >= 0,
                    st.numbers["burned"][0] >= g.theft_at
                    if u.v.burns_receipts
                    else z3.BoolVal(True, u.ctx),
                    g.retired[LC.STOLEN],
                ),
            ),
        )
    )
    out.append(("theft", z3.And(u.theft >= -1, g.theft_at >= -1)))
    return out


@dataclass(frozen=True)
class Induction:
    """Outcome of the inductive check of one claim."""

    proved: bool
    seconds: float
    failing: tuple[str, ...] = ()  # the conjuncts a counterexample to induction breaks


@solver_boundary
def prove_inductive(v: LifecycleVariant, claim: LifecycleClaim) -> Induction:
    """Whether the claim holds in every reachable state, for executions of any length.

    Three checks, each one z3 query: the initial state satisfies :func:`invariant`; one step
    of any action from any state satisfying it (with the replayed signatures satisfying the
    signature invariant) keeps it, keeps the signature invariant for every signature known
    before and for the ones it accepts; and no such step violates the claim.
    """
    t0 = time.perf_counter()
    honest = claim.operator == "honest"
    base = Unrolling(v, 0, operator_honest=honest)
    s0 = base.solver()
    s0.add(z3.Not(z3.And(*(f for _, f in invariant(base, 0)))))
    if s0.check() != z3.unsat:
        return Induction(False, time.perf_counter() - t0, ("initial state",))
    u = Unrolling(v, 1, operator_honest=honest, inductive=True)
    s = u.solver()
    s.add(*(f for _, f in invariant(u, 0)))
    pre, post = u.states[0], u.states[1]
    for slot in range(SLOTS):
        s.add(z3.Implies(u.in_a[0][slot], _sig_invariant(u, u.actions[0].sigs[slot], pre)))
    x = SigValue(
        u._int("x.tag"),
        (u._int("x.f0"), u._int("x.f1"), u._int("x.f2"), u._int("x.f3")),
        u._int("x.key"),
    )
    stable = z3.Implies(_sig_invariant(u, x, pre), _sig_invariant(u, x, post))
    new_ok = z3.And(
        *(
            z3.Implies(u.accepted(0, slot), _sig_invariant(u, u.actions[0].sigs[slot], post))
            for slot in range(SLOTS)
        )
    )
    claim_ok = z3.Not(u.violation_at(claim.id, 0))
    if claim.id is ClaimId.SIG_ONCE:
        # the step accepts a signature that was accepted before
        claim_ok = z3.Not(z3.Or(*(z3.And(u.accepted(0, sl), u.in_a[0][sl]) for sl in range(SLOTS))))
    post_inv = invariant(u, 1)
    s.add(z3.Not(z3.And(claim_ok, stable, new_ok, *(f for _, f in post_inv))))
    r = s.check()
    if r == z3.unsat:
        return Induction(True, time.perf_counter() - t0)
    failing: list[str] = []
    if r == z3.sat:
        m = s.model()
        failing = [n for n, f in post_inv if not z3.is_true(m.eval(f, model_completion=True))]
        for name, f in (("claim", claim_ok), ("signatures known", stable), ("new", new_ok)):
            if not z3.is_true(m.eval(f, model_completion=True)):
                failing.append(name)
    else:
        failing = [f"z3: {s.reason_unknown()}"]
    return Induction(False, time.perf_counter() - t0, tuple(failing))
