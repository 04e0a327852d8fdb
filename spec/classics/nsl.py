"""Needham-Schroeder-Lowe: Lowe's fix of Needham-Schroeder public key.

Source: G. Lowe, "Breaking and fixing the Needham-Schroeder public-key protocol using FDR",
TACAS 1996 (the fixed protocol, proved there for any number of runs); Clark & Jacob, "A
survey of authentication protocol literature" (1997).

::

    1. A -> B : {Na, A}pk(B)
    2. B -> A : {Na, Nb, B}pk(A)      B names itself
    3. A -> B : {Nb}pk(B)

In Lowe's attack on :mod:`.nspk`, A receives message 2 from B's run while talking to e; with
B's name inside, A sees the message is not e's and stops.  Every claim holds: Lowe proves
it for an unbounded number of runs, so no attack within any bound is the textbook verdict
(the model's "no attack within bound" says no more than that bound).
"""

from __future__ import annotations

from ethvoip.spec.claims import holds
from ethvoip.spec.classics.nspk import CLAIMS, roles
from ethvoip.spec.protocol import Protocol, Variant

PROTOCOL = Protocol(
    name="needham_schroeder_lowe",
    title="Needham-Schroeder-Lowe (NSL)",
    source="Lowe 1996; Clark & Jacob 1997",
    status="no attack (Lowe's proof, any number of runs)",
    narration=__doc__ or "",
    variants={
        "lowe": Variant(
            name="lowe",
            summary="Needham-Schroeder public key with B's name in message 2",
            roles=roles(lowe=True),
            claims=CLAIMS,
            expected={c.name: holds("Lowe 1996: proved for any number of runs") for c in CLAIMS},
        )
    },
)
