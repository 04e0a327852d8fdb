"""Dolev-Yao deduction on terms: what can be taken apart and what can be built.

A :class:`Knowledge` is a set of terms closed under *analysis* (split tuples, read signed
messages, open ciphertexts whose key is derivable); :meth:`Knowledge.derivable` then asks
whether a term can be *synthesised* from that set (build tuples, encrypt, sign, hash and
exponentiate with parts one holds).  Agent names, public constants and the public key of any
derivable name are public.  The knower's own long-term symmetric keys ``k(own, X)`` and
``k(X, own)`` are known from the start (``own``: the intruder ``e``, or a role's agent).
An ephemeral key pair ``pk(N)``/``sk(N)`` (seeded by a nonce or key ``N``) is built by
whoever knows ``N``; an agent's private key never is.

Used for the intruder by the independent trace evaluator, for honest roles by the
well-formedness checks (where variables stand for what the role has bound), and by the model
to write down how the intruder built each message of a trace it found.  The z3 encoding itself
does not use this module, and the evaluator does not take the trees the model writes with it
on trust: it re-checks every node of a stated derivation on its own (``_check_derivation`` in
:mod:`ethvoip.spec.evaluate`).

Every analysed term remembers how it was obtained, so :meth:`Knowledge.explain` returns a
derivation tree (:class:`Derivation`) that a trace can carry and a reader can follow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Derivation:
    """How a term was obtained.

    ``rule`` is one of: ``initial`` (known from the start), ``observed`` (seen on the
    network, ``event`` = its position in the trace), ``public`` (an agent name, a constant),
    ``project`` (item ``index`` of a tuple), ``unsign`` (the message of a signature),
    ``decrypt`` (body of a ciphertext; premises: ciphertext, key), or a constructor name
    (``tup``, ``aenc``, ``senc``, ``sign``, ``hash``, ``pk``, ``exp``).
    """

    rule: str
    term: Term
    premises: tuple[Derivation, ...] = ()
    index: int | None = None
    event: int | None = None


_PUBLIC_SORTS = frozenset({Sort.AGENT, Sort.CONST})


def _sub_multiset(small: tuple[Term, ...], big: tuple[Term, ...]) -> tuple[Term, ...] | None:
    """``big`` minus ``small`` as multisets, or ``None`` if ``small`` is not contained."""
    rest = Counter(big)
    rest.subtract(Counter(small))
    if any(n < 0 for n in rest.values()):
        return None
    return tuple(rest.elements())


class Knowledge:
    """A Dolev-Yao knowledge set, analysed eagerly, synthesised on demand."""

    def __init__(self, initial: Iterable[Term] = (), own: Term | None = None) -> None:
        self._how: dict[Term, Derivation] = {}
        self.own = own
        self._opaque: set[Term] = set()  # ciphertexts not yet opened
        for t in initial:
            self.add(t, Derivation("initial", t))

    # -- analysis ---------------------------------------------------------------------

    def add(self, t: Term, how: Derivation | None = None) -> None:
        """Learn ``t`` and everything analysis extracts from it (and from older ciphertexts)."""
        self._learn(t, how or Derivation("initial", t))
        self._reopen()

    def observe(self, t: Term, event: int) -> None:
        """Learn a message seen on the network at trace position ``event``."""
        self.add(t, Derivation("observed", t, event=event))

    def _learn(self, t: Term, how: Derivation) -> None:
        if t in self._how:
            return
        self._how[t] = how
        match t:
            case Tup(items):
                for i, item in enumerate(items):
                    self._learn(item, Derivation("project", item, (how,), index=i))
            case Sign(body, _):
                self._learn(body, Derivation("unsign", body, (how,)))
            case AEnc() | SEnc():
                self._opaque.add(t)

    def _reopen(self) -> None:
        changed = True
        while changed:
            changed = False
            for c in sorted(self._opaque, key=str):
                key = _decryption_key(c)
                if key is not None and self.derivable(key):
                    self._opaque.discard(c)
                    assert isinstance(c, AEnc | SEnc)
                    body_how = Derivation("decrypt", c.body, (self._how[c], self.explain(key)))
                    self._learn(c.body, body_how)
                    changed = True

    # -- synthesis --------------------------------------------------------------------

    def derivable(self, t: Term) -> bool:
        return self._synth(t) is not None

    def explain(self, t: Term) -> Derivation:
        """A derivation tree for ``t``; raises ``ValueError`` if ``t`` is not derivable."""
        d = self._synth(t)
        if d is None:
            raise ValueError(f"{t} is not derivable")
        return d

    def derivation(self, t: Term) -> Derivation | None:
        """A derivation tree for ``t``, or ``None`` if ``t`` is not derivable."""
        return self._synth(t)

    def known(self) -> frozenset[Term]:
        """Everything analysis has extracted so far."""
        return frozenset(self._how)

    def _synth(self, t: Term) -> Derivation | None:
        if isinstance(t, Atom) and t.sort in _PUBLIC_SORTS:
            # even when seen inside a message: "public" is the shortest explanation of a name
            return Derivation("public", t)
        if t in self._how:
            return self._how[t]
        match t:
            case Pk(owner):
                return self._build("pk", t, (owner,))
            case Sk(owner) if ephemeral(owner):
                return self._build("sk", t, (owner,))
            case Ltk(owner, peer) if self.own is not None and self.own in (owner, peer):
                # his own key with a name he knows (for the intruder: any name)
                other = peer if owner == self.own else owner
                return Derivation("initial", t) if self._synth(other) is not None else None
            case Tup(items):
                return self._build("tup", t, items)
            case AEnc(b, k):
                return self._build("aenc", t, (b, k))
            case SEnc(b, k):
                return self._build("senc", t, (b, k))
            case Sign(b, k):
                return self._build("sign", t, (b, k))
            case Hash(_, args):
                return self._build("hash", t, args)
            case Exp(base, exps):
                return self._synth_exp(t, base, exps)
        return None  # atoms of secret sorts, private keys, variables: only if known

    def _build(self, rule: str, t: Term, parts: tuple[Term, ...]) -> Derivation | None:
        premises = []
        for p in parts:
            d = self._synth(p)
            if d is None:
                return None
            premises.append(d)
        return Derivation(rule, t, tuple(premises))

    def _synth_exp(self, t: Term, base: Term, exps: tuple[Term, ...]) -> Derivation | None:
        # Start from g, or from any known g^E with E contained in the target's exponents,
        # then raise to each missing exponent the knower holds.
        starts: list[tuple[Derivation, tuple[Term, ...]]] = []
        base_how = Derivation("public", G) if base == G else self._synth(base)
        if base_how is not None:
            starts.append((base_how, exps))
        for k in self._how:
            if isinstance(k, Exp) and k.base == base and k != t:
                rest = _sub_multiset(k.exps, exps)
                if rest is not None:
                    starts.append((self._how[k], rest))
        for start, missing in starts:
            how, cur = start, start.term
            for e in missing:
                de = self._synth(e)
                if de is None:
                    break
                cur = exp(cur, e)
                how = Derivation("exp", cur, (how, de))
            else:
                return how
        return None


def _decryption_key(c: Term) -> Term | None:
    match c:
        case AEnc(_, Pk(owner)):
            return Sk(owner)
        case SEnc(_, k):
            return k
    return None
