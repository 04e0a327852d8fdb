"""Denning-Sacco public-key distribution: the signed key is not bound to its recipient.

Source: D. Denning and G. Sacco, "Timestamps in key distribution protocols", CACM 24(8),
1981 (the public-key protocol); M. Abadi and R. Needham, "Prudent engineering practice for
cryptographic protocols", IEEE TSE 22(1), 1996 (the attack and the fix); J. Clark and
J. Jacob, "A survey of authentication protocol literature" (1997); the SPORE library entry
"Denning Sacco public key".

``original``::

    3. A -> B : {sign(<Kab, Ta>, sk(A))}pk(B)

Messages 1 and 2 (the server's certificates for A and B) are left out: every agent knows
every public key here; the timestamp Ta is left out too (the model has no clock), which only
removes a check.  Abadi and Needham: B, dishonest, re-encrypts A's signed key for C and
passes himself off as A: C believes it shares Kab with A, and B knows it.  Two runs (A with
the intruder, C believing it talks to A).  ``fixed`` signs both names with the key
(``sign(<A, B, Kab>, sk(A))``, their fix): typed, no attack.
"""

from __future__ import annotations

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
from ethvoip.spec.terms import Sort, Term, aenc, pk, sign, sk, tup

A, B = agent("A"), agent("B")
Kab, vKab = fresh("Kab", Sort.KEY), var("Kab", Sort.KEY)


def _variant(fixed: bool) -> Variant:
    def signed(k: Term) -> Term:
        return sign(tup(A, B, k) if fixed else k, sk(A))

    initiator = Role(
        name="I",
        agent=A,
        title="initiator A",
        params=(A, B),
        knows=(sk(A),),
        fresh=(Kab,),
        steps=(Send("I_3", aenc(signed(Kab), pk(B))),),
        session_key=Kab,
    )
    responder = Role(
        name="R",
        agent=B,
        title="responder B",
        params=(B, A),
        knows=(sk(B),),
        fresh=(),
        steps=(Recv("R_3", aenc(signed(vKab), pk(B))),),
        session_key=vKab,
    )
    name = "fixed" if fixed else "original"
    return Variant(
        name=name,
        summary="both names signed with the key" if fixed else "as published",
        roles=(initiator, responder),
        claims=(
            Claim("I_secret_Kab", ClaimKind.SECRECY, "I", "A's key stays secret", term=Kab),
            Claim("R_secret_Kab", ClaimKind.SECRECY, "R", "B's key stays secret", term=vKab),
            Claim(
                "R_agree_Kab",
                ClaimKind.NI_AGREEMENT,
                "R",
                "A sent Kab to B",
                peer="I",
                data=(vKab,),
                peer_data=(Kab,),
                peer_at="I_3",
            ),
        ),
        expected={
            "I_secret_Kab": holds(),
            "R_secret_Kab": holds("typed") if fixed else attack(2, "Abadi-Needham"),
            "R_agree_Kab": holds("typed") if fixed else attack(2, "Abadi-Needham"),
        },
    )


PROTOCOL = Protocol(
    name="denning_sacco",
    title="Denning-Sacco public key",
    source="Denning & Sacco 1981; Abadi & Needham 1996; Clark & Jacob 1997",
    status="classic",
    narration=__doc__ or "",
    variants={v.name: v for v in (_variant(fixed=False), _variant(fixed=True))},
)
