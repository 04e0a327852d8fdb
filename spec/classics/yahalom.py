"""Yahalom: the server's answer carries B's ticket, which A forwards unopened.

Source: M. Burrows, M. Abadi and R. Needham, "A logic of authentication", Proc. R. Soc.
Lond. A 426, 1989 (the protocol, attributed to Yahalom); J. Clark and J. Jacob, "A survey
of authentication protocol literature" (1997); the SPORE library entry "Yahalom".

::

    1. A -> B : A, Na
    2. B -> S : B, {|A, Na, Nb|}k(B,S)
    3. S -> A : {|B, Kab, Na, Nb|}k(A,S), {|A, Kab|}k(B,S)
    4. A -> B : {|A, Kab|}k(B,S), {|Nb|}Kab

A cannot open ``{|A, Kab|}k(B,S)``: a ticket (``msg`` variable) she forwards.  The server
is an honest agent of its own.  Clark and Jacob list no attack on the secrecy of the
session key of this (original) version; the attacks known are on modified versions (BAN's
simplification) or type flaws.  Typed: the key stays secret for A and for B.
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
    fresh,
    holds,
    var,
)
from ethvoip.spec.terms import Sort, ltk, senc, tup

A, B, S = agent("A"), agent("B"), agent("S")
Na, Nb = fresh("Na", Sort.NONCE), fresh("Nb", Sort.NONCE)
vNa, vNb = var("Na", Sort.NONCE), var("Nb", Sort.NONCE)
Kab, vKab = fresh("Kab", Sort.KEY), var("Kab", Sort.KEY)
X = var("X", Sort.MSG)

INITIATOR = Role(
    name="I",
    agent=A,
    title="initiator A",
    params=(A, B, S),
    knows=(),
    fresh=(Na,),
    steps=(
        Send("I_1", tup(A, Na)),
        Recv("I_3", tup(senc(tup(B, vKab, Na, vNb), ltk(A, S)), X), note="X: B's ticket"),
        Send("I_4", tup(X, senc(vNb, vKab)), note="the ticket forwarded unopened"),
    ),
    session_key=vKab,
)
RESPONDER = Role(
    name="R",
    agent=B,
    title="responder B",
    params=(B, S),
    knows=(),
    fresh=(Nb,),
    steps=(
        Recv("R_1", tup(A, vNa)),
        Send("R_2", tup(B, senc(tup(A, vNa, Nb), ltk(B, S)))),
        Recv("R_4", tup(senc(tup(A, vKab), ltk(B, S)), senc(Nb, vKab))),
    ),
    session_key=vKab,
)
SERVER = Role(
    name="S",
    agent=S,
    title="key server S",
    params=(S,),
    knows=(),
    fresh=(Kab,),
    steps=(
        Recv("S_2", tup(B, senc(tup(A, vNa, vNb), ltk(B, S)))),
        Send(
            "S_3",
            tup(senc(tup(B, Kab, vNa, vNb), ltk(A, S)), senc(tup(A, Kab), ltk(B, S))),
        ),
    ),
    honest_only=True,
    session_key=Kab,
)

PROTOCOL = Protocol(
    name="yahalom",
    title="Yahalom",
    source="Burrows, Abadi & Needham 1989; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={
        "original": Variant(
            name="original",
            summary="as published",
            roles=(INITIATOR, RESPONDER, SERVER),
            claims=(
                Claim("I_secret_Kab", ClaimKind.SECRECY, "I", "A's key stays secret", term=vKab),
                Claim("R_secret_Kab", ClaimKind.SECRECY, "R", "B's key stays secret", term=vKab),
            ),
            expected={"I_secret_Kab": holds("typed"), "R_secret_Kab": holds("typed")},
            honest_agents=3,
        )
    },
)
