"""How the intruder built each message of a concrete attack: derivation trees for the trace.

z3 says *that* a message was derivable; this module, given the concrete messages of the
model's execution, finds *how* (which projection, which decryption with which key, which
construction), as :class:`ethvoip.spec.deduction.Derivation` trees the trace format carries.
It is a plain forward search on ground terms, written for the model so that the evaluator in
:mod:`ethvoip.spec.evaluate` re-checks the model's explanations rather than its own.
"""

from __future__ import annotations

from collections import Counter

from ethvoip.spec.deduction import Derivation
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
    ephemeral,
    exp,
)

_PUBLIC = (Sort.AGENT, Sort.CONST)
_INTRUDER = Atom("e", Sort.AGENT)


class Explainer:
    """The intruder's knowledge as a map term -> how he got it, grown event by event."""

    def __init__(self, initial: list[Term]) -> None:
        self.how: dict[Term, Derivation] = {}
        self.sealed: list[Term] = []
        for t in initial:
            self._take(t, Derivation("initial", t))
        self._open()

    def observe(self, t: Term, event: int) -> None:
        self._take(t, Derivation("observed", t, event=event))
        self._open()

    def _take(self, t: Term, how: Derivation) -> None:
        if t in self.how:
            return
        self.how[t] = how
        match t:
            case Tup(items):
                for i, x in enumerate(items):
                    self._take(x, Derivation("project", x, (how,), index=i))
            case Sign(body, _):
                self._take(body, Derivation("unsign", body, (how,)))
            case AEnc() | SEnc():
                self.sealed.append(t)

    def _open(self) -> None:
        progress = True
        while progress:
            progress = False
            for c in list(self.sealed):
                assert isinstance(c, AEnc | SEnc)
                key: Term | None = c.key if isinstance(c, SEnc) else None
                if isinstance(c, AEnc) and isinstance(c.key, Pk):
                    key = Sk(c.key.owner)
                if key is None:
                    continue
                dk = self.build(key)
                if dk is not None:
                    self.sealed.remove(c)
                    self._take(c.body, Derivation("decrypt", c.body, (self.how[c], dk)))
                    progress = True

    def build(self, t: Term) -> Derivation | None:
        """A derivation of ``t`` from the current knowledge, or ``None``."""
        if isinstance(t, Atom) and t.sort in _PUBLIC:
            return Derivation("public", t)  # names and constants: the shortest explanation
        if t in self.how:
            return self.how[t]
        match t:
            case Ltk(o, p) if _INTRUDER in (o, p):
                return Derivation("initial", t)  # a long-term key he shares
            case Pk(o):
                return self._cons("pk", t, (o,))
            case Sk(o) if ephemeral(o):
                return self._cons("sk", t, (o,))
            case Tup(items):
                return self._cons("tup", t, items)
            case AEnc(b, k):
                return self._cons("aenc", t, (b, k))
            case SEnc(b, k):
                return self._cons("senc", t, (b, k))
            case Sign(b, k):
                return self._cons("sign", t, (b, k))
            case Hash(_, args):
                return self._cons("hash", t, args)
            case Exp(base, exps) if base == G or (isinstance(base, Atom) and base.sort in _PUBLIC):
                return self._exp(t, base, exps)
        return None

    def _cons(self, rule: str, t: Term, parts: tuple[Term, ...]) -> Derivation | None:
        ps = []
        for p in parts:
            d = self.build(p)
            if d is None:
                return None
            ps.append(d)
        return Derivation(rule, t, tuple(ps))

    def _exp(self, t: Term, base: Term, exps: tuple[Term, ...]) -> Derivation | None:
        # start from the base (g, or another public constant) or from a known power of it
        # whose exponents the target contains, then raise it to each missing exponent (which
        # must be one he knows)
        starts: list[tuple[Derivation, Counter[Term]]] = [
            (Derivation("public", base), Counter(exps))
        ]
        for k, d in self.how.items():
            if isinstance(k, Exp) and k.base == base and k != t:
                rest = Counter(exps)
                rest.subtract(Counter(k.exps))
                if all(n >= 0 for n in rest.values()):
                    starts.append((d, rest))
        for how, missing in starts:
            cur: Term = how.term
            for x in sorted(missing.elements(), key=str):
                dx = self.build(x)
                if dx is None:
                    break
                cur = exp(cur, x)
                how = Derivation("exp", cur, (how, dx))
            else:
                return how
        return None
