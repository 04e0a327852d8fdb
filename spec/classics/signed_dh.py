"""Signed Diffie-Hellman: without identities (BADH, misbinding) and ISO 9798-3 style.

Source: H. Krawczyk, "SIGMA: the 'SIGn-and-MAc' approach to authenticated Diffie-Hellman and
its use in the IKE protocols", CRYPTO 2003 (the "basic authenticated DH" protocol, BADH, and
its identity-misbinding attack; the ISO fix); R. Canetti and H. Krawczyk, "Analysis of
key-exchange protocols and their use for building secure channels", EUROCRYPT 2001 (the
ISO 9798-3 based protocol, proved secure); ISO/IEC 9798-3 (signatures naming the peer);
Diffie, van Oorschot & Wiener, "Authentication and authenticated key exchanges" (1992).

BADH, variant ``badh``::

    1. A -> B : g^x
    2. B -> A : B, g^y, sign(<g^x, g^y>, sk(B))
    3. A -> B : A, sign(<g^y, g^x>, sk(A))

The misbinding (two runs): A runs with B; e passes g^x and B's answer along, then replaces
A's message 3 with ``e, sign(<g^y, g^x>, sk(e))``, which he can make since nothing in it is
secret.  B ends believing it shares g^(xy) with e, A believing it shares it with B: an
unknown key-share; nobody else learns the key.  Mirrored (e signs message 2 himself for A),
A ends believing its peer is e while B believes it is A.  Agreement on the peer fails both
ways; the key stays secret.

ISO 9798-3 style, variant ``iso``: each signature also names the peer it is meant for::

    1. A -> B : A, g^x
    2. B -> A : B, g^y, sign(<g^x, g^y, A>, sk(B))
    3. A -> B : sign(<g^y, g^x, B>, sk(A))

e's signature in the attack would have to name B, and B's would name e: every claim holds
(Canetti and Krawczyk prove the protocol secure for any number of sessions).
"""

from __future__ import annotations

from ethvoip.spec.cast import GX, GY, A, B, gx, gy
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Recv, Send
from ethvoip.spec.terms import Term, sign, sk, tup
from ethvoip.spec.textbook import dh_claims, signing_dh_parties, unknown_key_share


def roles(iso: bool) -> tuple[Role, Role]:
    """Initiator A and responder B; ``iso``: each signature names the peer (A in clear in
    message 1); else A names itself only in message 3."""
    msg1_i: Term
    msg1_r: Term
    msg3_i: Term
    msg3_r: Term
    if iso:
        msg1_i, msg1_r = tup(A, gx), tup(A, GX)
        msg2_i = tup(B, GY, sign(tup(gx, GY, A), sk(B)))
        msg2_r = tup(B, gy, sign(tup(GX, gy, A), sk(B)))
        msg3_i, msg3_r = sign(tup(GY, gx, B), sk(A)), sign(tup(gy, GX, B), sk(A))
    else:
        msg1_i, msg1_r = gx, GX
        msg2_i = tup(B, GY, sign(tup(gx, GY), sk(B)))
        msg2_r = tup(B, gy, sign(tup(GX, gy), sk(B)))
        msg3_i, msg3_r = tup(A, sign(tup(GY, gx), sk(A))), tup(A, sign(tup(gy, GX), sk(A)))
    return signing_dh_parties(
        (Send("I_1", msg1_i), Recv("I_2", msg2_i), Send("I_3", msg3_i)),
        (Recv("R_1", msg1_r), Send("R_2", msg2_r), Recv("R_3", msg3_r)),
    )


CLAIMS = dh_claims(peer_at=("R_2", "I_3"))

_MISBIND = "Krawczyk 2003, BADH misbinding: e signs message 3 himself; B's peer is e, A's is B"
_MIRRORED = "the same misbinding mirrored: e signs message 2 himself; A's peer is e, B's is A"

#: Krawczyk 2003: BADH's key stays secret, but identities are misbound (two runs).
BADH = Variant(
    name="badh",
    summary="each side signs both shares, names nobody: identity misbinding",
    roles=roles(iso=False),
    claims=CLAIMS,
    expected=unknown_key_share(
        "Krawczyk: the misbinding does not reveal the key",
        i_fails=_MISBIND,
        r_fails=_MIRRORED,
    ),
)
ISO = BADH.fixed(
    "iso",
    "each signature names the peer it is meant for (ISO 9798-3)",
    roles(iso=True),
    "Canetti & Krawczyk 2001: proved secure",
)

PROTOCOL = Protocol(
    name="signed_dh",
    title="Signed Diffie-Hellman: BADH and ISO 9798-3",
    source="Krawczyk 2003 (SIGMA); Canetti & Krawczyk 2001; ISO/IEC 9798-3",
    status="badh: identity misbinding (2 runs); iso: no attack",
    narration=__doc__ or "",
    variants={"badh": BADH, "iso": ISO},
)
