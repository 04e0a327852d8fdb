"""The Horn-clause abstraction of a protocol variant (ProVerif style), for the unbounded mode.

A sound over-approximation of every execution with any number of runs, as a Datalog program:

* ``att(t)``: the intruder may know ``t``; Dolev-Yao closure rules (tuples, encryption,
  decryption with a known key, signatures that reveal their message, hashes, ``g^x`` and
  ``(g^x)^y``);
* a role is a chain of state predicates ``st_R_k(bound values)``: a run may take step ``k``
  whenever the intruder can derive the instantiated receive pattern; a send puts the
  instantiated message into ``att``.  Nothing orders runs, nothing counts them, and no run
  forgets: every message a run could ever accept is accepted as often as wanted;
* a fresh value ``N`` of role ``R`` is abstracted by the agents the run knows when it first
  uses it: ``N[A,B]``.  All runs of ``R`` between the same agents share that name;
* agents: ``a`` and ``b`` (the claim's agents, mapped one-to-one), ``z`` (every other honest
  agent), ``e`` (the intruder and every agent he controls).

Terms form a finite universe, because matching is typed: a received variable holds an atom,
``pk(agent)`` or ``g^x``, so every message an honest run sends is an instance over finitely
many abstract values, and the intruder's own constructions need not be listed: a receive
pattern is derivable if the whole instance is a known term of the universe or, node by node,
the intruder can build it from derivable parts (the relations ``d_*`` below).  Python builds
the universe and the rules; z3's Datalog engine (``ethvoip.model.unbounded``) computes the
least fixpoint.

Agreement claims add *marks* (one label per data position) to the fresh values that can sit
at that position on both sides, and block the peer runs whose begin event carries exactly
the marked values; see docs/model.rst ("Unbounded proofs") for why that is sound.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ethvoip.spec.errors import UnsupportedProtocol
from ethvoip.spec.protocol import ClaimKind, Lookup, Recv, Role, Send, Variant
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Exp,
    Fresh,
    G,
    Hash,
    Inv,
    Pk,
    SEnc,
    Sign,
    Sk,
    Sort,
    Term,
    Tup,
    Var,
    subterms,
)

#: The claim's two agents, every other honest agent, the intruder.
NAMED = ("a", "b")
OTHER = "z"
INTRUDER = "e"
HONEST = (*NAMED, OTHER)
AGENTS = (*HONEST, INTRUDER)

#: Sorts whose values are atoms of the universe (and the relation that types them).
ATOMIC = (Sort.AGENT, Sort.NONCE, Sort.KEY, Sort.EXP, Sort.CONST)

Key = Var | Fresh
Arg = str | int  # a rule variable or a term id


def unsupported(what: str) -> UnsupportedProtocol:
    return UnsupportedProtocol(f"unsupported by the unbounded mode: {what}")


@dataclass(frozen=True, slots=True)
class Lit:
    """``rel(args)`` in a rule, negated when ``neg`` (on relations that do not depend on
    ``att``, so the program stays stratified)."""

    rel: str
    args: tuple[Arg, ...]
    neg: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    head: Lit
    body: tuple[Lit, ...]


class Universe:
    """Every term the program can mention, hash-consed to integer ids, with one fact per
    composite term in its constructor's relation (``tup3(x, y, z, t)``, ``aenc(m, k, t)``...)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[object, ...], int] = {}
        self.keys: list[tuple[object, ...]] = []  # id -> its key (how :meth:`show` reads it)
        self.facts: dict[str, list[tuple[int, ...]]] = defaultdict(list)
        self.exps: dict[int, tuple[int, ...]] = {}  # group element -> its exponents
        self.atoms: dict[Sort, list[int]] = defaultdict(list)
        self.pk_owner: dict[int, int] = {}  # pk(X) -> X
        self._compiled: dict[Term, Callable[[Mapping[Term, int]], int]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def _new(self, key: tuple[object, ...]) -> int:
        got = self.ids[key] = len(self.keys)
        self.keys.append(key)
        return got

    def show(self, i: int) -> str:
        """The term with id ``i``, written out (for messages and debugging)."""
        key = self.keys[i]
        head, rest = key[0], key[1:]
        if head == "atom":
            return str(rest[0])
        inner = [self.show(c) for c in rest if isinstance(c, int)]
        if head == "exp":
            return "g^" + "^".join(inner)
        if str(head).startswith("tup"):
            return "<" + ", ".join(inner) + ">"
        name = str(head).split("_")[1] if str(head).startswith("h_") else head
        return f"{name}({', '.join(inner)})"

    def atom(self, name: str, sort: Sort) -> int:
        key = ("atom", name)
        got = self.ids.get(key)
        if got is None:
            got = self._new(key)
            self.atoms[sort].append(got)
        return got

    def node(self, rel: str, children: tuple[int, ...]) -> int:
        key = (rel, *children)
        got = self.ids.get(key)
        if got is None:
            got = self._new(key)
            self.facts[rel].append((*children, got))
            if rel == "pk":
                self.pk_owner[got] = children[0]
        return got

    def power(self, exps: tuple[int, ...]) -> int:
        """``g`` raised to a multiset of exponent atoms (at most two: typed DH)."""
        exps = tuple(sorted(exps))
        if not 1 <= len(exps) <= 2:
            raise unsupported(f"g raised to {len(exps)} exponents")
        key = ("exp", *exps)
        got = self.ids.get(key)
        if got is not None:
            return got
        got = self._new(key)
        self.exps[got] = exps
        if len(exps) == 1:
            self.facts["expg"].append((exps[0], got))
        else:
            for i in range(2):
                self.facts["exp2"].append((self.power((exps[i],)), exps[1 - i], got))
        return got

    def raise_(self, base: int, e: int) -> int:
        if base not in self.exps:
            raise unsupported(f"{self.show(base)} raised to a power (not a group element)")
        return self.power((*self.exps[base], e))

    def compiled(self, t: Term) -> Callable[[Mapping[Term, int]], int]:
        """``t`` as a function from a valuation of its keys to its id (built once per term:
        the universe evaluates each send term for thousands of valuations)."""
        got = self._compiled.get(t)
        if got is None:
            got = self._compiled[t] = self._compile(t)
        return got

    def _compile(self, t: Term) -> Callable[[Mapping[Term, int]], int]:
        if isinstance(t, Var | Fresh):
            return lambda env: env[t]
        match t:
            case Atom(name, sort):
                if sort is Sort.AGENT and name not in AGENTS:
                    name = OTHER  # a fixed honest name (the app store): an other agent
                c = self.atom(name, sort)
                return lambda env: c
            case Inv(k):
                fk = self.compiled(k)
                return lambda env: self.node("sk", (self.pk_owner[fk(env)],))
            case Exp(base, exps):
                fes = [self.compiled(e) for e in exps]
                if base == G:
                    return lambda env: self.power(tuple(f(env) for f in fes))
                fb = self.compiled(base)

                def raised(env: Mapping[Term, int]) -> int:
                    out = fb(env)
                    for f in fes:
                        out = self.raise_(out, f(env))
                    return out

                return raised
        rel = relation_of(t)
        fs = [self.compiled(c) for c in _children(t)]
        if len(fs) == 1:
            (f0,) = fs
            return lambda env: self.node(rel, (f0(env),))
        if len(fs) == 2:
            f0, f1 = fs
            return lambda env: self.node(rel, (f0(env), f1(env)))
        return lambda env: self.node(rel, tuple(f(env) for f in fs))


def relation_of(t: Term) -> str:
    """The constructor relation of a composite term."""
    match t:
        case Tup(items):
            return f"tup{len(items)}"
        case AEnc():
            return "aenc"
        case SEnc():
            return "senc"
        case Sign():
            return "sign"
        case Hash(fn, args):
            return f"h_{fn}_{len(args)}"
        case Pk():
            return "pk"
        case Sk():
            return "sk"
    raise unsupported(f"term {t}")


def value(u: Universe, t: Term, env: Mapping[Term, int]) -> int:
    """The id of ``t`` with its variables and fresh names valued by ``env``."""
    return u.compiled(t)(env)


# --------------------------------------------------------------------------------------
# The shape of a role: what is bound before each step
# --------------------------------------------------------------------------------------


@dataclass
class Shape:
    """Binding order of one role.  ``before[k]`` holds the keys bound when step ``k`` comes
    (index ``len(steps)``: at the end); ``intro[k]`` the fresh values first used at step ``k``
    (at the end: used by no step), which ``state[k] = before[k] + intro[k]`` adds;
    ``params[f]`` the agent variables bound when ``f`` is first used, which name it."""

    role: Role
    before: list[list[Key]] = field(default_factory=list)
    intro: list[list[Fresh]] = field(default_factory=list)
    params: dict[Fresh, tuple[Var, ...]] = field(default_factory=dict)
    lookups: dict[Var, Term] = field(default_factory=dict)  # key variable -> name looked up

    def state(self, k: int) -> list[Key]:
        return self.before[k] + self.intro[k]

    def after(self, k: int) -> list[Key]:
        """The keys bound once step ``k`` is done."""
        return self.before[k + 1]


def keys_of(t: Term) -> list[Key]:
    """The variables and fresh names of ``t``, in order of appearance."""
    out: list[Key] = []
    for s in subterms(t):
        if isinstance(s, Var | Fresh) and s not in out:
            out.append(s)
    return out


def shape(role: Role) -> Shape:
    sh = Shape(role)
    bound: list[Key] = list(role.params)
    done: set[Fresh] = set()

    def introduce(terms: Sequence[Term]) -> list[Fresh]:
        new = [f for t in terms for f in keys_of(t) if isinstance(f, Fresh) and f not in done]
        new = list(dict.fromkeys(new))
        for f in new:
            done.add(f)
            sh.params[f] = tuple(k for k in bound if isinstance(k, Var) and k.sort is Sort.AGENT)
        return new

    first = introduce(role.knows)
    for step in role.steps:
        terms: list[Term]
        match step:
            case Send(_, term):
                terms = [term]
            case Recv(_, pattern, once):
                terms = [pattern, *once]
            case Lookup(_, name, _):
                terms = [name]
        sh.before.append(list(bound))
        new = first + introduce(terms)
        first = []
        sh.intro.append(new)
        bound += new
        if isinstance(step, Recv):
            bound += [k for k in keys_of(step.pattern) if k not in bound]
        elif isinstance(step, Lookup):
            bound.append(step.key)
            sh.lookups[step.key] = step.name
    sh.before.append(list(bound))
    sh.intro.append(first + introduce([f for f in role.fresh if f not in done]))
    return sh


@dataclass(frozen=True)
class Block:
    """Runs of ``role`` whose begin event at step ``index`` carries, at every position ``i``,
    a value outside ``<rel>_not<i>`` (the values of ``terms`` once the step is done) cannot
    take that step (nor any later one)."""

    role: str
    index: int
    terms: tuple[Term, ...]
    rel: str


# --------------------------------------------------------------------------------------
# The program
# --------------------------------------------------------------------------------------


def vname(k: Key) -> str:
    return ("v_" if isinstance(k, Var) else "f_") + k.name


SORT_REL = {
    Sort.AGENT: "agent",
    Sort.NONCE: "is_nonce",
    Sort.KEY: "is_key",
    Sort.EXP: "is_exp",
    Sort.CONST: "is_const",
    Sort.PUBKEY: "is_pk",
    Sort.GROUP: "is_g1",
}


class Program:
    """The universe, its facts and the rules of one variant under one marking.

    ``marks`` maps ``(role, fresh name)`` (or ``("", sort)`` for the intruder's values) to the
    mark labels its abstract values may carry (0, unmarked, always).
    """

    def __init__(
        self, variant: Variant, marks: Mapping[tuple[str, str], frozenset[int]] | None = None
    ) -> None:
        self.variant = variant
        self.marks = marks or {}
        self.blocks: Sequence[Block] = ()
        self.u = Universe()
        self.rules: list[Rule] = []
        self.facts = self.u.facts
        self.shapes = {r.name: shape(r) for r in variant.roles}
        self._aux = itertools.count()
        self.agent = {n: self.u.atom(n, Sort.AGENT) for n in AGENTS}
        self.mark_of: dict[int, int] = {}  # atom id -> its mark label
        self.origin: dict[int, tuple[str, str]] = {}  # atom id -> (role, fresh) or ("", sort)
        self.honest_only = {r.agent.name for r in variant.roles if r.honest_only}
        self.fresh_ids: dict[tuple[str, Fresh], dict[tuple[int, ...], list[int]]] = {}
        self._atoms()
        self._rules_intruder()
        self.intruder_rules = list(self.rules)
        for r in variant.roles:
            self._rules_role(r)

    def rules_for(self, blocks: Sequence[Block]) -> list[Rule]:
        """The rules with some begin events blocked (the universe is the same)."""
        saved = self.rules, self.blocks
        self.rules, self.blocks = list(self.intruder_rules), blocks
        try:
            for r in self.variant.roles:
                self._rules_role(r)
            return self.rules
        finally:
            self.rules, self.blocks = saved

    # ---- values ----------------------------------------------------------------------

    def _label(self, m: int) -> str:
        return f"^{m}" if m else ""

    def param_domain(self, role: Role, v: Var) -> list[int]:
        if v == role.agent or (v in role.params and v.name in self.honest_only):
            return [self.agent[n] for n in HONEST]
        return [self.agent[n] for n in AGENTS]

    def _atoms(self) -> None:
        # the order of these phases is the atoms' numbering: keep it
        self._agent_atoms()
        self._intruder_values()
        self._fresh_values()
        self._constants()
        self._dh_powers()
        self._lookups()
        known = self._initial_knowledge()
        self._recv_hashes()
        self._role_values()
        self._claim_values()
        for a in known:
            self.facts["att"].append((a,))

    def _agent_atoms(self) -> None:
        """The agents, their key pairs and which are honest, named, distinct."""
        u = self.u
        for n in HONEST:
            self.facts["honest"].append((self.agent[n],))
        for n in NAMED:
            self.facts["named"].append((self.agent[n],))
        for n in AGENTS:
            self.facts["agent"].append((self.agent[n],))
            pk = value(u, Pk(Atom(n, Sort.AGENT)), {})
            value(u, Sk(Atom(n, Sort.AGENT)), {})
            self.facts["is_pk"].append((pk,))
        for x, y in itertools.product(AGENTS, repeat=2):
            if x != y:
                self.facts["neq"].append((self.agent[x], self.agent[y]))

    def _intruder_values(self) -> None:
        """The intruder's own values, one of each sort (and one per mark)."""
        for sort in (Sort.NONCE, Sort.KEY, Sort.EXP):
            for m in sorted({0} | self.marks.get(("", sort.value), frozenset())):
                a = self.u.atom(f"{INTRUDER}:{sort.value}{self._label(m)}", sort)
                self.mark_of[a] = m
                self.origin[a] = ("", sort.value)

    def _fresh_values(self) -> None:
        """The fresh values of every role, per agents that name them and per mark."""
        u = self.u
        for r in self.variant.roles:
            sh = self.shapes[r.name]
            for f, ps in sh.params.items():
                table: dict[tuple[int, ...], list[int]] = {}
                labels = sorted({0} | self.marks.get((r.name, f.name), frozenset()))
                doms = [self.param_domain(r, p) for p in ps]
                for combo in itertools.product(*doms):
                    args = ",".join(u.show(c) for c in combo)
                    ids = []
                    for m in labels:
                        a = u.atom(f"{f.name}[{args}]{self._label(m)}", f.sort)
                        self.mark_of[a] = m
                        self.origin[a] = (r.name, f.name)
                        self.facts[f"fresh_{r.name}_{f.name}"].append((*combo, a))
                        ids.append(a)
                    table[combo] = ids
                self.fresh_ids[(r.name, f)] = table

    def _constants(self) -> None:
        """Every constant and agent name in the description, and the atoms' sort facts."""
        u = self.u
        for r in self.variant.roles:
            for t in self._role_terms(r):
                for s in subterms(t):
                    if isinstance(s, Atom):
                        value(u, s, {})
        value(u, G, {})
        for sort in ATOMIC:
            if sort is not Sort.AGENT:  # "agent" holds the agents of the world only
                self.facts[SORT_REL[sort]] += [(a,) for a in u.atoms[sort]]

    def _dh_powers(self) -> None:
        """g to one or two exponents, when the protocol uses Diffie-Hellman."""
        u = self.u
        exps = list(u.atoms[Sort.EXP])
        if self._uses_dh():
            for e in exps:
                self.facts["is_g1"].append((u.power((e,)),))
            for e1, e2 in itertools.combinations_with_replacement(exps, 2):
                u.power((e1, e2))

    def _lookups(self) -> None:
        """The directory, and the private key of each public key."""
        u = self.u
        self.lookup_of: dict[int, list[int]] = defaultdict(list)
        for n in AGENTS:
            who = self.agent[n]
            for y in AGENTS:
                # e registers his own key, or any public key where no proof of possession
                if n == y or (n == INTRUDER and not self.variant.pop_required):
                    key = value(u, Pk(Atom(y, Sort.AGENT)), {})
                    self.facts["lookup"].append((who, key))
                    self.lookup_of[who].append(key)
        for pk_id, owner in list(u.pk_owner.items()):
            self.facts["skof"].append((pk_id, u.node("sk", (owner,))))

    def _initial_knowledge(self) -> list[int]:
        """What the intruder knows at the start."""
        u = self.u
        known = [self.agent[n] for n in AGENTS]
        known += [a for s in (Sort.CONST,) for a in u.atoms[s]]
        known += [a for a, o in self.origin.items() if o[0] == ""]
        known.append(value(u, Sk(Atom(INTRUDER, Sort.AGENT)), {}))
        for r in self.variant.roles:
            if not r.honest_only:
                known += self._intruder_knows(r)
        return known

    def _recv_hashes(self) -> None:
        """Hashes in receive patterns are recomputed by the receiver: all their instances."""
        for r in self.variant.roles:
            sh = self.shapes[r.name]
            for step in r.steps:
                if isinstance(step, Recv):
                    for s in subterms(step.pattern):
                        if isinstance(s, Hash):
                            for env in self.envs(r, sh, keys_of(s)):
                                value(self.u, s, env)

    def _role_values(self) -> None:
        """Every message a run can send, every term a run knows."""
        for r in self.variant.roles:
            sh = self.shapes[r.name]
            for step in r.steps:
                if isinstance(step, Send):
                    for env in self.envs(r, sh, keys_of(step.term)):
                        value(self.u, step.term, env)
            for t in r.knows:
                for env in self.envs(r, sh, keys_of(t)):
                    value(self.u, t, env)

    def _claim_values(self) -> None:
        """Every claim term and session key, in every environment of its role."""
        for c in self.variant.claims:
            r = self.variant.role(c.role)
            for t in ([c.term] if c.term is not None else []) + (
                [r.session_key] if r.session_key is not None else []
            ):
                for env in self.envs(r, self.shapes[r.name], keys_of(t)):
                    value(self.u, t, env)

    def _uses_dh(self) -> bool:
        return any(
            isinstance(s, Exp) or (isinstance(s, Var) and s.sort is Sort.GROUP)
            for r in self.variant.roles
            for t in self._role_terms(r)
            for s in subterms(t)
        )

    def _role_terms(self, r: Role) -> list[Term]:
        out: list[Term] = [*r.knows]
        for s in r.steps:
            match s:
                case Send(_, t):
                    out.append(t)
                case Recv(_, p, once):
                    out += [p, *once]
                case Lookup(_, n, _):
                    out.append(n)
        return out

    def _intruder_knows(self, r: Role) -> list[int]:
        """What a run of ``r`` played by the intruder knows at its start."""
        out = []
        for t in r.knows:
            keys = keys_of(t)
            doms: list[list[int]] = []
            for k in keys:
                if k == r.agent:
                    doms.append([self.agent[INTRUDER]])
                elif isinstance(k, Var):
                    doms.append(self.param_domain(r, k))
                else:
                    doms.append([a for a, o in self.origin.items() if o == ("", k.sort.value)])
            for combo in itertools.product(*doms):
                out.append(value(self.u, t, dict(zip(keys, combo, strict=True))))
        return out

    def domain(self, v: Var) -> list[int]:
        """Every abstract value a received variable of ``v``'s sort may hold."""
        u = self.u
        if v.sort in ATOMIC:
            return list(u.atoms[v.sort])
        if v.sort is Sort.PUBKEY:
            return [value(u, Pk(Atom(n, Sort.AGENT)), {}) for n in AGENTS]
        if v.sort is Sort.GROUP:
            return [u.power((e,)) for e in u.atoms[Sort.EXP]]
        raise unsupported(f"a variable {v.name} of sort {v.sort.value}")

    def envs(self, role: Role, sh: Shape, keys: Sequence[Key]) -> Iterator[dict[Term, int]]:
        """Every valuation of ``keys`` (and what they depend on) a run of ``role`` may have."""
        need: list[Key] = []

        def add(k: Key) -> None:
            if k in need:
                return
            if isinstance(k, Fresh):
                for p in sh.params[k]:
                    add(p)
            elif k in sh.lookups:
                n = sh.lookups[k]
                if isinstance(n, Var):
                    add(n)
            need.append(k)

        for k in keys:
            add(k)
        yield from self._product(role, sh, need, 0, {})

    def _product(
        self, role: Role, sh: Shape, need: list[Key], i: int, env: dict[Term, int]
    ) -> Iterator[dict[Term, int]]:
        if i == len(need):
            yield env
            return
        k = need[i]
        if isinstance(k, Fresh):
            combo = tuple(env[p] for p in sh.params[k])
            options = self.fresh_ids[(role.name, k)][combo]
        elif k in sh.lookups:
            name = sh.lookups[k]
            x = env[name] if isinstance(name, Var) else value(self.u, name, {})
            options = self.lookup_of[x]
        elif k.sort is Sort.AGENT and k in role.params:
            options = self.param_domain(role, k)
        else:
            options = self.domain(k)
        for o in options:
            env[k] = o
            yield from self._product(role, sh, need, i + 1, env)
        del env[k]

    # ---- rules -----------------------------------------------------------------------

    def aux(self) -> str:
        return f"t{next(self._aux)}"

    def lits(self, t: Term, new: set[Key], out: Arg | None = None) -> tuple[Arg, list[Lit]]:
        """Literals that make ``out`` (a fresh rule variable if None) the value of ``t``; a
        variable in ``new`` gets its sort checked (it is bound by matching here)."""
        if isinstance(t, Var | Fresh):
            name = vname(t)
            body: list[Lit] = []
            if t in new and isinstance(t, Var):
                body.append(Lit(SORT_REL[t.sort], (name,)))
            if out is not None and out != name:
                raise AssertionError("a leaf is its own variable")
            return name, body
        if isinstance(t, Atom):
            return value(self.u, t, {}), []
        o = out if out is not None else self.aux()
        body = []
        match t:
            case Inv(k):
                a, b = self.lits(k, new)
                return o, [*b, Lit("skof", (a, o))]
            case Exp(base, exps):
                if base == G:
                    if len(exps) == 1:
                        a, b = self.lits(exps[0], new)
                        return o, [*b, Lit("expg", (a, o))]
                    if len(exps) == 2:
                        a, b = self.lits(exps[0], new)
                        c, d = self.lits(exps[1], new)
                        mid = self.aux()
                        return o, [*b, *d, Lit("expg", (a, mid)), Lit("exp2", (mid, c, o))]
                elif len(exps) == 1:
                    a, b = self.lits(base, new)
                    c, d = self.lits(exps[0], new)
                    return o, [*b, *d, Lit("exp2", (a, c, o))]
                raise unsupported(f"Diffie-Hellman term {t}")
        args: list[Arg] = []
        for child in _children(t):
            arg, more = self.lits(child, new)
            args.append(arg)
            body += more
        return o, [*body, Lit(relation_of(t), (*args, o))]

    def _rules_intruder(self) -> None:
        def rule(head: Lit, *body: Lit) -> None:
            self.rules.append(Rule(head, body))

        for rel in list(self.facts):
            if rel.startswith("tup"):
                n = int(rel[3:])
                xs = tuple(f"x{i}" for i in range(n))
                cons = Lit(rel, (*xs, "t"))
                rule(Lit("att", ("t",)), cons, *(Lit("att", (x,)) for x in xs))
                for x in xs:
                    rule(Lit("att", (x,)), cons, Lit("att", ("t",)))
            elif rel.startswith("h_"):
                n = int(rel.rsplit("_", 1)[1])
                xs = tuple(f"x{i}" for i in range(n))
                rule(Lit("att", ("t",)), Lit(rel, (*xs, "t")), *(Lit("att", (x,)) for x in xs))
        att = Lit("att", ("t",))
        m, k, s = Lit("att", ("m",)), Lit("att", ("k",)), Lit("att", ("s",))
        for rel in ("aenc", "senc", "sign"):
            rule(att, Lit(rel, ("m", "k", "t")), m, k)
        rule(m, Lit("aenc", ("m", "k", "t")), att, Lit("skof", ("k", "s")), s)
        rule(m, Lit("senc", ("m", "k", "t")), att, k)
        rule(m, Lit("sign", ("m", "k", "t")), att)
        rule(att, Lit("pk", ("m", "t")), m)
        rule(att, Lit("expg", ("m", "t")), m)
        rule(att, Lit("exp2", ("k", "m", "t")), k, m)

    def _lit(self, rel: str, keys: Sequence[Key]) -> Lit:
        return Lit(rel, tuple(vname(x) for x in keys))

    def _st(self, role: Role, k: int) -> Lit:
        """The state of a run that is about to take step ``k`` (its fresh values drawn)."""
        return self._lit(f"st_{role.name}_{k}", self.shapes[role.name].state(k))

    def _pre(self, role: Role, k: int) -> Lit:
        return self._lit(f"pre_{role.name}_{k}", self.shapes[role.name].before[k])

    def end(self, role: Role) -> Lit:
        """A finished run of ``role`` with all its values."""
        return self._st(role, len(role.steps))

    def _intro(self, role: Role, k: int) -> list[Lit]:
        sh = self.shapes[role.name]
        return [
            Lit(f"fresh_{role.name}_{f.name}", (*(vname(p) for p in sh.params[f]), vname(f)))
            for f in sh.intro[k]
        ]

    def _blocked(self, role: Role, k: int) -> list[list[Lit]]:
        """The guard that keeps blocked runs from taking step ``k``, as alternatives (one
        rule each): a run is blocked when every value of the begin event lies in its
        position's blocked set, so it is free when some value lies outside it, in the
        relation ``<rel>_not<i>`` (the position's domain minus the set).  Positive on
        purpose: z3's Datalog engine (4.x, 5.4) dropped facts of other relations equal to a
        fact of a negated one (``att(b)`` vanished with ``not blk(b)`` in a body)."""
        options: list[list[Lit]] = [[]]
        for b in self.blocks:
            if b.role != role.name or b.index != k:
                continue
            free: list[list[Lit]] = []
            for i, t in enumerate(b.terms):
                o, body = self.lits(t, set())
                free.append([*body, Lit(f"{b.rel}_not{i}", (o,))])
            options = [[*x, *y] for x in options for y in free]
        return options

    def _rules_role(self, role: Role) -> None:
        start = [
            Lit("honest" if p == role.agent or p.name in self.honest_only else "agent", (vname(p),))
            for p in role.params
        ]
        self.rules.append(Rule(self._pre(role, 0), tuple(start)))
        for k, step in enumerate(role.steps):
            here = self._st(role, k)
            self.rules.append(Rule(here, (self._pre(role, k), *self._intro(role, k))))
            nxt = self._pre(role, k + 1)
            guards = self._blocked(role, k)
            if guards != [[]]:
                # a blocked step: its run goes through ``free`` (one rule per way of being
                # free), so the step's own rule, which may build a large message, is written
                # once
                sh = self.shapes[role.name]
                keys = sh.state(k) if isinstance(step, Send) else sh.after(k)
                free = self._lit(f"free_{role.name}_{k}", keys)
                done = self._lit(f"done_{role.name}_{k}", keys)
                if isinstance(step, Send):
                    for guard in guards:
                        self.rules.append(Rule(free, (here, *guard)))
                    here = free
                else:
                    for guard in guards:
                        self.rules.append(Rule(nxt, (done, *guard)))
                    nxt = done
            match step:
                case Send(_, term):
                    o, body = self.lits(term, set())
                    self.rules.append(Rule(Lit("att", (o,)), (here, *body)))
                    self.rules.append(Rule(nxt, (here,)))
                case Lookup(_, name, key):
                    n, body = self.lits(name, set())
                    look = Lit("lookup", (n, vname(key)))
                    self.rules.append(Rule(nxt, (here, *body, look)))
                case Recv(_, pattern, _):
                    self.rules.append(Rule(nxt, (here, *self._recv(role, k, pattern))))
        last = len(role.steps)
        self.rules.append(Rule(self.end(role), (self._pre(role, last), *self._intro(role, last))))

    def _pointless(self, role: Role, k: int) -> list[Lit]:
        """Past its last send, a run that believes in the intruder can change nothing any
        query asks about (no message, and every claim, begin event or look at a finished
        run needs honest beliefs), unless a key-agreement claim looks at every finished run:
        such runs are dropped, which keeps the intruder's forgeries of their last messages
        (a signature of his own over every value he knows) out of the fixpoint."""
        sends = [i for i, s in enumerate(role.steps) if isinstance(s, Send)]
        if (sends and k < sends[-1]) or any(
            c.kind is ClaimKind.KEY_AGREEMENT for c in self.variant.claims
        ):
            return []
        names = {a.name for a in self.variant.agent_vars}
        return [
            Lit("honest", (vname(x),))
            for x in self.shapes[role.name].state(k)
            if isinstance(x, Var) and x.sort is Sort.AGENT and x.name in names
        ]

    def _recv(self, role: Role, k: int, pattern: Term) -> list[Lit]:
        """Literals saying the intruder can derive ``pattern`` (bound as in state ``k``)."""
        sh = self.shapes[role.name]
        bound = set(sh.state(k))
        new = {x for x in keys_of(pattern) if x not in bound}
        ctx_keys = [x for x in keys_of(pattern) if x in bound]
        ctx = Lit(f"ctx_{role.name}_{k}", tuple(vname(x) for x in ctx_keys))
        self.rules.append(Rule(ctx, (self._st(role, k), *self._pointless(role, k))))
        counter = itertools.count()

        def derive(t: Term, ctx: Lit) -> list[Lit]:
            """Literals: the intruder can derive ``t`` (a run in ``ctx`` is receiving it)."""
            if isinstance(t, Var | Fresh):
                lits = [Lit("att", (vname(t),))]
                if t in new and isinstance(t, Var):  # the small relation first: z3 joins in order
                    lits.insert(0, Lit(SORT_REL[t.sort], (vname(t),)))
                return lits
            if not isinstance(t, Tup | AEnc | SEnc | Sign):
                o, body = self.lits(t, new)
                return [*body, Lit("att", (o,))]
            keys = keys_of(t)
            rel = Lit(f"d_{role.name}_{k}_{next(counter)}", tuple(vname(x) for x in keys))
            mine = project(ctx, keys)
            o, body = self.lits(t, new)
            # from the known term down to its leaves, then the run's values as a filter
            # (ctx first would join it with every known term)
            self.rules.append(Rule(rel, (Lit("att", (o,)), *top_down(body), mine)))
            # or built by the intruder: the key first (when the run's values fix it, only the
            # runs where he has it look at what he could put inside), then the parts
            parts = list(_children(t))
            build: list[Lit] = [mine]
            inner = ctx
            if not isinstance(t, Tup):
                key = parts.pop()
                key_lits = derive(key, ctx)
                build += key_lits
                if set(keys_of(key)) <= set(ctx_keys) and isinstance(t, AEnc | Sign):
                    inner = Lit(f"ctx_{role.name}_{k}_{next(counter)}", ctx.args)
                    self.rules.append(Rule(inner, (ctx, *key_lits)))
            composite = [c for c in parts if isinstance(c, Tup | AEnc | SEnc | Sign)]
            for c in composite + [c for c in parts if c not in composite]:
                build += derive(c, inner)
            self.rules.append(Rule(rel, tuple(build)))
            return [rel]

        def project(ctx: Lit, keys: list[Key]) -> Lit:
            names = {vname(x) for x in keys}
            return Lit(ctx.rel, tuple(a if a in names else self.aux() for a in ctx.args))

        return derive(pattern, ctx)


def top_down(body: Sequence[Lit]) -> list[Lit]:
    """``lits`` lists children before parents (the order that builds a term from bound
    leaves); matching a known term goes the other way, and z3 joins in body order.  Sort
    checks come last, once the matching has bound their variables."""
    sorts = set(SORT_REL.values())
    return [x for x in reversed(body) if x.rel not in sorts] + [x for x in body if x.rel in sorts]


def _children(t: Term) -> tuple[Term, ...]:
    match t:
        case Tup(items):
            return items
        case AEnc(b, k) | SEnc(b, k) | Sign(b, k):
            return (b, k)
        case Hash(_, args):
            return args
        case Pk(o) | Sk(o):
            return (o,)
    return ()
