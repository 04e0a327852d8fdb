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
        for p in pos:
            self.by_shape.setdefault(p.shape, []).append(p)
        # a chain of symmetric decryptions visits distinct positions: this many layers suffice
        n_senc = sum(1 for p in pos if isinstance(p.term, SOp) and p.term.op == "senc")
        n_aenc = sum(1 for p in pos if isinstance(p.term, SOp) and p.term.op == "aenc")
        # with an ephemeral pair, a private key may be built from a seed read under
        # encryption: decrypting an aenc then needs the layered rounds, as a sent sk does
        self.sk_sent = any(p.shape == "sk" and p.sent is not None for p in pos) or any(
            _ephemeral_pair(p.term) for p in pos
        )
        self.layers = 1 + n_senc + (n_aenc if self.sk_sent else 0)
        self._memo: dict[tuple[object, int, int], Cond] = {}

    def derive(self, t: STerm, at: Moment) -> Cond:
        return self._derive(t, at, self.layers)

    def _derive(self, t: STerm, at: Moment, layer: int) -> Cond:
        key = (skey(t), id(at), layer)
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
        return disj(
            conj([self.available(p, at, layer), eq(t, p.term)])
            for p in self.by_shape.get(shape(t), ())
        )

    def available(self, p: Position, at: Moment, layer: int) -> Cond:
        """Position ``p`` is readable before ``at`` using at most ``layer`` decryption rounds."""
        guards: list[Cond] = []
        if p.sent is not None:
            s = p.sent
            if at.time is None:
                guards.append(s.done if s.done is not None else True)
            else:
                if s.run == at.run and s.index >= at.index:
                    return False  # a run's own later step
                assert s.time is not None and s.done is not None
                guards += [s.done, s.time < at.time]
        for kind, k in p.needs:
            if kind == "inv" and not self.sk_sent:
                # private keys are never sent: only the initial knowledge holds one
                guards.append(self._derive(k, at, 0))
            elif layer == 0:
                return False
            else:
                guards.append(self._derive(k, at, layer - 1))
        return conj(guards)
