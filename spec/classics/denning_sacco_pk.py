"""Denning-Sacco public-key key distribution: Abadi and Needham's attack, and their fix.

Source: D. Denning and G. Sacco, "Timestamps in key distribution protocols", CACM 24(8),
1981 (the public-key protocol); M. Abadi and R. Needham, "Prudent engineering practice for
cryptographic protocols", IEEE S&P 1994 / IEEE TSE 22(1), 1996 (the attack, and the fix:
name both parties inside the signature); Clark & Jacob, "A survey of authentication
protocol literature" (1997).

The certificates ``C_A, C_B`` that A fetched from the server are public keys known to all
here, and the timestamp ``T_A`` is left out: the attack does not touch it, and the claims
below are non-injective (a replay within the timestamp's window is not what they ask).

Original, variant ``original``::

    A -> B : A, B, {sign(K, sk(A))}pk(B)

The attack (two runs): A distributes K to e (an ordinary subscriber); e opens the message
meant for him and re-encrypts A's signed key for B: ``A, B, {sign(K, sk(A))}pk(B)``.  B
believes it shares K with A; e knows K.  A's own guarantee holds: its K goes only to the
peer it named.

Abadi and Needham's fix, variant ``named``: ``A, B, {sign(<A, B, K>, sk(A))}pk(B)``.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, K, vK
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Term, aenc, pk, sign, sk, tup
from ethvoip.spec.textbook import initiator, responder


def roles(named: bool) -> tuple[Role, Role]:
    """Key distributor A and receiver B; ``named``: the signature names A and B."""

    def signed(k: Term) -> Term:
        return sign(tup(A, B, k) if named else k, sk(A))

    return (
        initiator(
            title="A, who chooses the key",
            params=(A, B),
            knows=(sk(A),),
            fresh=(K,),
            steps=(Send("I_1", tup(A, B, aenc(signed(K), pk(B)))),),
            session_key=K,
        ),
        responder(
            title="B, who receives it",
            params=(B,),
            knows=(sk(B),),
            steps=(Recv("R_1", tup(A, B, aenc(signed(vK), pk(B)))),),
            session_key=vK,
        ),
    )


CLAIMS = (
    Claim("I_secret_K", ClaimKind.SECRECY, "I", "A's key reaches only B", term=K),
    Claim("R_secret_K", ClaimKind.SECRECY, "R", "the key B received is secret", term=vK),
    Claim(
        "R_agree",
        ClaimKind.NI_AGREEMENT,
        "R",
        "A meant K for B",
        peer="I",
        data=(A, B, vK),
        peer_data=(A, B, K),
        peer_at="I_1",
    ),
)

_AN = "Abadi & Needham: e re-encrypts for B the signed key A meant for e"

ORIGINAL = Variant(
    name="original",
    summary="A signs the bare key",
    roles=roles(named=False),
    claims=CLAIMS,
    expected={
        "I_secret_K": holds("Abadi & Needham: only the named B can open A's message"),
        "R_secret_K": attack(2, _AN),
        "R_agree": attack(2, _AN),
    },
)
NAMED = ORIGINAL.fixed(
    "named", "A signs <A, B, K> (Abadi & Needham's fix)", roles(named=True), "Abadi & Needham's fix"
)

PROTOCOL = Protocol(
    name="denning_sacco_pk",
    title="Denning-Sacco public-key key distribution",
    source="Denning & Sacco 1981; Abadi & Needham 1994/1996; Clark & Jacob 1997",
    status="original: Abadi-Needham attack (2 runs); named: no attack",
    narration=__doc__ or "",
    variants={"original": ORIGINAL, "named": NAMED},
)
