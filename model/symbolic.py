"""Symbolic terms: the fixed shape of a message in Python, its atoms as z3 integers.

The encoding is *typed*: a receive pattern fixes the shape of every message a run accepts
(a variable of sort ``NONCE`` can only hold a nonce atom), so Python knows the tree of every
message in a bounded execution and z3 only decides which atom sits at each leaf.  An atom
is an integer code from the :class:`Universe` of the bounded world; a leaf is either such a
constant or a z3 integer variable restricted to the codes of its sort.

Public keys are ``pk(owner)`` with an agent leaf, long-term symmetric keys ``k(A, S)`` two
agent leaves; Diffie-Hellman values are ``g`` raised to a tuple of exponent leaves compared as
a multiset (``g^(xy) = g^(yx)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import z3

from ethvoip.spec import terms as T
from ethvoip.spec.checks import default_shape
from ethvoip.spec.errors import UnsupportedProtocol
from ethvoip.spec.terms import Sort

#: Sorts whose values are atoms (leaves of a symbolic term).
ATOM_SORTS = (Sort.AGENT, Sort.NONCE, Sort.KEY, Sort.EXP, Sort.CONST)

HONEST = ("a", "b")
INTRUDER = "e"
AGENTS = (*HONEST, INTRUDER)


def honest_names(n: int) -> tuple[str, ...]:
    """The names of ``n`` honest agents: ``a``, ``b``, ``c``, ``d``, ``f`` ... (``e`` is the
    intruder's); the spec's honest run names its agents the same way."""
    return tuple("abcdfghijk"[:n])


#: Sorts of the owner of a key pair: an agent, or the seed of an ephemeral pair.
KEY_OWNER_SORTS = frozenset({Sort.AGENT, *T.EPHEMERAL_SORTS})

#: How many fresh values of each sort the intruder holds (two lets him pass replay caches).
INTRUDER_FRESH = 2


class Universe:
    """Every atom of a bounded world, with an integer code per atom (codes are global)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sorts: list[Sort] = []
        self._code: dict[tuple[str, Sort], int] = {}
        self.by_sort: dict[Sort, list[int]] = {s: [] for s in ATOM_SORTS}

    def add(self, name: str, sort: Sort) -> int:
        if sort not in self.by_sort:
            raise UnsupportedProtocol(f"atom {name!r} of sort {sort} cannot be a leaf")
        key = (name, sort)
        if key not in self._code:
            self._code[key] = len(self.names)
            self.names.append(name)
            self.sorts.append(sort)
            self.by_sort[sort].append(len(self.names) - 1)
        return self._code[key]

    def code(self, name: str, sort: Sort) -> int:
        return self._code[(name, sort)]

    def atom(self, code: int) -> T.Atom:
        return T.Atom(self.names[code], self.sorts[code])


# --------------------------------------------------------------------------------------
# Symbolic terms
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Leaf:
    """An atom position: a constant code or a z3 variable over the codes of ``sort``."""

    sort: Sort
    expr: z3.ArithRef
    const: int | None = None

    @property
    def key(self) -> object:
        return ("L", self.const) if self.const is not None else ("V", self.expr.get_id())


@dataclass(frozen=True, eq=False)
class SPk:
    owner: Leaf


@dataclass(frozen=True, eq=False)
class SSk:
    owner: Leaf


@dataclass(frozen=True, eq=False)
class SLtk:
    """``k(owner, peer)``: the long-term symmetric key of two agents."""

    owner: Leaf
    peer: Leaf


@dataclass(frozen=True, eq=False)
class SOp:
    """A constructor application: ``tup``, ``aenc``, ``sign``, ``senc`` or a named hash."""

    op: str  # "tup" | "aenc" | "sign" | "senc" | "hash:<fn>"
    args: tuple[STerm, ...]


@dataclass(frozen=True, eq=False)
class SExp:
    """``base`` (``g`` or another public constant) raised to the product of ``exps`` (a
    multiset: exponents commute)."""

    exps: tuple[Leaf, ...]
    base: str = "g"


STerm: TypeAlias = Leaf | SPk | SSk | SLtk | SOp | SExp


def skey(t: STerm) -> object:
    """A hashable structural key (two symbolic terms with equal keys are the same term)."""
    match t:
        case Leaf():
            return t.key
        case SPk(o):
            return ("pk", o.key)
        case SSk(o):
            return ("sk", o.key)
        case SLtk(o, p):
            return ("ltk", o.key, p.key)
        case SOp(op, args):
            return (op, *(skey(a) for a in args))
        case SExp(exps, base):
            return ("exp", base, *sorted(repr(e.key) for e in exps))
    raise AssertionError(t)


def shape(t: STerm) -> object:
    """The shape of ``t``: what two terms must share to be possibly equal."""
    match t:
        case Leaf(sort):
            return sort
        case SPk():
            return "pk"
        case SSk():
            return "sk"
        case SLtk():
            return "ltk"
        case SOp(op, args):
            return (op, *(shape(a) for a in args))
        case SExp(exps, base):
            return ("exp", base, len(exps))
    raise AssertionError(t)


# --------------------------------------------------------------------------------------
# Boolean helpers that fold Python constants (keeps formulas small)
# --------------------------------------------------------------------------------------

Cond: TypeAlias = z3.BoolRef | bool


def conj(items: Iterable[Cond]) -> Cond:
    out: list[z3.BoolRef] = []
    for c in items:
        if c is False:
            return False
        if c is not True:
            out.append(c)
    if not out:
        return True
    return out[0] if len(out) == 1 else _nary(z3.Z3_mk_and, out)


def disj(items: Iterable[Cond]) -> Cond:
    out: list[z3.BoolRef] = []
    for c in items:
        if c is True:
            return True
        if c is not False:
            out.append(c)
    if not out:
        return False
    return out[0] if len(out) == 1 else _nary(z3.Z3_mk_or, out)


def _nary(mk: Any, args: list[z3.BoolRef]) -> z3.BoolRef:
    # the low-level call: z3.And/Or re-check and coerce every argument, which dominated the
    # time to build a world; here every argument is already a Boolean of the same context
    ctx = args[0].ctx
    arr = (z3.Ast * len(args))(*(a.as_ast() for a in args))
    return z3.BoolRef(mk(ctx.ref(), len(args), arr), ctx)


def _eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    return z3.BoolRef(z3.Z3_mk_eq(a.ctx.ref(), a.as_ast(), b.as_ast()), a.ctx)


def neg(c: Cond) -> Cond:
    if isinstance(c, bool):
        return not c
    return z3.Not(c)


def implies(a: Cond, b: Cond) -> Cond:
    return disj([neg(a), b])


def as_z3(c: Cond, ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolVal(c, ctx) if isinstance(c, bool) else c


def leaf_eq(x: Leaf, y: Leaf) -> Cond:
    if x.sort is not y.sort:
        return False
    if x.const is not None and y.const is not None:
        return x.const == y.const
    if x.key == y.key:
        return True
    return _eq(x.expr, y.expr)


def leaf_is(x: Leaf, code: int) -> Cond:
    if x.const is not None:
        return x.const == code
    return x.expr == code


def multiset_eq(xs: Sequence[Leaf], ys: Sequence[Leaf]) -> Cond:
    if len(xs) != len(ys):
        return False
    return disj(
        conj(leaf_eq(x, y) for x, y in zip(xs, perm, strict=True))
        for perm in itertools.permutations(ys)
    )


def eq(s: STerm, t: STerm) -> Cond:
    """Symbolic equality under the equational theory (only DH exponents commute)."""
    match s, t:
        case Leaf(), Leaf():
            return leaf_eq(s, t)
        case (SPk(o1), SPk(o2)) | (SSk(o1), SSk(o2)):
            return leaf_eq(o1, o2)
        case SLtk(o1, p1), SLtk(o2, p2):
            return conj([leaf_eq(o1, o2), leaf_eq(p1, p2)])
        case SOp(op1, a1), SOp(op2, a2):
            if op1 != op2 or len(a1) != len(a2):
                return False
            return conj(eq(x, y) for x, y in zip(a1, a2, strict=True))
        case SExp(e1, b1), SExp(e2, b2):
            return b1 == b2 and multiset_eq(e1, e2)
    return False


def children(t: STerm) -> tuple[STerm, ...]:
    match t:
        case SPk(o) | SSk(o):
            return (o,)
        case SLtk(o, p):
            return (o, p)
        case SOp(_, args):
            return args
        case SExp(exps):
            return exps
    return ()


def leaves(t: STerm) -> Iterator[Leaf]:
    if isinstance(t, Leaf):
        yield t
    for c in children(t):
        yield from leaves(c)


# --------------------------------------------------------------------------------------
# From spec terms to symbolic terms, and back from a z3 model
# --------------------------------------------------------------------------------------


class Env:
    """A run's bindings: role variable or fresh name -> symbolic value."""

    def __init__(self) -> None:
        self.values: dict[T.Var | T.Fresh, STerm] = {}

    def __contains__(self, v: T.Var | T.Fresh) -> bool:
        return v in self.values

    def __getitem__(self, v: T.Var | T.Fresh) -> STerm:
        return self.values[v]

    def __setitem__(self, v: T.Var | T.Fresh, value: STerm) -> None:
        self.values[v] = value

    def leaf(self, v: T.Var | T.Fresh) -> Leaf:
        x = self.values[v]
        assert isinstance(x, Leaf)
        return x

    def by_name(self, name: str) -> STerm | None:
        for k, val in self.values.items():
            if k.name == name:
                return val
        return None


class Builder:
    """Creates constant and variable leaves over one :class:`Universe`."""

    def __init__(
        self,
        universe: Universe,
        ctx: z3.Context,
        hints: dict[tuple[str, str], T.Term] | None = None,
    ) -> None:
        self.u = universe
        self.ctx = ctx
        self._n = 0
        self._pending: list[Leaf] = []
        # (role, variable) -> the value the spec's honest run bound it to; a received key
        # that is a derived term there (``kdf(N)``) gets that shape here, not an atom's
        self.hints = hints or {}
        self.role = ""

    def const(self, name: str, sort: Sort) -> Leaf:
        code = self.u.add(name, sort)
        return Leaf(sort, z3.IntVal(code, self.ctx), code)

    def var(self, label: str, sort: Sort) -> Leaf:
        if sort not in ATOM_SORTS:
            raise UnsupportedProtocol(f"variable {label} of sort {sort} is not an atom sort")
        self._n += 1
        v = z3.Int(f"{label}!{self._n}", self.ctx)
        leaf = Leaf(sort, v)
        # the domain is fixed later, once the universe is complete
        self._pending.append(leaf)
        return leaf

    def domain_constraints(self) -> list[z3.BoolRef]:
        """Every variable leaf ranges over the atoms of its sort."""
        out: list[z3.BoolRef] = []
        for leaf in self._pending:
            codes = self.u.by_sort[leaf.sort]
            if not codes:
                raise UnsupportedProtocol(f"no atom of sort {leaf.sort} exists in the world")
            out.append(as_z3(disj(leaf.expr == c for c in codes), self.ctx))
        return out

    def fresh_value(self, var: T.Var, label: str) -> STerm:
        """A new symbolic value for a variable first bound by a receive or a look-up.

        Typed: the shape of its sort (an atom, ``pk(agent)``, ``g^z``), or, where the honest
        run binds it to something else of that sort (a derived key ``kdf(N)``, ``g^(xy)``),
        that shape with a new leaf at every atom: the receiver accepts any term of it.
        """
        hint = self.hints.get((self.role, var.name))
        if hint is not None and not default_shape(hint, var.sort):
            return self.shaped(hint, label)
        match var.sort:
            case Sort.PUBKEY:
                return SPk(self.var(f"{label}.owner", Sort.AGENT))
            case Sort.GROUP:
                # typed: a received group element is g^z for one exponent z (see docs/model.rst);
                # over another base, the honest value's shape (above) gives the base
                return SExp((self.var(f"{label}.exp", Sort.EXP),))
            case Sort.MSG:
                raise UnsupportedProtocol(
                    f"variable {var.name} of sort msg: the typed encoding needs a shape"
                )
        return self.var(label, var.sort)

    def shaped(self, t: T.Term, label: str) -> STerm:
        """A term of the shape of ground ``t`` with a new variable leaf at every atom."""
        return _shaped(self, t, label)


def _shaped(b: Builder, t: T.Term, label: str) -> STerm:
    match t:
        case T.Atom(_, sort):
            return b.var(label, sort)
        case T.Pk(T.Atom(_, sort)):
            return SPk(b.var(f"{label}.owner", sort))  # an agent's, or an ephemeral pair's
        case T.Sk(T.Atom(_, sort)):
            return SSk(b.var(f"{label}.owner", sort))
        case T.Ltk():
            return SLtk(b.var(f"{label}.owner", Sort.AGENT), b.var(f"{label}.peer", Sort.AGENT))
        case T.SEnc(body, key) | T.AEnc(body, key) | T.Sign(body, key):
            # a ticket (a msg variable's value): the shape of the honest one, any atoms
            op = {T.SEnc: "senc", T.AEnc: "aenc", T.Sign: "sign"}[type(t)]
            return SOp(op, (_shaped(b, body, f"{label}.m"), _shaped(b, key, f"{label}.k")))
        case T.Hash(fn, args):
            return SOp(
                "hash:" + fn, tuple(_shaped(b, a, f"{label}.{i}") for i, a in enumerate(args))
            )
        case T.Tup(items):
            return SOp("tup", tuple(_shaped(b, a, f"{label}.{i}") for i, a in enumerate(items)))
        case T.Exp(T.Atom(base, Sort.CONST), exps):
            leaves_ = tuple(b.var(f"{label}.exp{i}", Sort.EXP) for i in range(len(exps)))
            return SExp(leaves_, base)
    raise UnsupportedProtocol(f"{label}: a received {t} cannot be encoded")


def instantiate(
    t: T.Term, env: Env, b: Builder, label: str, *, bind: bool = False, run: str = ""
) -> STerm:
    """The symbolic value of role term ``t`` in a run.

    With ``bind`` (a receive pattern), a variable not yet bound gets a new leaf and is
    bound in ``env``; otherwise an unbound variable is an error of the protocol description.
    Fresh names must already be in ``env``.
    """

    def sub(x: T.Term) -> STerm:
        return instantiate(x, env, b, label, bind=bind, run=run)

    match t:
        case T.Atom(name, sort):
            if sort is Sort.PUBKEY or sort is Sort.GROUP or sort is Sort.MSG:
                raise UnsupportedProtocol(f"atom {name} of sort {sort}")
            return b.const(name, sort)
        case T.Var() | T.Fresh():
            return _bound(t, env, b, label, bind=bind, run=run)
        case T.Pk(o) | T.Sk(o):
            owner = sub(o)
            if not isinstance(owner, Leaf) or owner.sort not in KEY_OWNER_SORTS:
                raise UnsupportedProtocol(f"{label}: key of neither an agent nor a seed {o}")
            return SPk(owner) if isinstance(t, T.Pk) else SSk(owner)
        case T.Ltk(o, p):
            return _ltk(t, sub(o), sub(p), label)
        case T.Inv(k):
            kv = sub(k)
            if not isinstance(kv, SPk):
                raise UnsupportedProtocol(f"{label}: inv() of {k}")
            return SSk(kv.owner)
        case T.Tup(items):
            return SOp("tup", tuple(sub(i) for i in items))
        case T.AEnc(body, key) | T.Sign(body, key) | T.SEnc(body, key):
            # key first: a pattern binds the key's variables before the body is read
            sk_ = sub(key)
            return _crypto(t, sub(body), sk_, key, label)
        case T.Hash(fn, args):
            return SOp("hash:" + fn, tuple(sub(a) for a in args))
        case T.Exp(base, exps):
            bv = sub(base)
            return _exp(t, base, bv, [sub(e) for e in exps], b, label)
    raise UnsupportedProtocol(f"{label}: cannot encode {t!r}")


def _bound(t: T.Var | T.Fresh, env: Env, b: Builder, label: str, *, bind: bool, run: str) -> STerm:
    """A variable's value in the run; a receive pattern binds one not yet bound."""
    if t in env:
        return env[t]
    if isinstance(t, T.Var) and bind:
        env[t] = b.fresh_value(t, f"{run}.{t.name}")
        return env[t]
    raise UnsupportedProtocol(f"{label}: {t} is used before it is bound")


def _ltk(t: T.Term, lo: STerm, lp: STerm, label: str) -> STerm:
    if not all(isinstance(x, Leaf) and x.sort is Sort.AGENT for x in (lo, lp)):
        raise UnsupportedProtocol(f"{label}: long-term key of a non-agent in {t}")
    assert isinstance(lo, Leaf) and isinstance(lp, Leaf)
    return SLtk(lo, lp)


def _crypto(t: T.Term, sm: STerm, sk_: STerm, key: T.Term, label: str) -> STerm:
    """Encryption or signature of ``sm`` under ``sk_``: a public key, a private key."""
    op = {T.AEnc: "aenc", T.Sign: "sign", T.SEnc: "senc"}[type(t)]
    if op == "aenc" and not isinstance(sk_, SPk):
        raise UnsupportedProtocol(f"{label}: public-key encryption under {key}")
    if op == "sign" and not isinstance(sk_, SSk):
        raise UnsupportedProtocol(f"{label}: signature with {key}")
    return SOp(op, (sm, sk_))


def _exp(t: T.Term, base: T.Term, bv: STerm, ev: list[STerm], b: Builder, label: str) -> STerm:
    """``base`` raised to exponent leaves: an exponentiation grows, a constant base starts one."""
    if not all(isinstance(e, Leaf) and e.sort is Sort.EXP for e in ev):
        raise UnsupportedProtocol(f"{label}: exponent of {t} is not of sort exp")
    leaves_ = tuple(e for e in ev if isinstance(e, Leaf))
    if isinstance(bv, SExp):
        return SExp(bv.exps + leaves_, bv.base)
    if isinstance(bv, Leaf) and bv.const is not None and bv.sort is Sort.CONST:
        return SExp(leaves_, b.u.names[bv.const])  # g or another public base
    raise UnsupportedProtocol(f"{label}: exponentiation of {base}, not of a constant")


def concrete(t: STerm, model: z3.ModelRef, u: Universe) -> T.Term:
    """The ground spec term a symbolic term denotes in ``model`` (normalised)."""

    def leaf(x: Leaf) -> T.Atom:
        if x.const is not None:
            return u.atom(x.const)
        return u.atom(model.eval(x.expr, model_completion=True).as_long())

    match t:
        case Leaf():
            return leaf(t)
        case SPk(o):
            return T.pk(leaf(o))
        case SSk(o):
            return T.sk(leaf(o))
        case SLtk(o, p):
            return T.ltk(leaf(o), leaf(p))
        case SOp("tup", args):
            return T.Tup(tuple(concrete(a, model, u) for a in args))
        case SOp("aenc", (m, k)):
            return T.aenc(concrete(m, model, u), concrete(k, model, u))
        case SOp("sign", (m, k)):
            return T.sign(concrete(m, model, u), concrete(k, model, u))
        case SOp("senc", (m, k)):
            return T.senc(concrete(m, model, u), concrete(k, model, u))
        case SOp(op, args) if op.startswith("hash:"):
            return T.Hash(op[5:], tuple(concrete(a, model, u) for a in args))
        case SExp(exps, base):
            out: T.Term = T.const(base)
            for e in exps:
                out = T.exp(out, leaf(e))
            return out
    raise AssertionError(t)
