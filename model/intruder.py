"""The Dolev-Yao intruder as z3 formulas: what he can derive before a given event.

Python walks the (fixed) shapes of the sent messages once and lists their *positions*: every
subterm the intruder could read, together with what reading it requires (the private key
of each public-key encryption around it, the key of each symmetric encryption around it).
Signatures reveal their body; hashes and DH values hide their arguments.

``derive(t, at)`` is then a formula saying that the intruder can produce ``t`` from what was
sent strictly before event ``at``: either he *builds* it (tuples, encryptions, signatures,
hashes from derivable parts, ``g^(x...)`` from a known power and his own exponents, public
atoms and keys, his own long-term keys ``k(e, X)`` and ``k(X, e)``) or it *equals* a
readable position.  A position under a symmetric key needs
that key derived with one decryption fewer (``layer - 1``): the recursion is well-founded by
construction, so no knowledge can justify itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import z3

from ethvoip.model.symbolic import (
    Cond,
    Leaf,
    SExp,
    SLtk,
    SOp,
    SPk,
    SSk,
    STerm,
    children,
    conj,
    disj,
    eq,
    leaf_is,
    shape,
    skey,
)
from ethvoip.spec.terms import Sort


@dataclass(frozen=True, eq=False)
class Moment:
    """A point in the trace: an event (run, step index, time, executed flag) or the end."""

    run: int
    index: int
    time: z3.ArithRef | None  # None: the end of the trace
    done: z3.BoolRef | None


END = Moment(-1, -1, None, None)


@dataclass(frozen=True, eq=False)
class Position:
    """A readable subterm of a sent message (or of the initial knowledge)."""

    term: STerm
    sent: Moment | None  # None: known from the start
    needs: tuple[tuple[str, STerm], ...]  # ("inv", sk) / ("key", k) to open each wrapper
    shape: object


def positions(term: STerm, sent: Moment | None) -> list[Position]:
    out: list[Position] = []

    def walk(t: STerm, needs: tuple[tuple[str, STerm], ...]) -> None:
        out.append(Position(t, sent, needs, shape(t)))
        match t:
            case SOp("tup", items):
                for i in items:
                    walk(i, needs)
            case SOp("aenc", (m, SPk(o))):
                walk(m, (*needs, ("inv", SSk(o))))
            case SOp("senc", (m, k)):
                walk(m, (*needs, ("key", k)))
            case SOp("sign", (m, _)):
                walk(m, needs)

    walk(term, ())
    return out


def _ephemeral_pair(t: STerm) -> bool:
    """Whether ``t`` holds a key pair seeded by a nonce or key (not an agent's)."""
    if isinstance(t, SPk | SSk):
        return t.owner.sort is not Sort.AGENT
    return any(_ephemeral_pair(c) for c in children(t))


class Intruder:
    """Derivability formulas over a fixed set of positions, memoised per (term, moment, layer)."""

    def __init__(
        self,
        known_atoms: dict[Sort, list[int]],
        pos: Sequence[Position],
        own: int | None = None,
    ) -> None:
        self.known_atoms = known_atoms
        self.own = own  # the intruder's name: the long-term keys he shares are his
        self.by_shape: dict[object, list[Position]] = {}
        # per shape, the positions in groups that are readable under the same condition
        # (one message, the same wrappers around them: the same ``needs`` tuple), apart for
        # those read without a key (the same at every layer) and those under encryptions
        # (their keys derived one layer down)
        groups: dict[tuple[object, int, int], list[Position]] = {}
        for p in pos:
            self.by_shape.setdefault(p.shape, []).append(p)
            groups.setdefault((p.shape, id(p.sent), id(p.needs)), []).append(p)
        self.clear: dict[object, list[tuple[Position, ...]]] = {}
        self.wrapped: dict[object, list[tuple[Position, ...]]] = {}
        for (sh, _, _), g in groups.items():
            (self.wrapped if g[0].needs else self.clear).setdefault(sh, []).append(tuple(g))
        # with an ephemeral pair, a private key may be built from a seed read under
        # encryption: decrypting an aenc then needs the layered rounds, as a sent sk does
        self.sk_sent = any(p.shape == "sk" and p.sent is not None for p in pos) or any(
            _ephemeral_pair(p.term) for p in pos
        )
        self.layers = 1 + len(_layered_keys(pos, self.sk_sent))
        self._memo: dict[tuple[object, int, int], Cond] = {}
        self._clear_memo: dict[tuple[object, int], Cond] = {}
        self._eq_memo: dict[tuple[object, int], Cond] = {}
        self._sent_memo: dict[tuple[int, int], Cond] = {}
        self._avail_memo: dict[tuple[int, int, int, int], Cond] = {}
        self._skeys: dict[STerm, object] = {}  # by identity: the terms live as long as this

    def _skey(self, t: STerm) -> object:
        k = self._skeys.get(t)
        if k is None:
            k = self._skeys[t] = skey(t)
        return k

    def derive(self, t: STerm, at: Moment) -> Cond:
        return self._derive(t, at, self.layers)

    def _derive(self, t: STerm, at: Moment, layer: int) -> Cond:
        key = (self._skey(t), id(at), layer)
        if key not in self._memo:
            self._memo[key] = disj([self._build(t, at, layer), self._read(t, at, layer)])
        return self._memo[key]

    def _build(self, t: STerm, at: Moment, layer: int) -> Cond:
        match t:
            case Leaf(sort):
                return disj(leaf_is(t, c) for c in self.known_atoms.get(sort, ()))
            case SPk(o):
                # every agent's public key is public; an ephemeral one needs its seed
                return True if o.sort is Sort.AGENT else self._derive(o, at, layer)
            case SSk(o):
                # an agent's: only from the initial knowledge or a readable position; an
                # ephemeral pair's from its seed too
                return False if o.sort is Sort.AGENT else self._derive(o, at, layer)
            case SLtk(o, p):
                if self.own is None:
                    return False
                return disj([leaf_is(o, self.own), leaf_is(p, self.own)])
            case SOp(_, args):
                return conj(self._derive(a, at, layer) for a in args)
            case SExp(exps, base):
                if not exps:
                    return True  # g itself, or another public base
                # raise a derivable g^(rest) to an exponent he knows
                return disj(
                    conj(
                        [
                            self._derive(exps[j], at, layer),
                            self._derive(SExp(exps[:j] + exps[j + 1 :], base), at, layer),
                        ]
                    )
                    for j in range(len(exps))
                )
        raise AssertionError(t)

    def _read(self, t: STerm, at: Moment, layer: int) -> Cond:
        sh, tk = shape(t), self._skey(t)
        ck = (tk, id(at))
        if ck not in self._clear_memo:
            self._clear_memo[ck] = disj(
                conj([self._sent_before(g[0].sent, at), self._eq(t, tk, g)])
                for g in self.clear.get(sh, ())
            )
        return disj(
            [
                self._clear_memo[ck],
                *(
                    conj([self.available(g[0], at, layer), self._eq(t, tk, g)])
                    for g in self.wrapped.get(sh, ())
                ),
            ]
        )

    def _eq(self, t: STerm, tk: object, g: tuple[Position, ...]) -> Cond:
        """``t`` equals one of the positions of group ``g`` (the same at every moment and
        layer: built once per term and group)."""
        k = (tk, id(g))
        if k not in self._eq_memo:
            self._eq_memo[k] = disj(eq(t, p.term) for p in g)
        return self._eq_memo[k]

    def _sent_before(self, s: Moment | None, at: Moment) -> Cond:
        """The message at ``s`` (``None``: the initial knowledge) was sent before ``at``."""
        if s is None:
            return True
        k = (id(s), id(at))
        if k not in self._sent_memo:
            if at.time is None:
                self._sent_memo[k] = s.done if s.done is not None else True
            elif s.run == at.run and s.index >= at.index:
                self._sent_memo[k] = False  # a run's own later step
            else:
                assert s.time is not None and s.done is not None
                self._sent_memo[k] = conj([s.done, s.time < at.time])
        return self._sent_memo[k]

    def available(self, p: Position, at: Moment, layer: int) -> Cond:
        """Position ``p`` is readable before ``at`` using at most ``layer`` decryption rounds."""
        # positions of one message under the same wrappers share ``needs`` (one tuple)
        k = (id(p.needs), id(p.sent), id(at), layer)
        hit = self._avail_memo.get(k)
        if hit is not None:
            return hit
        guards: list[Cond] = [self._sent_before(p.sent, at)]
        for kind, key in p.needs:
            if kind == "inv" and not self.sk_sent:
                # private keys are never sent: only the initial knowledge holds one
                guards.append(self._derive(key, at, 0))
            elif layer == 0:
                guards.append(False)
                break
            else:
                guards.append(self._derive(key, at, layer - 1))
        out = self._avail_memo[k] = conj(guards)
        return out


def _layered_keys(pos: Sequence[Position], sk_sent: bool) -> set[object]:
    """The distinct keys a chain of decryptions may need, one layer each.

    Why this many layers suffice: at a fixed moment, let S_L be the set of these keys (as
    values) derivable with L layers.  What L + 1 layers read differs from what L layers read
    only through S_L, so once S_L = S_(L-1) nothing grows any more; S only grows by whole
    values, of which there are at most as many as distinct symbolic keys (equal symbolic
    terms are equal values).  Private keys count only when some are sent; otherwise they
    come from the initial knowledge (layer 0).
    """
    out: set[object] = set()
    for p in pos:
        for kind, k in p.needs:
            if kind == "key" or sk_sent:
                out.add((kind, skey(k)))
    return out
