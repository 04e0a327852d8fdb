"""Signature challenge-response: ISO/IEC 9798-3 two-pass unilateral authentication.

Source: ISO/IEC 9798-3, two-pass unilateral authentication (the signed token names the
verifier B); M. Abadi and R. Needham, "Prudent engineering practice for cryptographic
protocols" (1996), principle 3 ("if the identity of a principal is essential to the meaning
of a message, it is prudent to mention the principal's name explicitly in the message");
G. Lowe, "A hierarchy of authentication specifications", CSFW 1997 (aliveness, weak and
non-injective agreement).

ISO 9798-3, variant ``iso``::

    1. B -> A : Nb
    2. A -> B : A, Na, sign(<Na, Nb, B>, sk(A))

Without the verifier's name, variant ``unnamed``: ``A, Na, sign(<Na, Nb>, sk(A))``.  The
signature still shows A alive and answering B's fresh challenge (aliveness holds), but not
that A meant to answer B: e passes B's challenge to A inside a session A runs with e, and
A's answer convinces B (two runs).  Weak agreement fails, and every stronger claim with it.
"""

from __future__ import annotations

from ethvoip.spec.cast import A, B, Na, Nb, vNa, vNb
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Term, sign, sk, tup


def roles(iso: bool) -> tuple[Role, Role]:
    """Verifier B and prover A; ``iso``: A's signature names B."""

    def token(na: Term, nb: Term) -> Term:
        return tup(A, na, sign(tup(na, nb, B) if iso else tup(na, nb), sk(A)))

    verifier = Role(
        name="V",
        agent=B,
        title="verifier B",
        params=(B,),
        knows=(),
        fresh=(Nb,),
        steps=(Send("V_1", Nb), Recv("V_2", token(vNa, Nb))),
    )
    prover = Role(
        name="P",
        agent=A,
        title="prover A",
        params=(A, B),
        knows=(sk(A),),
        fresh=(Na,),
        steps=(Recv("P_1", vNb), Send("P_2", token(Na, vNb))),
    )
    return verifier, prover


CLAIMS = (
    Claim("V_alive", ClaimKind.ALIVENESS, "V", "A has taken part", peer="P"),
    Claim(
        "V_weak_agree",
        ClaimKind.WEAK_AGREEMENT,
        "V",
        "A answered, meaning to answer B",
        peer="P",
        peer_at="P_2",
    ),
    Claim(
        "V_agree",
        ClaimKind.NI_AGREEMENT,
        "V",
        "A answered B's very challenge, meaning to answer B",
        peer="P",
        data=(A, B, Nb),
        peer_data=(A, B, vNb),
        peer_at="P_2",
    ),
)

_RELAY = "Abadi & Needham principle 3: e relays B's challenge into A's session with e"

UNNAMED = Variant(
    name="unnamed",
    summary="A signs both nonces but not B's name",
    roles=roles(iso=False),
    claims=CLAIMS,
    expected={
        "V_alive": holds("Lowe 1997: only A signs with sk(A), on B's fresh nonce"),
        "V_weak_agree": attack(2, _RELAY),
        "V_agree": attack(2, _RELAY),
    },
)
ISO = UNNAMED.fixed(
    "iso",
    "A's signed token names the verifier B (ISO/IEC 9798-3)",
    roles(iso=True),
    "ISO/IEC 9798-3: the token names B",
)

PROTOCOL = Protocol(
    name="iso9798_3_unilateral",
    title="ISO/IEC 9798-3 two-pass unilateral authentication (signature challenge-response)",
    source="ISO/IEC 9798-3; Abadi & Needham 1996; Lowe 1997",
    status="unnamed: weak agreement fails (2 runs); iso: no attack",
    narration=__doc__ or "",
    variants={"unnamed": UNNAMED, "iso": ISO},
)
