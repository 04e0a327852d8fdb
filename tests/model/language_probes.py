"""Small protocols that exercise one construct of the language each (issue 15 §2).

Each comes with and without a *planted flaw*; the tests check that the honest run completes
(the construct is executable), that the flawless version is "no attack" within a small
bound, and that the flaw is an attack (never "no attack") re-checked by the evaluator.
"""

from __future__ import annotations

from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Protocol,
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
from ethvoip.spec.terms import Atom, Sort, Term, aenc, const, exp, ltk, pk, senc, sign, sk, tup

A, B, S = agent("A"), agent("B"), agent("S")
N, vN = fresh("N", Sort.NONCE), var("N", Sort.NONCE)
K, vK = fresh("K", Sort.KEY), var("K", Sort.KEY)
X = var("X", Sort.MSG)
STORE = Atom("store", Sort.AGENT)


def protocol(v: Variant) -> Protocol:
    return Protocol(v.name, v.name, "tests", "probe", "", {v.name: v})


def shared_key(*, flaw: bool) -> Variant:
    """A sends B a nonce under their long-term key ``k(A, B)``; the flaw sends the key too."""
    steps: tuple[Send, ...] = (Send("I_1", senc(tup(A, N), ltk(A, B))),)
    if flaw:
        steps += (Send("I_2", ltk(A, B), note="the planted flaw: the long-term key in clear"),)
    i = Role("I", A, "initiator", (A, B), (), (N,), steps)
    r = Role("R", B, "responder", (B, A), (), (), (Recv("R_1", senc(tup(A, vN), ltk(A, B))),))
    return Variant(
        "shared_key",
        "a nonce under k(A, B)",
        (i, r),
        (Claim("R_secret_N", ClaimKind.SECRECY, "R", "the nonce B accepts", term=vN),),
        {"R_secret_N": attack(2, "the key in clear") if flaw else holds()},
    )


def receives_under_ltk() -> Variant:
    """B accepts anything under ``k(A, B)`` and finishes: with A = e the intruder builds it
    (his own long-term key), with A honest he cannot."""
    r = Role("R", B, "responder", (B, A), (), (), (Recv("R_1", senc(vN, ltk(A, B))),))
    i = Role("I", A, "initiator", (A, B), (), (N,), (Send("I_1", senc(N, ltk(A, B))),))
    return Variant(
        "receives_under_ltk",
        "B accepts a nonce under k(A, B)",
        (i, r),
        (Claim("R_alive", ClaimKind.ALIVENESS, "R", "A is alive", peer="I"),),
        {"R_alive": holds()},
    )


def server_ticket(*, flaw: bool) -> Variant:
    """A third party S (an honest agent of its own) makes a key for A and B; A forwards B's
    ticket unopened.  The flaw: the server also sends the key in clear."""
    ticket: Term = senc(tup(K, A), ltk(B, S))
    send: Term = tup(senc(tup(vN, K), ltk(A, S)), ticket)
    server_steps: tuple[Recv | Send, ...] = (
        Recv("S_1", tup(A, B, vN)),
        Send("S_2", send),
    )
    if flaw:
        server_steps += (Send("S_3", K, note="the planted flaw"),)
    s = Role("S", S, "server", (S,), (), (K,), server_steps, honest_only=True)
    i = Role(
        "I",
        A,
        "initiator",
        (A, B, S),
        (),
        (N,),
        (
            Send("I_1", tup(A, B, N)),
            Recv("I_2", tup(senc(tup(N, vK), ltk(A, S)), X)),
            Send("I_3", X, note="the ticket, unopened"),
        ),
    )
    r = Role("R", B, "responder", (B, S), (), (), (Recv("R_3", senc(tup(vK, A), ltk(B, S))),))
    return Variant(
        "server_ticket",
        "a server's key, B's ticket forwarded by A",
        (i, r, s),
        (Claim("R_secret_K", ClaimKind.SECRECY, "R", "B's key", term=vK),),
        {"R_secret_K": attack(2, "the key in clear") if flaw else holds()},
        honest_agents=3,
    )


def public_name() -> Variant:
    """B accepts ``<store, N>`` from anyone: the intruder builds the public name ``store``
    (before issue 15 §2 he could not, and B's aliveness claim came out "no attack")."""
    i = Role("I", A, "initiator", (A, B), (), (N,), (Send("I_1", tup(STORE, N)),))
    r = Role("R", B, "responder", (B, A), (), (), (Recv("R_1", tup(STORE, vN)),))
    return Variant(
        "public_name",
        "a public name in a message",
        (i, r),
        (Claim("R_alive", ClaimKind.ALIVENESS, "R", "A is alive", peer="I"),),
        {"R_alive": attack(1, "nothing authenticates the message")},
    )


def opaque_private_key() -> Variant:
    """A ticket whose honest value holds a private key: outside the encoded shapes."""
    i = Role("I", A, "initiator", (A, B), (sk(A),), (), (Send("I_1", tup(A, sk(A))),))
    r = Role("R", B, "responder", (B, A), (), (), (Recv("R_1", tup(A, X)),))
    return Variant(
        "opaque_private_key",
        "a private key in a msg variable",
        (i, r),
        (Claim("R_alive", ClaimKind.ALIVENESS, "R", "A is alive", peer="I"),),
        {"R_alive": attack(1, "anyone")},
    )


def signed_dh(base: str, *, flaw: bool) -> Variant:
    """Signed Diffie-Hellman over the public base ``base`` (``g`` or another constant):
    A's share signed for B, B's answer signed for A over both shares; A's claim is the
    secrecy of the shared ``base^(x*y)``.  The flaw: A sends her exponent in clear."""
    q = const(base)
    x, y = fresh("x", Sort.EXP), fresh("y", Sort.EXP)
    gx, gy = var("GX", Sort.GROUP), var("GY", Sort.GROUP)
    i_steps: tuple[Send | Recv, ...] = (
        Send("I_1", sign(tup(B, exp(q, x)), sk(A))),
        Recv("I_2", sign(tup(A, exp(q, x), gy), sk(B))),
    )
    if flaw:
        i_steps += (Send("I_3", x, note="the planted flaw: the exponent in clear"),)
    i = Role("I", A, "initiator", (A, B), (sk(A),), (x,), i_steps, session_key=exp(gy, x))
    r = Role(
        "R",
        B,
        "responder",
        (B, A),
        (sk(B),),
        (y,),
        (
            Recv("R_1", sign(tup(B, gx), sk(A))),
            Send("R_2", sign(tup(A, gx, exp(q, y)), sk(B))),
        ),
        session_key=exp(gx, y),
    )
    return Variant(
        f"signed_dh_{base}",
        f"signed Diffie-Hellman over {base}",
        (i, r),
        (Claim("I_secret", ClaimKind.SECRECY, "I", "the shared key", term=exp(gy, x)),),
        {"I_secret": attack(2, "the exponent in clear") if flaw else holds()},
    )


def ephemeral_pair(*, flaw: bool) -> Variant:
    """A signs a fresh public key ``pk(Ek)`` for B; B encrypts its secret M to it; A opens it
    with ``sk(Ek)``.  The flaw: A sends the seed Ek in clear (whoever knows Ek has sk(Ek))."""
    ek = fresh("Ek", Sort.KEY)
    m, vm = fresh("M", Sort.NONCE), var("M", Sort.NONCE)
    epk = var("EPK", Sort.PUBKEY)
    i_steps: tuple[Send | Recv, ...] = (
        Send("I_1", sign(tup(B, pk(ek)), sk(A))),
        Recv("I_2", aenc(vm, pk(ek))),
    )
    if flaw:
        i_steps += (Send("I_3", ek, note="the planted flaw: the seed in clear"),)
    i = Role("I", A, "initiator", (A, B), (sk(A),), (ek,), i_steps)
    r = Role(
        "R",
        B,
        "responder",
        (B, A),
        (),
        (m,),
        (Recv("R_1", sign(tup(B, epk), sk(A))), Send("R_2", aenc(m, epk))),
    )
    return Variant(
        "ephemeral_pair",
        "an ephemeral key pair",
        (i, r),
        (Claim("R_secret_M", ClaimKind.SECRECY, "R", "B's secret", term=m),),
        {"R_secret_M": attack(2, "the seed in clear") if flaw else holds()},
    )
