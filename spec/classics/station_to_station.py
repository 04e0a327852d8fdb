"""Station-to-Station: Blake-Wilson-Menezes unknown key-share, and identities signed.

Source: W. Diffie, P. van Oorschot and M. Wiener, "Authentication and authenticated key
exchanges", Designs, Codes and Cryptography 2(2), 1992 (STS); S. Blake-Wilson and
A. Menezes, "Unknown key-share attacks on the Station-to-Station (STS) protocol", PKC 1999
(the public-key substitution attack, and identities in the signatures as a countermeasure);
Krawczyk, "SIGMA", CRYPTO 2003 (the same lesson: sign the identities).

Certificates are look-ups in a key directory that, as in Blake-Wilson and Menezes, lets a
party register any public key under its own name, unchecked (no proof of possession).

STS, variant ``original``::

    1. A -> B : A, g^x                                  (A's certificate)
    2. B -> A : g^y, {sign(<g^y, g^x>, sk(B))}K         K = g^(xy)
    3. A -> B : {sign(<g^x, g^y>, sk(A))}K

The attack (two runs): e registers A's public key as his own; A starts with B; e presents
A's g^x to B as ``e, g^x``; B's answer goes to A unchanged; A's message 3, checked by B under
"e's" key (which is A's), convinces B that it shares K with e, while A believes it shares K
with B: an unknown key-share.  Mirrored, e registers B's key and A believes its peer is e.
K itself stays secret.

With identities, variant ``identities``: each signature also names the peer it is meant for,
``sign(<g^y, g^x, A>, sk(B))`` and ``sign(<g^x, g^y, B>, sk(A))``.  A's signature now names B,
not e, and B's names e, not A: with the same unchecked directory, no attack.
"""

from __future__ import annotations

from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Expect,
    Lookup,
    Protocol,
    Recv,
    Role,
    Send,
    Variant,
    agent,
    attack,
    fresh,
    holds,
    share_agreement,
    var,
)
from ethvoip.spec.terms import G, Sort, Term, exp, inv, senc, sign, sk, tup

A, B = agent("A"), agent("B")
x, y = fresh("x", Sort.EXP), fresh("y", Sort.EXP)
GX, GY = var("GX", Sort.GROUP), var("GY", Sort.GROUP)
KA, KB = var("KA", Sort.PUBKEY), var("KB", Sort.PUBKEY)
gx, gy = exp(G, x), exp(G, y)
K_I, K_R = exp(GY, x), exp(GX, y)


def _signed(first: Term, second: Term, peer: Term | None) -> Term:
    return tup(first, second) if peer is None else tup(first, second, peer)


def roles(identities: bool) -> tuple[Role, Role]:
    """Initiator A and responder B; ``identities``: each signature names the peer."""
    a, b = (A, B) if identities else (None, None)
    initiator = Role(
        name="I",
        agent=A,
        title="initiator A",
        params=(A, B),
        knows=(sk(A),),
        fresh=(x,),
        steps=(
            Lookup("I_1", B, KB, note="B's certificate"),
            Send("I_2", tup(A, gx)),
            Recv("I_3", tup(GY, senc(sign(_signed(GY, gx, a), inv(KB)), K_I))),
            Send("I_4", senc(sign(_signed(gx, GY, b), sk(A)), K_I)),
        ),
        session_key=K_I,
    )
    responder = Role(
        name="R",
        agent=B,
        title="responder B",
        params=(B,),
        knows=(sk(B),),
        fresh=(y,),
        steps=(
            Recv("R_1", tup(A, GX)),
            Lookup("R_2", A, KA, note="the certificate of whoever message 1 names"),
            Send("R_3", tup(gy, senc(sign(_signed(gy, GX, a), sk(B)), K_R))),
            Recv("R_4", senc(sign(_signed(GX, gy, b), inv(KA)), K_R)),
        ),
        session_key=K_R,
    )
    return initiator, responder


CLAIMS = (
    Claim("I_secret_K", ClaimKind.SECRECY, "I", "A's key g^(xy) stays secret", term=K_I),
    Claim("R_secret_K", ClaimKind.SECRECY, "R", "B's key g^(xy) stays secret", term=K_R),
    *share_agreement((A, B), (gx, gy), (GY, GX), peer_at=("R_3", "I_4")),
    Claim("I_key_share", ClaimKind.KEY_AGREEMENT, "I", "no unknown key-share for A", term=K_I),
    Claim("R_key_share", ClaimKind.KEY_AGREEMENT, "R", "no unknown key-share for B", term=K_R),
)

_BWM_R = "Blake-Wilson & Menezes 1999: e registers pk(A) as his; B's peer is e, A's is B"
_BWM_I = "Blake-Wilson & Menezes 1999, mirrored: e registers pk(B); A's peer is e, B's is A"

#: Blake-Wilson & Menezes 1999: an unknown key-share in two runs; the key stays secret.
ORIGINAL: dict[str, Expect] = {
    "I_secret_K": holds("Blake-Wilson & Menezes: e never learns K"),
    "R_secret_K": holds("Blake-Wilson & Menezes: e never learns K"),
    "I_agree": attack(2, _BWM_R),
    "R_agree": attack(2, _BWM_I),
    "I_key_share": attack(2, _BWM_R),
    "R_key_share": attack(2, _BWM_I),
}

PROTOCOL = Protocol(
    name="station_to_station",
    title="Station-to-Station (STS), with and without identities signed",
    source="Diffie, van Oorschot & Wiener 1992; Blake-Wilson & Menezes 1999; Krawczyk 2003",
    status="original: unknown key-share (2 runs); identities: no attack",
    narration=__doc__ or "",
    variants={
        "original": Variant(
            name="original",
            summary="STS over certificates issued without proof of possession",
            roles=roles(identities=False),
            claims=CLAIMS,
            expected=ORIGINAL,
            pop_required=False,
        ),
        "identities": Variant(
            name="identities",
            summary="the same, each signature naming its intended peer",
            roles=roles(identities=True),
            claims=CLAIMS,
            expected={
                c.name: holds("Blake-Wilson & Menezes' countermeasure; Krawczyk 2003")
                for c in CLAIMS
            },
            pop_required=False,
        ),
    },
)
