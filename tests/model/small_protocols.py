"""Small protocols outside the catalogue that probe where the model's encoding ends.

Each is a :class:`Variant` built by hand, with the verdict an external referee (ProVerif)
gives it; the soundness tests check that the model either agrees or refuses the protocol as
unsupported, and never answers "no attack" where the referee finds one.
"""

from __future__ import annotations

from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Recv,
    Role,
    Send,
    Variant,
    agent,
    attack,
    fresh,
    holds,
    var,
)
from ethvoip.spec.terms import Atom, Sort, Term, aenc, exp, h, pk, senc, sign, sk, tup

A, B = agent("A"), agent("B")
N, M = fresh("N", Sort.NONCE), fresh("M", Sort.NONCE)
K = var("K", Sort.KEY)


def derived_key(key: str = "kdf", *, flaw: bool = True) -> Variant:
    """A signs and encrypts a derived key ``kdf(N)`` for B, then (the flaw) sends N in clear.

    ``key`` picks the key: ``kdf`` (``kdf(N)``), ``hash2`` (``h(N, A)``), ``atomic`` (a
    fresh key, itself sent in clear instead of N) or ``opaque`` (``kdf`` of a ciphertext,
    a shape the model does not encode).

    ``B`` receives the key into a key variable and encrypts its secret M under it.  The
    intruder learns N, computes ``kdf(N)`` and opens M: an attack in two runs (ProVerif finds
    it at once).  A model that took the received key for an atom could never let B accept
    ``kdf(N)``, so B would never finish and the claim would vacuously hold.  ``flaw`` off:
    N stays secret and so does M.
    """
    kf = fresh("Kf", Sort.KEY)
    k: Term = {
        "kdf": h("kdf", N),
        "hash2": h("h", N, A),
        "atomic": kf,
        "opaque": h("kdf", aenc(N, pk(B))),
    }[key]
    i = Role(
        "I",
        A,
        "initiator",
        (A, B),
        (sk(A),),
        (N, kf) if key == "atomic" else (N,),
        (
            Send("I_1", aenc(sign(tup(B, k), sk(A)), pk(B))),
            Send("I_2", kf if key == "atomic" else N, note="the planted flaw: the key in clear"),
        )[: 2 if flaw else 1],
    )
    r = Role(
        "R",
        B,
        "responder",
        (B, A),
        (sk(B),),
        (M,),
        (
            Recv("R_1", aenc(sign(tup(B, K), sk(A)), pk(B))),
            Send("R_2", senc(M, K)),
        ),
    )
    return Variant(
        "derived_key",
        "a derived key received into a key variable",
        (i, r),
        (Claim("R_secret_M", ClaimKind.SECRECY, "R", "B's secret M", term=M),),
        {"R_secret_M": attack(2, "N in clear gives kdf(N), which opens M") if flaw else holds()},
    )


def dh_other_base() -> Variant:
    """Diffie-Hellman over a base that is not ``g`` (a public constant ``q``): refused until
    issue 15 §2, now read alike by the spec checker and the model."""
    x = fresh("x", Sort.EXP)
    q = Atom("q", Sort.CONST)
    i = Role("I", A, "initiator", (A, B), (), (x,), (Send("I_1", exp(q, x)),))
    r = Role(
        "R",
        B,
        "responder",
        (B,),
        (),
        (),
        (Recv("R_1", var("X", Sort.GROUP)),),
    )
    return Variant(
        "dh_other_base",
        "g replaced by another public constant",
        (i, r),
        (Claim("I_alive", ClaimKind.ALIVENESS, "I", "trivially false", peer="R"),),
        {"I_alive": attack(1, "nobody answers")},
    )


def ticket() -> Variant:
    """B takes a key out of a ticket ``senc(<B, K>, kas)`` it cannot open (Woo-Lam, Kerberos).

    Only a server holding ``kas`` could check that ticket; B cannot, so a model that lets B
    look inside over-constrains B and can hide attacks.
    """
    kas = Atom("kas", Sort.KEY)
    kab = fresh("Kab", Sort.KEY)
    i = Role("I", A, "initiator", (A, B), (kas,), (kab,), (Send("I_1", senc(tup(B, kab), kas)),))
    r = Role(
        "R", B, "responder", (B,), (), (), (Recv("R_1", senc(tup(B, K), Atom("kas", Sort.KEY))),)
    )
    return Variant(
        "ticket",
        "a ticket the receiver cannot open",
        (i, r),
        (Claim("R_secret_K", ClaimKind.SECRECY, "R", "B's key", term=K),),
        {"R_secret_K": attack(1, "anyone may send a ticket B cannot check")},
    )
