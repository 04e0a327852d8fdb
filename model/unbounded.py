"""The unbounded mode: claims decided on the Horn-clause abstraction (:mod:`.horn`) by z3's
Datalog engine, for any number of runs.

Verdicts are one-sided.  ``proved``: no execution with any number of runs, any number of
honest agents and the intruder violates the claim (the abstraction derives no violation, and
it over-approximates every execution).  ``cannot prove``: the abstraction derives a
violation; that may be a real attack or an artefact of the abstraction (merged fresh values,
no state, no replay cache), so it is never reported as an attack: the bounded search is how
attacks are found.  ``cannot tell``: the claiming role's honest run is not derivable in the
abstraction, so a "proof" would be vacuous.  ``unsupported``: the abstraction cannot
represent the construct.  Injective agreement is checked in its non-injective form only
(``proved non-injective``: the claim as stated is not proved).
"""

from __future__ import annotations

import ctypes
import enum
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import z3
from z3 import z3core

from ethvoip.model.horn import (
    AGENTS,
    ATOMIC,
    HONEST,
    NAMED,
    Block,
    Key,
    Lit,
    Program,
    Rule,
    keys_of,
    shape,
    unsupported,
    value,
    vname,
)
from ethvoip.spec.checks import default_shape, front_end
from ethvoip.spec.errors import UnsupportedProtocol
from ethvoip.spec.protocol import AGREEMENTS, Claim, ClaimKind, Recv, Role, Variant
from ethvoip.spec.semantics import honest_execution, received_variables
from ethvoip.spec.terms import Atom, Exp, Fresh, G, Pk, Sort, Term, Var, substitute, variables

#: (claimant, peer) as the named agents: distinct, or one agent in both roles.
CASES = ((NAMED[0], NAMED[1]), (NAMED[0], NAMED[0]))


class UVerdict(enum.StrEnum):
    PROVED = "proved"
    PROVED_NI = "proved non-injective"
    CANNOT_PROVE = "cannot prove"
    CANNOT_TELL = "cannot tell"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class UResult:
    """The unbounded verdict on one claim."""

    claim: Claim
    verdict: UVerdict
    seconds: float
    reason: str
    terms: int = 0  # size of the abstraction's term universe (the largest one used)


# --------------------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------------------


def inline_equalities(r: Rule) -> Rule | None:
    """``r`` with its ``=`` literals substituted away (None if two constants differ): the
    engine then sees only relations, as with negation (see :meth:`Program._blocked`), which
    it mishandled."""
    head, body = r.head, list(r.body)
    while True:
        eq = next((x for x in body if x.rel == "="), None)
        if eq is None:
            return Rule(head, tuple(body))
        body.remove(eq)
        a, b = eq.args
        if not isinstance(a, str):
            a, b = b, a
        if not isinstance(a, str):
            if a != b:
                return None
            continue

        def sub(x: Lit, a: str = a, b: str | int = b) -> Lit:
            return Lit(x.rel, tuple(b if y == a else y for y in x.args), x.neg)

        head, body = sub(head), [sub(x) for x in body]


def _vars(x: Lit) -> set[str]:
    return {a for a in x.args if isinstance(a, str)}


def binary(rules: Sequence[Rule]) -> list[Rule]:
    """The same program with at most two positive literals per body, joined in an order
    where each literal shares a variable with those before it when one does.

    z3's own join planner (``mk_simple_joins``) pairs literals across rules and happily
    builds cross products (``att(x) x att(y)``: millions of rows where the relations have
    hundreds); measured on psk_handshake/paper: 2 s before, a few ms after.
    """
    out: list[Rule] = []
    n = 0
    for r in rules:
        pos = [x for x in r.body if not x.neg]
        rest = [x for x in r.body if x.neg]
        if len(pos) <= 2:
            out.append(r)
            continue
        order = [pos.pop(0)]
        bound = _vars(order[0])
        while pos:
            i = next((i for i, x in enumerate(pos) if _vars(x) & bound), 0)
            order.append(pos.pop(i))
            bound |= _vars(order[-1])
        acc = order[0]
        seen = set(_vars(acc))
        for j, x in enumerate(order[1:], start=1):
            seen |= _vars(x)
            ready = [y for y in rest if _vars(y) <= seen]
            rest = [y for y in rest if y not in ready]
            if j == len(order) - 1:
                out.append(Rule(r.head, (acc, x, *ready, *rest)))
                break
            later = _vars(r.head).union(*(_vars(y) for y in (*order[j + 1 :], *rest)))
            keep = tuple(sorted(seen & later))
            n += 1
            nxt = Lit(f"j{n}", keep)
            out.append(Rule(nxt, (acc, x, *ready)))
            acc = nxt
    return out


def _load(
    prog: Program,
    rules: Sequence[Rule],
    queries: Sequence[str],
    facts: Mapping[str, list[tuple[int, ...]]] | None,
) -> tuple[z3.Fixedpoint, z3.Context, int]:
    """A Datalog engine holding the program's facts (and ``facts``), ``rules``, and
    ``ans(i)`` for each derived query ``i``; with the width of its bit-vector sort.

    Rules go to z3 as SMT-LIB text (z3's Python layer costs tens of microseconds per term,
    which made building the rules cost more than solving them); facts through
    ``Z3_fixedpoint_add_fact``, which takes the integers as they are (text facts parse at
    about 20 000 a second).
    """
    all_facts = {**prog.facts, **(facts or {})}
    arity: dict[str, int] = {rel: len(rows[0]) for rel, rows in all_facts.items() if rows}
    rules = binary([x for x in map(inline_equalities, rules) if x is not None])
    for r in rules:
        for x in (r.head, *r.body):
            arity.setdefault(x.rel, len(x.args))
    for q in queries:
        arity.setdefault(q, 0)
    arity["ans"] = 1
    bits = max(len(prog.u), len(queries), 2).bit_length()
    sort = f"(_ BitVec {bits})"
    text = [f"(declare-rel {n} ({' '.join([sort] * a)}))" for n, a in arity.items()]
    names = {a for r in rules for x in (r.head, *r.body) for a in x.args if isinstance(a, str)}
    text += [f"(declare-var {n} {sort})" for n in sorted(names)]

    def arg(a: str | int) -> str:
        return a if isinstance(a, str) else f"(_ bv{a} {bits})"

    def lit(x: Lit) -> str:
        app = f"({x.rel} {' '.join(arg(a) for a in x.args)})" if x.args else x.rel
        return f"(not {app})" if x.neg else app

    for r in rules:
        body = " ".join(lit(b) for b in r.body)
        text.append(f"(rule (=> (and {body}) {lit(r.head)}))" if body else f"(rule {lit(r.head)})")
    # one query, one saturation: z3 saturates anew for every query
    text += [f"(rule (=> {q} (ans {arg(i)})))" for i, q in enumerate(queries)]
    ctx = z3.Context()
    fp = z3.Fixedpoint(ctx=ctx)
    fp.set("engine", "datalog")
    # z3's inliner would merge the binary joins of :func:`binary` back into long rules
    fp.set("xform.inline_eager", False)
    fp.set("xform.inline_linear", False)
    fp.parse_string("\n".join(text))
    T = z3.BitVecSort(bits, ctx)
    B = z3.BoolSort(ctx)
    c, d = ctx.ref(), fp.fixedpoint
    for rel, rows in all_facts.items():
        if not rows:
            continue
        f = z3.Function(rel, *([T] * len(rows[0])), B).ast  # the parsed declaration
        buf = (ctypes.c_uint * len(rows[0]))()
        for row in rows:
            buf[:] = list(row)
            z3core.Z3_fixedpoint_add_fact(c, d, f, len(row), buf)
    return fp, ctx, bits


def solve(
    prog: Program,
    extra: Sequence[Rule],
    queries: Sequence[str],
    *,
    rules: Sequence[Rule] | None = None,
    facts: Mapping[str, list[tuple[int, ...]]] | None = None,
) -> dict[str, bool]:
    """Which of the nullary relations ``queries`` the least fixpoint derives (``rules``
    instead of the program's own, ``facts`` on top of its own)."""
    fp, ctx, bits = _load(prog, [*(prog.rules if rules is None else rules), *extra], queries, facts)
    x = z3.BitVec("ans!x", bits, ctx)
    fp.declare_var(x)
    status = fp.query(z3.Function("ans", z3.BitVecSort(bits, ctx), z3.BoolSort(ctx))(x))
    if status == z3.unknown:
        raise UnsupportedProtocol(f"z3's Datalog engine gave up: {fp.reason_unknown()}")
    if status != z3.sat:
        return dict.fromkeys(queries, False)
    # the answer is a formula over the query's variable, as the bound variable 0 (in
    # whatever form z3 chooses: a disjunction of equalities, a range): evaluate it
    answer = fp.get_answer()
    return {
        q: z3.is_true(z3.simplify(z3.substitute_vars(answer, z3.BitVecVal(i, bits, ctx))))
        for i, q in enumerate(queries)
    }


def derived_values(prog: Program, extra: Sequence[Rule], rel: str) -> list[int]:
    """The ids in the unary relation ``rel`` of the least fixpoint (when z3 answers with a
    disjunction of equalities; nothing otherwise: this only illustrates a verdict)."""
    fp, ctx, bits = _load(prog, [*prog.rules, *extra], [], None)
    x = z3.BitVec("val!x", bits, ctx)
    fp.declare_var(x)
    if fp.query(z3.Function(rel, z3.BitVecSort(bits, ctx), z3.BoolSort(ctx))(x)) != z3.sat:
        return []
    out, todo = [], [fp.get_answer()]
    while todo:
        e = todo.pop()
        if z3.is_or(e):
            todo += e.children()
        elif z3.is_eq(e):
            out += [c.as_long() for c in e.children() if z3.is_bv_value(c)]
    return sorted(set(out))


# --------------------------------------------------------------------------------------
# Claims as queries
# --------------------------------------------------------------------------------------


def _find(keys: Iterable[Key], name: str, sort: Sort = Sort.AGENT) -> Var | None:
    for k in keys:
        if isinstance(k, Var) and k.name == name and k.sort is sort:
            return k
    return None


def believed(v: Variant, role: Role, keys: Sequence[Key]) -> list[Var]:
    """The agent variables a finished run of ``role`` binds (whom it believes takes part)."""
    out = []
    for a in v.agent_vars:
        x = _find(keys, a.name)
        if x is not None:
            out.append(x)
    return out


def _rename(lits: Sequence[Lit], prefix: str) -> list[Lit]:
    return [
        Lit(x.rel, tuple(prefix + a if isinstance(a, str) else a for a in x.args), x.neg)
        for x in lits
    ]


class Checker:
    """Every claim of one variant on its abstractions (one per marking, built once)."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant
        self._programs: dict[tuple[tuple[tuple[str, str], frozenset[int]], ...], Program] = {}
        self._reached: dict[str, bool] = {}

    def program(self, marks: dict[tuple[str, str], frozenset[int]]) -> Program:
        key = tuple(sorted(marks.items()))
        if key not in self._programs:
            self._programs[key] = Program(self.v, marks)
        return self._programs[key]

    def _end(self, p: Program, role: Role) -> tuple[Lit, list[Key]]:
        sh = p.shapes[role.name]
        return p.end(role), sh.state(len(role.steps))

    def reach(self, p: Program, role: Role, agents: dict[str, int], name: str) -> Rule:
        """``name`` holds if a run of ``role`` finishes believing in ``agents`` (by variable)."""
        end, keys = self._end(p, role)
        body = [end]
        for x in believed(self.v, role, keys):
            if x.name in agents:
                body.append(Lit("=", (vname(x), agents[x.name])))
            else:
                body.append(Lit("honest", (vname(x),)))
        return Rule(Lit(name, ()), tuple(body))

    def honest_reach(self, p: Program) -> tuple[list[Rule], dict[str, str]]:
        """One query per role: its run finishes with each role played by its own honest agent
        (the spec's honest run, abstracted)."""
        names = {a.name: p.agent[HONEST[i]] for i, a in enumerate(self.v.agent_vars) if i < 3}
        rules, queries = [], {}
        for r in self.v.roles:
            q = f"reach_{r.name}"
            rules.append(self.reach(p, r, names, q))
            queries[r.name] = q
        return rules, queries

    # ---- the claim kinds ------------------------------------------------------------

    def secrecy(self, p: Program, c: Claim, q: str, leak: bool = False) -> list[Rule]:
        """``q``: a finished run with honest beliefs holds the term and the intruder knows
        it (``leak``: ``q(term)``, which abstract values leak)."""
        role = self.v.role(c.role)
        end, keys = self._end(p, role)
        assert c.term is not None
        if not variables(c.term) <= set(keys):
            raise unsupported(f"claim {c.name}: {c.term} is not bound at the end")
        o, body = p.lits(c.term, set())
        honest = [Lit("honest", (vname(x),)) for x in believed(self.v, role, keys)]
        head = Lit(q, ()) if not leak else Lit(q, (o,))
        return [Rule(head, (end, *honest, *body, Lit("att", (o,))))]

    def key_share(self, p: Program, c: Claim, q: str) -> list[Rule]:
        role = self.v.role(c.role)
        end, keys = self._end(p, role)
        assert c.term is not None
        mine = believed(self.v, role, keys)
        if len(mine) > len(NAMED):
            raise unsupported(f"claim {c.name}: key agreement among more than two agents")
        k, body = p.lits(c.term, set())
        # the claimant's agents one-to-one on the named agents: "differs" is then preserved
        base = [end, *body, *(Lit("named", (vname(x),)) for x in mine)]
        out = []
        for s in self.v.roles:
            if s.session_key is None:
                continue
            s_end, s_keys = self._end(p, s)
            k2, body2 = p.lits(s.session_key, set())
            other = _rename([s_end, *body2], "s_")
            same = Lit("=", (k, "s_" + k2 if isinstance(k2, str) else k2))
            for x in mine:
                y = _find(s_keys, x.name)
                if y is not None:
                    differs = Lit("neq", (vname(x), "s_" + vname(y)))
                    out.append(Rule(Lit(q, ()), (*base, *other, same, differs)))
        return out

    def check(self, progress: object = None) -> list[UResult]:
        front_end(self.v)
        try:
            _check_shapes(self.v)
        except UnsupportedProtocol as exc:
            return [UResult(c, UVerdict.UNSUPPORTED, 0.0, str(exc)) for c in self.v.claims]
        out = []
        t0 = time.perf_counter()
        try:
            base = self.program({})
        except UnsupportedProtocol as exc:
            return [UResult(c, UVerdict.UNSUPPORTED, 0.0, str(exc)) for c in self.v.claims]
        rules, reach = self.honest_reach(base)
        plain = [c for c in self.v.claims if c.kind not in AGREEMENTS]
        queries = list(reach.values())
        for i, c in enumerate(plain):
            q = f"bad{i}"
            if c.kind is ClaimKind.SECRECY:
                rules += self.secrecy(base, c, q)
            else:
                try:
                    rules += self.key_share(base, c, q)
                except UnsupportedProtocol:
                    continue
            queries.append(q)
        got = solve(base, rules, queries)
        for r, q in reach.items():
            self._reached[r] = got[q]
        shared = time.perf_counter() - t0
        results: dict[str, UResult] = {}
        for i, c in enumerate(plain):
            t1 = time.perf_counter()
            q = f"bad{i}"
            if q not in got:
                try:
                    self.key_share(base, c, q)
                except UnsupportedProtocol as exc:
                    results[c.name] = UResult(c, UVerdict.UNSUPPORTED, 0.0, str(exc), len(base.u))
                continue
            secs = shared / max(len(plain), 1) + time.perf_counter() - t1
            results[c.name] = self._verdict(c, got[reach[c.role]], got[q], secs, len(base.u))
            if c.kind is ClaimKind.SECRECY and got[q] and got[reach[c.role]]:
                # say which abstract value leaks (one more saturation, for failures only)
                leaked = derived_values(base, self.secrecy(base, c, "leak", leak=True), "leak")
                shown = ", ".join(base.u.show(i) for i in leaked[:3])
                old = results[c.name]
                why = f"{old.reason}; the intruder derives {shown}" if shown else old.reason
                secs = shared / max(len(plain), 1) + time.perf_counter() - t1
                results[c.name] = UResult(c, old.verdict, secs, why, old.terms)
        for c in self.v.claims:
            if c.kind in AGREEMENTS:
                t1 = time.perf_counter()
                try:
                    results[c.name] = self.agreement(c, t1)
                except UnsupportedProtocol as exc:
                    secs = time.perf_counter() - t1
                    results[c.name] = UResult(c, UVerdict.UNSUPPORTED, secs, str(exc))
        for c in self.v.claims:
            out.append(results[c.name])
        return out

    def reached(self, role: Role) -> bool:
        if role.name not in self._reached:
            base = self.program({})
            rules, queries = self.honest_reach(base)
            got = solve(base, rules, list(queries.values()))
            for r, q in queries.items():
                self._reached[r] = got[q]
        return self._reached[role.name]

    def _verdict(self, c: Claim, reached: bool, bad: bool, secs: float, size: int) -> UResult:
        if not reached:
            why = (
                f"vacuous: no run of {c.role} with honest peers finishes in the abstraction "
                "(its honest run is not derivable)"
            )
            return UResult(c, UVerdict.CANNOT_TELL, secs, why, size)
        if bad:
            why = "the abstraction derives a violation (an attack, or an artefact of merging"
            why += " fresh values by their agents"
            if any(isinstance(s, Recv) and s.once for r in self.v.roles for s in r.steps):
                why += "; replay caches are not represented"
            return UResult(c, UVerdict.CANNOT_PROVE, secs, why + ")", size)
        if c.kind is ClaimKind.I_AGREEMENT:
            why = "non-injective agreement proved; injectivity is not represented"
            return UResult(c, UVerdict.PROVED_NI, secs, why, size)
        return UResult(c, UVerdict.PROVED, secs, "for any number of runs", size)

    # ---- agreement ------------------------------------------------------------------

    def agreement(self, c: Claim, t0: float) -> UResult:
        """Non-injective agreement by blocking: in the abstraction where no peer run can
        emit the begin event the claimant's end event needs, that end event must be
        underivable (docs/model.rst, "Unbounded proofs", says why this is sound)."""
        v = self.v
        claimant = v.role(c.role)
        assert c.peer is not None
        peer = v.role(c.peer)
        end_keys = shape(claimant).state(len(claimant.steps))
        x_var = claimant.agent
        y_var = _find(end_keys, peer.agent.name)
        if y_var is None:
            raise unsupported(f"claim {c.name}: {c.role} never learns who plays {c.peer}")
        marks: dict[tuple[str, str], frozenset[int]] = {}
        kinds: list[Position] = []
        block_terms: tuple[Term, ...] = ()
        k = 0
        if c.kind is not ClaimKind.ALIVENESS:
            assert c.peer_at is not None
            k = peer.labels.index(c.peer_at)
            pkeys = shape(peer).after(k)
            belief = _find(pkeys, claimant.agent.name)
            usable = belief is not None
            data = [_by_name(t, end_keys) for t in c.data]
            view = [_by_name(t, shape(peer).state(len(peer.steps))) for t in c.peer_view]
            for i, (mine, theirs) in enumerate(zip(data, view, strict=True), start=1):
                if not set(keys_of(theirs)) <= set(pkeys):
                    usable = False  # not bound at peer_at: no peer run agrees on it
                if not set(keys_of(mine)) <= set(end_keys):
                    raise unsupported(f"claim {c.name}: {mine} not bound when {c.role} ends")
                kinds.append(
                    self._classify(c, i, mine, theirs, claimant, peer, x_var, y_var, belief, marks)
                )
            if usable:
                assert belief is not None
                block_terms = (peer.agent, belief, *view)
        p = self.program(marks)
        size = len(p.u)
        # the honest run (no run blocked, nothing marked) must reach the claimant's end
        reached = self.reached(claimant)
        bad = False
        for cx, cy in CASES:
            ax, ay = p.agent[cx], p.agent[cy]
            blocks: list[Block] = []
            columns: list[tuple[Term, list[int]]] = []  # (term, its blocked values)
            if c.kind is ClaimKind.ALIVENESS:
                blocks = [Block(r.name, 0, (r.agent,), "blk") for r in v.roles]
                columns = [(v.roles[0].agent, [ay])]
            elif block_terms:
                blocks = [Block(peer.name, k, block_terms, "blk")]
                sets = [[ay], [ax]] + [self._blk_column(p, kind, ax, ay) for kind in kinds]
                columns = list(zip(block_terms, sets, strict=True))
            agents = {x_var.name: ax, y_var.name: ay}
            reach = self.reach(p, claimant, agents, "reach")
            cond, facts = self._end_conditions(p, kinds, ax, ay)
            bad_rule = Rule(Lit("bad", ()), (*reach.body, *cond))
            for i, (term, blocked) in enumerate(columns):
                out = set(blocked)
                facts[f"blk_not{i}"] = [(x,) for x in _domain(p, term) if x not in out]
            got = solve(
                p, [reach, bad_rule], ["reach", "bad"], rules=p.rules_for(blocks), facts=facts
            )
            if got["bad"]:
                bad = True
                break
        if not bad and any(pos.tag == "peer-fixed" for pos in kinds):
            # a value the peer's begin event fixes, but the claimant's end event holds
            # another: no run agrees, nothing to block, it must simply be underivable
            extra = []
            others: dict[str, list[tuple[int, ...]]] = {}
            for cx, cy in CASES:
                ax, ay = p.agent[cx], p.agent[cy]
                reach = self.reach(p, claimant, {x_var.name: ax, y_var.name: ay}, "reach")
                for cond in self._unblocked_conditions(p, kinds, ax, ay, others):
                    extra.append(Rule(Lit("bad", ()), (*reach.body, *cond)))
            bad = solve(p, extra, ["bad"], facts=others)["bad"]
        return self._verdict(c, reached, bad, time.perf_counter() - t0, size)

    def _classify(
        self,
        c: Claim,
        i: int,
        mine: Term,
        theirs: Term,
        claimant: Role,
        peer: Role,
        x_var: Var,
        y_var: Var,
        belief: Var | None,
        marks: dict[tuple[str, str], frozenset[int]],
    ) -> Position:
        """How data position ``i`` is compared: ``fixed`` (the claimant's value is named by
        its agents), ``mark`` (fresh values marked ``i``), ``peer-fixed`` (the peer's value is
        named by its agents)."""
        if set(keys_of(mine)) <= {x_var, y_var} and _simple(mine):
            return Position("fixed", mine, term=mine, agents=(x_var, y_var))
        a, b = _source(self.v, claimant, mine), _source(self.v, peer, theirs)
        if a is not None and b is not None:
            if a[0] != b[0]:
                raise unsupported(f"claim {c.name}: {mine} and {theirs} of different kinds")
            names = a[1] & b[1]
            for n in names:
                if marks.get(n, frozenset({i})) != frozenset({i}):
                    raise unsupported(f"claim {c.name}: two data positions may share a value")
                marks[n] = frozenset({i})
            return Position("mark", mine, label=i, kind=a[0], names=names)
        if belief is not None and set(keys_of(theirs)) <= {peer.agent, belief} and _simple(theirs):
            # the peer's value in its own terms: its actor is the case's peer, its belief the
            # claimant
            return Position("peer-fixed", mine, term=theirs, agents=(belief, peer.agent))
        raise unsupported(f"claim {c.name}: agreement on {mine} (peer: {theirs})")

    def _fixed_value(self, p: Program, pos: Position, ax: int, ay: int) -> int:
        """The value a ``fixed`` (claimant's view) or ``peer-fixed`` (peer's view) position
        has in the case where the claimant is ``ax`` and the peer ``ay``."""
        assert pos.term is not None and pos.agents is not None
        x, y = pos.agents
        return value(p.u, pos.term, {x: ax, y: ay})

    def _blk_column(self, p: Program, pos: Position, ax: int, ay: int) -> list[int]:
        if pos.tag == "mark":
            return _marked(p, pos.label, pos.kind)
        return [self._fixed_value(p, pos, ax, ay)]

    def _end_conditions(
        self, p: Program, kinds: list[Position], ax: int, ay: int
    ) -> tuple[list[Lit], dict[str, list[tuple[int, ...]]]]:
        """The claimant's data as the blocked begin event would carry it."""
        out: list[Lit] = []
        facts: dict[str, list[tuple[int, ...]]] = {}
        for pos in kinds:
            if pos.tag == "fixed":
                continue  # named by the case's agents already
            o, body = p.lits(pos.mine, set())
            out += body
            if pos.tag == "mark":
                rel = f"endok{pos.label}"
                out.append(Lit(rel, (o,)))
                facts[rel] = [(x,) for x in _end_ok(p, pos.label, pos.kind, pos.names)]
            else:
                out.append(Lit("=", (o, self._fixed_value(p, pos, ax, ay))))
        return out, facts

    def _unblocked_conditions(
        self,
        p: Program,
        kinds: list[Position],
        ax: int,
        ay: int,
        facts: dict[str, list[tuple[int, ...]]],
    ) -> list[list[Lit]]:
        """The claimant's value differs from the one the peer's begin event fixes (a
        relation of the other values, not a disequality: see :meth:`Program._blocked`)."""
        out = []
        for i, pos in enumerate(kinds):
            if pos.tag == "peer-fixed":
                o, body = p.lits(pos.mine, set())
                rel = f"other{i}_{ax}_{ay}"
                fixed = self._fixed_value(p, pos, ax, ay)
                facts[rel] = [(x,) for x in _domain(p, pos.mine) if x != fixed]
                out.append([*body, Lit(rel, (o,))])
        return out


@dataclass(frozen=True)
class Position:
    """How one position of an agreement claim's data is compared (see
    :meth:`Checker._classify`); ``mine`` is the claimant's term for it, in its own names."""

    tag: str
    mine: Term
    term: Term | None = None
    agents: tuple[Var, Var] | None = None  # (gets the claimant, gets the peer)
    label: int = 0
    kind: str = ""
    names: frozenset[tuple[str, str]] = frozenset()


def _by_name(t: Term, keys: Sequence[Key]) -> Term:
    """``t`` in a role's own terms: agreement data names values by name across roles (the
    initiator's fresh ``N1`` is the responder's variable ``N1``)."""
    names = {k.name: k for k in keys}
    mapping = {x: names[x.name] for x in keys_of(t) if x.name in names}
    return substitute(t, mapping)


def _domain(p: Program, t: Term) -> list[int]:
    """Every value ``t`` can take in the universe (a superset: the free values of a blocked
    position are this minus the blocked ones)."""
    u = p.u
    match t:
        case Var(_, Sort.AGENT):
            return [p.agent[n] for n in AGENTS]
        case Var(_, sort) | Fresh(_, sort) if sort in ATOMIC:
            return list(u.atoms[sort])
        case Var(_, Sort.PUBKEY) | Pk():
            return list(u.pk_owner)
        case Var(_, Sort.GROUP) | Exp(_, (_,)):
            return [i for i, e in u.exps.items() if len(e) == 1]
        case Atom():
            return [value(u, t, {})]
    return list(range(len(u)))


def _simple(t: Term) -> bool:
    """Built of agent variables, constants and their public keys only."""
    match t:
        case Var(_, sort):
            return sort is Sort.AGENT
        case Atom():
            return True
        case Pk(o):
            return _simple(o)
    return False


_MARKABLE = (Sort.NONCE, Sort.KEY, Sort.EXP)


def _source(v: Variant, role: Role, t: Term) -> tuple[str, frozenset[tuple[str, str]]] | None:
    """Which fresh values (by role and name; ``("", sort)`` the intruder's) can sit at a data
    position holding ``t``, and of which kind (an atom of a sort, or ``g`` to one)."""

    def every(sort: Sort) -> frozenset[tuple[str, str]]:
        names = {(r.name, f.name) for r in v.roles for f in r.fresh if f.sort is sort}
        return frozenset(names | {("", sort.value)})

    match t:
        case Fresh(name, sort) if sort in _MARKABLE:
            return (sort.value, frozenset({(role.name, name)}))
        case Var(_, sort) if sort in _MARKABLE:
            return (sort.value, every(sort))
        case Var(_, Sort.GROUP):
            return ("group", every(Sort.EXP))
        case Exp(base, (e,)) if base == G:
            inner = _source(v, role, e)
            if inner is not None and inner[0] == Sort.EXP.value:
                return ("group", inner[1])
    return None


def _atoms_of(p: Program, kind: str) -> list[tuple[int, int]]:
    """(atom, value) pairs of a kind: the value is the atom, or ``g`` to it."""
    sort = Sort.EXP if kind == "group" else Sort(kind)
    out = []
    for a in p.u.atoms[sort]:
        out.append((a, p.u.power((a,)) if kind == "group" else a))
    return out


def _marked(p: Program, i: int, kind: str) -> list[int]:
    return [val for a, val in _atoms_of(p, kind) if p.mark_of.get(a, 0) == i]


def _end_ok(p: Program, i: int, kind: str, names: frozenset[tuple[str, str]]) -> list[int]:
    """Values the claimant's end event may hold at position ``i`` in the blocked world: the
    ones marked ``i``, and any that no begin event can hold there."""
    return [
        val
        for a, val in _atoms_of(p, kind)
        if p.mark_of.get(a, 0) == i or p.origin.get(a) not in names
    ]


def _check_shapes(v: Variant) -> None:
    """Received values must have the default shapes (atoms, ``pk(agent)``, ``g^x``): the
    abstraction's universe is built from them."""
    # key compromise (issue 15 §2) is not in the abstraction: refused whole, never dropped
    # (left out, it would "prove" the secrecy Denning-Sacco breaks; a test shows it would)
    if v.reveals:
        raise unsupported("key compromise (Variant.reveals) is not represented")
    runs, _ = honest_execution(v)
    for run in runs:
        for step, x in received_variables(run):
            if x.sort is Sort.CONST:
                # the universe holds the description's constants only, and the intruder
                # may send any other
                raise unsupported(f"a received constant {x.name} at {run.role.name}/{step.label}")
            value = run.bindings[x]
            if not default_shape(value, x.sort):
                raise unsupported(
                    f"{value} received into {x.sort.value} variable {x.name} at "
                    f"{run.role.name}/{step.label} (only atoms, pk(agent) and g^x)"
                )
