"""Needham-Schroeder public key, and Lowe's fix: the tutorial's protocol (docs/tutorial.rst).

Needham & Schroeder 1978, the three messages between A and B (every public key known to
all); Lowe 1995/1996 for the attack and the fix.
"""

# -- names --
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
from ethvoip.spec.terms import Sort, aenc, pk, sk, tup

A, B = agent("A"), agent("B")  # who plays the initiator, who the responder
Na, Nb = fresh("Na", Sort.NONCE), fresh("Nb", Sort.NONCE)  # made anew in every run
vNa, vNb = var("Na", Sort.NONCE), var("Nb", Sort.NONCE)  # the same nonces, received


# -- roles --
def roles(lowe: bool) -> tuple[Role, Role]:
    """A and B; with ``lowe``, B names itself in message 2."""
    msg2_sent = tup(vNa, Nb, B) if lowe else tup(vNa, Nb)
    msg2_expected = tup(Na, vNb, B) if lowe else tup(Na, vNb)
    initiator = Role(
        name="I",
        agent=A,
        title="initiator A",
        params=(A, B),  # A knows whom it wants to talk to
        knows=(sk(A),),
        fresh=(Na,),
        steps=(
            Send("I_1", aenc(tup(Na, A), pk(B))),
            Recv("I_2", aenc(msg2_expected, pk(A))),
            Send("I_3", aenc(vNb, pk(B))),
        ),
    )
    responder = Role(
        name="R",
        agent=B,
        title="responder B",
        params=(B,),  # B learns who A is from message 1
        knows=(sk(B),),
        fresh=(Nb,),
        steps=(
            Recv("R_1", aenc(tup(vNa, A), pk(B))),
            Send("R_2", aenc(msg2_sent, pk(A))),
            Recv("R_3", aenc(Nb, pk(B))),
        ),
    )
    return initiator, responder


# -- claims --
CLAIMS = (
    Claim("R_secret_Nb", ClaimKind.SECRECY, "R", "B's nonce stays secret", term=Nb),
    Claim("R_alive", ClaimKind.ALIVENESS, "R", "A has taken part", peer="I"),
    Claim(
        "R_agree",
        ClaimKind.I_AGREEMENT,
        "R",
        "B agrees with A, one-to-one, on both names and both nonces",
        peer="I",
        data=(A, B, vNa, Nb),
        peer_at="I_3",
    ),
    Claim(
        "I_agree",
        ClaimKind.I_AGREEMENT,
        "I",
        "A agrees with B, one-to-one, on both names and both nonces",
        peer="R",
        data=(A, B, Na, vNb),
        peer_at="R_2",
    ),
)


# -- protocol --
LOWE = "Lowe 1995: A talks to e, e replays A's messages to B as A"

PROTOCOL = Protocol(
    name="my_ns",
    title="Needham-Schroeder public key",
    source="Needham & Schroeder 1978; Lowe 1995, 1996",
    status="original: Lowe's attack; lowe: no attack within bound",
    narration=__doc__,
    variants={
        "original": Variant(
            name="original",
            summary="as published",
            roles=roles(lowe=False),
            claims=CLAIMS,
            expected={
                "R_secret_Nb": attack(2, LOWE),
                "R_alive": holds("A is alive: it talks to e"),
                "R_agree": attack(2, LOWE),
                "I_agree": holds("A's own guarantee survives"),
            },
        ),
        "lowe": Variant(
            name="lowe",
            summary="Lowe's fix: B's name in message 2",
            roles=roles(lowe=True),
            claims=CLAIMS,
            expected={c.name: holds("Lowe 1996") for c in CLAIMS},
        ),
    },
)
