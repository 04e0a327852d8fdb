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

from ethvoip.spec.cast import GX, GY, K_I, K_R, KA, KB, A, B, gx, gy
from ethvoip.spec.protocol import Protocol, Role, Variant
from ethvoip.spec.steps import Lookup, Recv, Send
from ethvoip.spec.terms import Term, inv, senc, sign, sk, tup
from ethvoip.spec.textbook import dh_claims, signing_dh_parties, unknown_key_share


def _signed(first: Term, second: Term, peer: Term | None) -> Term:
    return tup(first, second) if peer is None else tup(first, second, peer)


def roles(identities: bool) -> tuple[Role, Role]:
    """Initiator A and responder B; ``identities``: each signature names the peer."""
    a, b = (A, B) if identities else (None, None)
    return signing_dh_parties(
        (
            Lookup("I_1", B, KB, note="B's certificate"),
            Send("I_2", tup(A, gx)),
            Recv("I_3", tup(GY, senc(sign(_signed(GY, gx, a), inv(KB)), K_I))),
            Send("I_4", senc(sign(_signed(gx, GY, b), sk(A)), K_I)),
        ),
        (
            Recv("R_1", tup(A, GX)),
            Lookup("R_2", A, KA, note="the certificate of whoever message 1 names"),
            Send("R_3", tup(gy, senc(sign(_signed(gy, GX, a), sk(B)), K_R))),
            Recv("R_4", senc(sign(_signed(GX, gy, b), inv(KA)), K_R)),
        ),
    )


CLAIMS = dh_claims(peer_at=("R_3", "I_4"))

#: Blake-Wilson & Menezes 1999: an unknown key-share in two runs; the key stays secret.
ORIGINAL = Variant(
    name="original",
    summary="STS over certificates issued without proof of possession",
    roles=roles(identities=False),
    claims=CLAIMS,
    expected=unknown_key_share(
        "Blake-Wilson & Menezes: e never learns K",
        i_fails="Blake-Wilson & Menezes 1999: e registers pk(A) as his; B's peer is e, A's is B",
        r_fails="Blake-Wilson & Menezes 1999, mirrored: e registers pk(B); A's peer is e, B's is A",
    ),
    pop_required=False,
)
IDENTITIES = ORIGINAL.fixed(
    "identities",
    "the same, each signature naming its intended peer",
    roles(identities=True),
    "Blake-Wilson & Menezes' countermeasure; Krawczyk 2003",
)

PROTOCOL = Protocol(
    name="station_to_station",
    title="Station-to-Station (STS), with and without identities signed",
    source="Diffie, van Oorschot & Wiener 1992; Blake-Wilson & Menezes 1999; Krawczyk 2003",
    status="original: unknown key-share (2 runs); identities: no attack",
    narration=__doc__ or "",
    variants={"original": ORIGINAL, "identities": IDENTITIES},
)
