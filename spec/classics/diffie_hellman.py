"""Diffie-Hellman without authentication: the man in the middle.

Source: W. Diffie and M. Hellman, "New directions in cryptography", IEEE Transactions on
Information Theory 22(6), 1976; A. Menezes, P. van Oorschot and S. Vanstone, *Handbook of
Applied Cryptography* (1996), chapter 12 (the basic Diffie-Hellman agreement keeps the key
from a passive eavesdropper but not from an active adversary in the middle).

::

    1. A -> B : g^x
    2. B -> A : g^y          K = g^(xy)

Nothing says whose share is whose: the intruder answers A with his own ``g^z`` and shares
``g^(xz)`` with A, in a single run of A (and the same with B).  Neither side learns that its
peer took part.  Authenticated variants are :mod:`.signed_dh` and :mod:`.station_to_station`.
"""

from __future__ import annotations

from ethvoip.spec.cast import GX, GY, K_I, K_R, A, B, gx, gy, x, y
from ethvoip.spec.claims import Claim, ClaimKind, attack
from ethvoip.spec.protocol import Protocol, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.textbook import initiator, responder, secret_keys

INITIATOR = initiator(
    params=(A, B), fresh=(x,), steps=(Send("I_1", gx), Recv("I_2", GY)), session_key=K_I
)
RESPONDER = responder(
    params=(B, A), fresh=(y,), steps=(Recv("R_1", GX), Send("R_2", gy)), session_key=K_R
)

CLAIMS = (
    *secret_keys("K", (K_I, K_R), "key g^(xy)"),
    Claim("I_alive", ClaimKind.ALIVENESS, "I", "B took part", peer="R"),
    Claim("R_alive", ClaimKind.ALIVENESS, "R", "A took part", peer="I"),
)

_MITM = "Handbook of Applied Cryptography ch. 12: the intruder in the middle answers with g^z"

PROTOCOL = Protocol(
    name="diffie_hellman",
    title="Diffie-Hellman key agreement, unauthenticated",
    source="Diffie & Hellman 1976; Menezes, van Oorschot & Vanstone 1996, chapter 12",
    status="anonymous: man in the middle (1 run)",
    narration=__doc__ or "",
    variants={
        "anonymous": Variant(
            name="anonymous",
            summary="g^x and g^y in clear, nothing authenticated",
            roles=(INITIATOR, RESPONDER),
            claims=CLAIMS,
            expected={c.name: attack(1, _MITM) for c in CLAIMS},
        )
    },
)
