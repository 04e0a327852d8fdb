"""Kerberos (the shared-key core analysed by Burrows, Abadi and Needham): a ticket and an
authenticator under the key it carries.

Source: S. Miller, C. Neuman, J. Schiller and J. Saltzer, "Kerberos authentication and
authorization system", Project Athena Technical Plan, 1987; M. Burrows, M. Abadi and
R. Needham, "A logic of authentication", Proc. R. Soc. Lond. A 426, 1989 (this four-message
form and its analysis); J. Clark and J. Jacob, "A survey of authentication protocol
literature" (1997).

::

    1. A -> S : A, B
    2. S -> A : {|Ts, L, Kab, B, {|Ts, L, Kab, A|}k(B,S)|}k(A,S)
    3. A -> B : {|Ts, L, Kab, A|}k(B,S), {|A, Ta|}Kab
    4. B -> A : {|succ(Ta)|}Kab

A forwards the ticket ``{|Ts, L, Kab, A|}k(B,S)`` unopened (a ``msg`` variable) with an
authenticator under the key inside it.  The server is an honest agent of its own.  The
timestamps ``Ts`` and ``Ta`` are values their makers generate fresh, the lifetime ``L`` a
public constant; the model has no clock, so nobody checks that a timestamp is recent: with
no key compromise this only removes checks, and the session key stays secret for A and for
B (BAN's conclusion).  What the timestamps are for, refusing an old ticket whose key was
compromised (Denning-Sacco, :mod:`.ns_shared_key`), is not stated here: without a clock, the
model would report the replay that the clock prevents.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Kab, S, T, vKab
from ethvoip.spec.protocol import Protocol, fresh, var
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Sort, const, h, ltk, senc, tup
from ethvoip.spec.textbook import initiator, key_server_variant, responder, server

L = const("L")
Ts, vTs = fresh("Ts", Sort.NONCE), var("Ts", Sort.NONCE)
Ta, vTa = fresh("Ta", Sort.NONCE), var("Ta", Sort.NONCE)

INITIATOR = initiator(
    title="client A",
    params=(A, B, S),
    fresh=(Ta,),
    steps=(
        Send("I_1", tup(A, B)),
        Recv("I_2", senc(tup(vTs, L, vKab, B, T), ltk(A, S)), note="T: the ticket for B"),
        Send("I_3", tup(T, senc(tup(A, Ta), vKab)), note="the ticket and an authenticator"),
        Recv("I_4", senc(h("succ", Ta), vKab)),
    ),
    session_key=vKab,
)
RESPONDER = responder(
    title="service B",
    params=(B, S),
    steps=(
        Recv("R_3", tup(senc(tup(vTs, L, vKab, A), ltk(B, S)), senc(tup(A, vTa), vKab))),
        Send("R_4", senc(h("succ", vTa), vKab)),
    ),
    session_key=vKab,
)
SERVER = server(
    title="key distribution centre S",
    fresh=(Ts, Kab),
    steps=(
        Recv("S_1", tup(A, B)),
        Send("S_2", senc(tup(Ts, L, Kab, B, senc(tup(Ts, L, Kab, A), ltk(B, S))), ltk(A, S))),
    ),
    session_key=Kab,
)

PROTOCOL = Protocol(
    name="kerberos",
    title="Kerberos (BAN's shared-key core)",
    source="Miller et al. 1987; Burrows, Abadi & Needham 1989; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={
        "original": key_server_variant(
            "timestamps as fresh values, no clock, no key compromise",
            (INITIATOR, RESPONDER, SERVER),
            "typed",
        )
    },
)
