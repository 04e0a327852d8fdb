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

from ethvoip.spec.cast import A, B, Kab, Na, Nb, S, X, vKab, vNa, vNb
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import ltk, senc, tup
from ethvoip.spec.textbook import initiator, key_server_variant, responder, server

INITIATOR = initiator(
    params=(A, B, S),
    fresh=(Na,),
    steps=(
        Send("I_1", tup(A, Na)),
        Recv("I_3", tup(senc(tup(B, vKab, Na, vNb), ltk(A, S)), X), note="X: B's ticket"),
        Send("I_4", tup(X, senc(vNb, vKab)), note="the ticket forwarded unopened"),
    ),
    session_key=vKab,
)
RESPONDER = responder(
    params=(B, S),
    fresh=(Nb,),
    steps=(
        Recv("R_1", tup(A, vNa)),
        Send("R_2", tup(B, senc(tup(A, vNa, Nb), ltk(B, S)))),
        Recv("R_4", tup(senc(tup(A, vKab), ltk(B, S)), senc(Nb, vKab))),
    ),
    session_key=vKab,
)
SERVER = server(
    fresh=(Kab,),
    steps=(
        Recv("S_2", tup(B, senc(tup(A, vNa, vNb), ltk(B, S)))),
        Send(
            "S_3",
            tup(senc(tup(B, Kab, vNa, vNb), ltk(A, S)), senc(tup(A, Kab), ltk(B, S))),
        ),
    ),
    session_key=Kab,
)

PROTOCOL = Protocol(
    name="yahalom",
    title="Yahalom",
    source="Burrows, Abadi & Needham 1989; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={
        "original": key_server_variant("as published", (INITIATOR, RESPONDER, SERVER), "typed")
    },
)
