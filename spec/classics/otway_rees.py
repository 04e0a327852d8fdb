"""Otway-Rees: B forwards A's part to the server and the server's answer to A, unopened.

Source: D. Otway and O. Rees, "Efficient and timely mutual authentication", ACM Operating
Systems Review 21(1), 1987; J. Clark and J. Jacob, "A survey of authentication protocol
literature" (1997); the SPORE library entry "Otway Rees".

::

    1. A -> B : M, A, B, {|Na, M, A, B|}k(A,S)
    2. B -> S : M, A, B, {|Na, M, A, B|}k(A,S), {|Nb, M, A, B|}k(B,S)
    3. S -> B : M, {|Na, Kab|}k(A,S), {|Nb, Kab|}k(B,S)
    4. B -> A : M, {|Na, Kab|}k(A,S)

B cannot open A's part of message 1 nor A's part of message 3: both are tickets (``msg``
variables) it forwards.  The server is an honest agent of its own.  Inside the encryptions,
``Na, M, A, B`` is the pair ``<Na, <M, <A, B>>>`` (pairs nested to the right), the reading
under which the type flaw below exists.

The attacks Clark and Jacob list on Otway-Rees are *type flaws*: A accepts the triple
``M, A, B`` of message 1, replayed in place of ``Na, Kab``, as its key.  The typed model
rules them out (a key variable only holds a key), so typed, the session key stays secret
for both A and B (the textbook's typed verdict).  The untyped mode
(:mod:`ethvoip.model.untyped`) finds the type flaw on A with one run (:data:`UNTYPED`).
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Kab, Na, Nb, S, X, vKab, vNa, vNb
from ethvoip.spec.claims import Expect, attack
from ethvoip.spec.protocol import Protocol, fresh, var
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Sort, Term, ltk, senc, tup
from ethvoip.spec.textbook import initiator, key_server_variant, responder, server

M, vM = fresh("M", Sort.NONCE), var("M", Sort.NONCE)
Y = var("Y", Sort.MSG)


def _part(n: Term, m: Term) -> Term:
    """``Na, M, A, B`` (or ``Nb, ...``) as pairs nested to the right."""
    return tup(n, tup(m, tup(A, B)))


INITIATOR = initiator(
    params=(A, B, S),
    fresh=(Na, M),
    steps=(
        Send("I_1", tup(M, A, B, senc(_part(Na, M), ltk(A, S)))),
        Recv("I_4", tup(M, senc(tup(Na, vKab), ltk(A, S)))),
    ),
    session_key=vKab,
)
RESPONDER = responder(
    params=(B, S),
    fresh=(Nb,),
    steps=(
        Recv("R_1", tup(vM, A, B, X), note="X: A's part, which B cannot open"),
        Send("R_2", tup(vM, A, B, X, senc(_part(Nb, vM), ltk(B, S)))),
        Recv("R_3", tup(vM, Y, senc(tup(Nb, vKab), ltk(B, S))), note="Y: A's part"),
        Send("R_4", tup(vM, Y), note="forwarded unopened"),
    ),
    session_key=vKab,
)
SERVER = server(
    fresh=(Kab,),
    steps=(
        Recv(
            "S_2",
            tup(
                vM,
                A,
                B,
                senc(_part(vNa, vM), ltk(A, S)),
                senc(_part(vNb, vM), ltk(B, S)),
            ),
        ),
        Send("S_3", tup(vM, senc(tup(vNa, Kab), ltk(A, S)), senc(tup(vNb, Kab), ltk(B, S)))),
    ),
    session_key=Kab,
)

TYPED = "typed: the attacks of the literature are type flaws (a tuple taken for a key)"

#: The untyped mode's verdict (one variable of another shape, depth 3): Clark and Jacob's type
#: flaw, A's key taken to be ``<M, <A, B>>`` from her own first message replayed, and B's
#: the same way from his own part of message 2 sent back to him as message 3.
UNTYPED: dict[str, dict[str, Expect]] = {
    "original": {
        "I_secret_Kab": attack(1, "type flaw: A's Kab := <M, <A, B>>"),
        "R_secret_Kab": attack(1, "type flaw: B's Kab := <M, <A, B>>, its message 2 returned"),
    },
}

PROTOCOL = Protocol(
    name="otway_rees",
    title="Otway-Rees",
    source="Otway & Rees 1987; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    untyped=UNTYPED,
    variants={
        "original": key_server_variant("as published", (INITIATOR, RESPONDER, SERVER), TYPED)
    },
)
