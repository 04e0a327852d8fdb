"""Needham-Schroeder public key (three messages): Lowe's man-in-the-middle.

Source: R. Needham and M. Schroeder, "Using encryption for authentication in large networks
of computers", CACM 21(12), 1978 (messages 3, 6 and 7; the key-server messages 1, 2, 4, 5
are left out: every agent knows every public key, as Lowe does); G. Lowe, "An attack on the
Needham-Schroeder public-key authentication protocol", IPL 56(3), 1995, and "Breaking and
fixing the Needham-Schroeder public-key protocol using FDR", TACAS 1996; J. Clark and
J. Jacob, "A survey of authentication protocol literature" (1997).

::

    1. A -> B : {Na, A}pk(B)
    2. B -> A : {Na, Nb}pk(A)
    3. A -> B : {Nb}pk(B)

Lowe's attack (two runs): A starts a run with the intruder e; e re-encrypts message 1 for B
as if from A; B answers A; A, taking the answer for e's, opens Nb for e in message 3; e
re-encrypts it for B.  B finishes believing it talks with A, while A talked to e, and e knows
both nonces.  The responder's guarantees fail; the initiator's hold (A talked to e, who is
who A thought), and A is alive.  Lowe's fix, B's name in message 2, is :mod:`.nsl`.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Na, Nb, vNa, vNb
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import aenc, pk, sk, tup
from ethvoip.spec.textbook import agrees_on_nonces, initiator, responder, took_part


def roles(lowe: bool) -> tuple[Role, Role]:
    """Initiator and responder; ``lowe``: B names itself in message 2 (NSL)."""
    msg2_i = tup(Na, vNb, B) if lowe else tup(Na, vNb)
    msg2_r = tup(vNa, Nb, B) if lowe else tup(vNa, Nb)
    return (
        initiator(
            params=(A, B),
            knows=(sk(A),),
            fresh=(Na,),
            steps=(
                Send("I_1", aenc(tup(Na, A), pk(B))),
                Recv("I_2", aenc(msg2_i, pk(A))),
                Send("I_3", aenc(vNb, pk(B))),
            ),
        ),
        responder(
            params=(B,),
            knows=(sk(B),),
            fresh=(Nb,),
            steps=(
                Recv("R_1", aenc(tup(vNa, A), pk(B))),
                Send("R_2", aenc(msg2_r, pk(A))),
                Recv("R_3", aenc(Nb, pk(B))),
            ),
        ),
    )


CLAIMS = (
    Claim("I_secret_Na", ClaimKind.SECRECY, "I", "A's nonce stays secret", term=Na),
    Claim("I_secret_Nb", ClaimKind.SECRECY, "I", "the nonce A got stays secret", term=vNb),
    Claim("R_secret_Na", ClaimKind.SECRECY, "R", "the nonce B got stays secret", term=vNa),
    Claim("R_secret_Nb", ClaimKind.SECRECY, "R", "B's nonce stays secret", term=Nb),
    agrees_on_nonces((Na, vNb), peer_at="R_2"),
    *took_part(peer_at="I_3"),
    Claim(
        "R_agree",
        ClaimKind.I_AGREEMENT,
        "R",
        "B agrees with A, one-to-one, on both names and both nonces",
        peer="I",
        data=(A, B, vNa, Nb),
        peer_at="I_3",
    ),
)

_LOWE = "Lowe 1995: A runs with e, e replays A's messages to B as A"

#: Lowe 1995/1996: the responder's guarantees fail with two runs, the initiator's hold.
EXPECTED = {
    "I_secret_Na": holds("Lowe: A's nonces are safe when A talks to an honest B"),
    "I_secret_Nb": holds("Lowe: A's nonces are safe when A talks to an honest B"),
    "R_secret_Na": attack(2, _LOWE + "; e opens message 1, meant for him"),
    "R_secret_Nb": attack(2, _LOWE + "; A opens Nb for e in message 3"),
    "I_agree": holds("Lowe: the initiator's guarantee survives the attack"),
    "R_alive": holds("Lowe: in the attack A is alive, it just talks to e"),
    "R_weak_agree": attack(2, _LOWE),
    "R_agree": attack(2, _LOWE),
}

PROTOCOL = Protocol(
    name="needham_schroeder_pk",
    title="Needham-Schroeder public key (three messages)",
    source="Needham & Schroeder 1978; Lowe 1995, 1996; Clark & Jacob 1997",
    status="broken: Lowe's man-in-the-middle (2 runs)",
    narration=__doc__ or "",
    variants={
        "original": Variant(
            name="original",
            summary="messages 3, 6, 7 of the 1978 paper, public keys known to all",
            roles=roles(lowe=False),
            claims=CLAIMS,
            expected=EXPECTED,
        )
    },
)
