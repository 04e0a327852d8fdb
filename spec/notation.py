"""Terms of ``ethvoip.spec.terms`` in the notation of protocol papers (docs, charts).

``aenc(<N1, A>, pk(B))`` reads ``{N1, A}pk(B)``; the legend below is printed on every protocol
page so that the notation is never guessed.  Pure function of the term: the same term always
prints the same way, in charts and in tables.
"""

from __future__ import annotations

from ethvoip.spec.errors import TermError
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Exp,
    Fresh,
    Hash,
    Inv,
    Ltk,
    Pk,
    SEnc,
    Sign,
    Sk,
    Term,
    Tup,
    Var,
)

LEGEND: tuple[tuple[str, str], ...] = (
    ("{m}k", "m encrypted under public key k"),
    ("{|m|}k", "m under symmetric key k (authenticated encryption)"),
    ("sign(m, k)", "signature on m with private key k (it reveals m)"),
    ("<a, b>", "a tuple (its outer brackets are dropped directly inside {...})"),
    ("pk(X), sk(X)", "the long-term public and private key of agent X"),
    ("k(A, S)", "the long-term symmetric key agent A shares with S (a server)"),
    ("K⁻¹", "the private key matching the public key held in variable K"),
    ("g^(x*y)", "Diffie-Hellman: g raised to x then y"),
    ("h(...), kdf(...)", "one-way functions"),
)


def notation(t: Term) -> str:
    """``t`` written as in protocol papers."""
    match t:
        case Atom(name, _) | Var(name, _) | Fresh(name, _):
            return name
        case Pk(owner):
            return f"pk({notation(owner)})"
        case Sk(owner):
            return f"sk({notation(owner)})"
        case Ltk(owner, peer):
            return f"k({notation(owner)}, {notation(peer)})"
        case Inv(key):
            return f"{_atomic(key)}⁻¹"
        case Tup(items):
            return "<" + _items(items) + ">"
        case AEnc(body, key):
            return "{" + _inner(body) + "}" + _atomic(key)
        case SEnc(body, key):
            return "{|" + _inner(body) + "|}" + _atomic(key)
        case Sign(body, key):
            return f"sign({notation(body)}, {notation(key)})"
        case Hash(fn, args):
            return f"{fn}({_items(args)})"
        case Exp(base, exps):
            power = _atomic(exps[0]) if len(exps) == 1 else "(" + "*".join(map(_atomic, exps)) + ")"
            return f"{_atomic(base)}^{power}"
    raise TermError(f"not a term: {t!r}")


def _items(items: tuple[Term, ...]) -> str:
    return ", ".join(notation(i) for i in items)


def _inner(body: Term) -> str:
    """The body of an encryption or signature: a tuple loses its brackets."""
    return _items(body.items) if isinstance(body, Tup) else notation(body)


def _atomic(t: Term) -> str:
    """``t`` bracketed when it would otherwise run into what follows it."""
    s = notation(t)
    return s if isinstance(t, Atom | Var | Fresh | Pk | Sk | Ltk | Hash | Tup) else f"({s})"
