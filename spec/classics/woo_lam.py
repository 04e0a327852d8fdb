"""Woo-Lam Pi: one-way authentication of A to B through a server, and its final version.

Source: T. Woo and S. Lam, "Authentication for distributed systems", IEEE Computer 25(1),
1992 (Pi and its refinements, up to Pi f); M. Abadi and R. Needham, "Prudent engineering
practice for cryptographic protocols", IEEE TSE 22(1), 1996 (the attack on Pi); J. Clark and
J. Jacob, "A survey of authentication protocol literature" (1997); the SPORE
library entry "Woo and Lam Pi".

``pi``::

    1. A -> B : A
    2. B -> A : Nb
    3. A -> B : {|Nb|}k(A,S)
    4. B -> S : {|A, {|Nb|}k(A,S)|}k(B,S)
    5. S -> B : {|Nb|}k(B,S)

B cannot open message 3: a ticket (``msg`` variable) it forwards inside message 4.  The
server learns B from the channel in the textbook; here the server's run names the B it
serves (a parameter) and tries its key.  The server is an honest agent of its own.

The attack (Abadi-Needham; Clark-Jacob): the intruder opens a session with B as A and one as
himself; he answers both of B's challenges with ``{|Nb|}k(e,S)`` for the *first* nonce; B
wraps them for the server, which refuses the one claiming A but, for the one claiming e,
returns ``{|Nb|}k(B,S)``: B accepts it in the session with A, who never did anything.  Three
runs (B twice, S once).  The model finds a smaller one, a reflection (two runs, no server
run): an agent b that plays B for a claimed A and, in another run, A towards the intruder,
with the same server S, encrypts B's challenge as A under ``k(b,S)``, which is exactly the
server's answer ``{|Nb|}k(B,S)`` B waits for.  Same verdict, fewer runs.

``pi_f`` (Woo-Lam's final version, which the same literature reports no attack on)::

    1. A -> B : A
    2. B -> A : Nb
    3. A -> B : {|A, B, Nb|}k(A,S)
    4. B -> S : {|A, B, Nb, {|A, B, Nb|}k(A,S)|}k(B,S)
    5. S -> B : {|A, B, Nb|}k(B,S)

The server's answer names A, so it no longer serves another session: typed, B's aliveness
claim holds.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Nb, S, X, vNb
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Term, ltk, senc, tup
from ethvoip.spec.textbook import initiator, responder, server


def _roles(final: bool) -> tuple[Role, Role, Role]:
    def body(n: Term) -> Term:
        return tup(A, B, n) if final else n

    to_server = tup(A, B, Nb, X) if final else tup(A, X)
    inner = senc(body(vNb), ltk(A, S))
    return (
        initiator(
            params=(A, B, S),
            steps=(
                Send("I_1", A),
                Recv("I_2", vNb),
                Send("I_3", senc(body(vNb), ltk(A, S))),
            ),
        ),
        responder(
            params=(B, S),
            fresh=(Nb,),
            steps=(
                Recv("R_1", A),
                Send("R_2", Nb),
                Recv("R_3", X, note="A's answer, which B cannot open"),
                Send("R_4", senc(to_server, ltk(B, S)), note="forwarded inside"),
                Recv("R_5", senc(body(Nb), ltk(B, S))),
            ),
        ),
        server(
            title="authentication server S",
            params=(S, B),
            steps=(
                Recv("S_4", senc(tup(A, B, vNb, inner) if final else tup(A, inner), ltk(B, S))),
                Send("S_5", senc(body(vNb), ltk(B, S))),
            ),
        ),
    )


CLAIM = Claim("R_alive", ClaimKind.ALIVENESS, "R", "B's peer A is alive", peer="I")

PROTOCOL = Protocol(
    name="woo_lam",
    title="Woo-Lam Pi",
    source="Woo & Lam 1992; Abadi & Needham 1996; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={
        "pi": Variant(
            name="pi",
            summary="Pi as published",
            roles=_roles(final=False),
            claims=(CLAIM,),
            expected={"R_alive": attack(2, "a reflection; Abadi-Needham's attack takes 3 runs")},
            honest_agents=3,
        ),
        "pi_f": Variant(
            name="pi_f",
            summary="Pi f, Woo-Lam's final version",
            roles=_roles(final=True),
            claims=(CLAIM,),
            expected={"R_alive": holds("typed; the server's answer names A")},
            honest_agents=3,
        ),
    },
)
