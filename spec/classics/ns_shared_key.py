"""Needham-Schroeder shared key, and Denning-Sacco's replay of an old session key.

Source: R. Needham and M. Schroeder, "Using encryption for authentication in large networks
of computers", CACM 21(12), 1978 (the conventional-key protocol); D. Denning and G. Sacco,
"Timestamps in key distribution protocols", CACM 24(8), 1981 (the attack); J. Clark and
J. Jacob, "A survey of authentication protocol literature" (1997) and the SPORE
library entry "Needham Schroeder Symmetric Key".

::

    1. A -> S : A, B, Na
    2. S -> A : {|Na, B, Kab, {|Kab, A|}k(B,S)|}k(A,S)
    3. A -> B : {|Kab, A|}k(B,S)
    4. B -> A : {|Nb|}Kab
    5. A -> B : {|dec(Nb)|}Kab

``dec(Nb)`` stands for ``Nb - 1`` (a public one-way function of ``Nb`` suffices: what counts is
that only a holder of ``Kab`` can encrypt it).  A forwards the ticket ``{|Kab, A|}k(B,S)``
without opening it (a ``msg`` variable).  The server is an honest agent of its own.

Denning and Sacco: B has no way to tell that message 3 is fresh.  Once the key of an old
session is compromised, the intruder replays that session's message 3 to B, answers B's
challenge with the old key, and B accepts a key the intruder knows as a new key shared with
A.  Variant ``compromise`` states the threat (the key a server issued in a finished, old
session may be revealed: :class:`~ethvoip.spec.protocol.Reveal`): B's secrecy fails with three
runs (the old server run, A's old run that forwards the ticket, B's new run), A's holds (her
nonce Na makes message 2 fresh).  Variant ``original`` has no compromise: typed, both hold.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Kab, Na, Nb, S, T, vKab, vNa, vNb
from ethvoip.spec.claims import attack, holds
from ethvoip.spec.protocol import Protocol, Reveal, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import h, ltk, senc, tup
from ethvoip.spec.textbook import initiator, responder, secret_keys, server

INITIATOR = initiator(
    params=(A, B, S),
    fresh=(Na,),
    steps=(
        Send("I_1", tup(A, B, Na)),
        Recv("I_2", senc(tup(Na, B, vKab, T), ltk(A, S)), note="T: the ticket for B"),
        Send("I_3", T, note="forwarded unopened"),
        Recv("I_4", senc(vNb, vKab)),
        Send("I_5", senc(h("dec", vNb), vKab)),
    ),
    session_key=vKab,
)
RESPONDER = responder(
    params=(B, S),
    fresh=(Nb,),
    steps=(
        Recv("R_3", senc(tup(vKab, A), ltk(B, S))),
        Send("R_4", senc(Nb, vKab)),
        Recv("R_5", senc(h("dec", Nb), vKab)),
    ),
    session_key=vKab,
)
SERVER = server(
    fresh=(Kab,),
    steps=(
        Recv("S_1", tup(A, B, vNa)),
        Send("S_2", senc(tup(vNa, B, Kab, senc(tup(Kab, A), ltk(B, S))), ltk(A, S))),
    ),
    session_key=Kab,
)

CLAIMS = secret_keys("Kab", (vKab, vKab), "session key")


def _variant(name: str, summary: str, compromise: bool) -> Variant:
    return Variant(
        name=name,
        summary=summary,
        roles=(INITIATOR, RESPONDER, SERVER),
        claims=CLAIMS,
        expected={
            "I_secret_Kab": holds("Na in message 2 makes A's key fresh"),
            "R_secret_Kab": attack(3, "Denning-Sacco: the old ticket replayed to B")
            if compromise
            else holds("typed, no key compromise"),
        },
        honest_agents=3,
        reveals=(Reveal("S", Kab, "the key of an old, finished server run"),) if compromise else (),
    )


PROTOCOL = Protocol(
    name="ns_shared_key",
    title="Needham-Schroeder shared key (Denning-Sacco)",
    source="Needham & Schroeder 1978; Denning & Sacco 1981; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={
        v.name: v
        for v in (
            _variant("original", "as published, no key compromise", compromise=False),
            _variant("compromise", "old session keys may be revealed", compromise=True),
        )
    },
)
