"""sts: Station-to-Station key agreement over RTCP, the paper's media-key alternative (Fig. 7).

Source: Kfoury & Khoury, section III.D.2 and Fig. 7; Diffie, van Oorschot & Wiener,
"Authentication and authenticated key exchanges" (1992); Blake-Wilson & Menezes, "Unknown
key-share attacks on the Station-to-Station (STS) protocol" (PKC 1999); Krawczyk, "SIGMA"
(CRYPTO 2003).

Status: paper variant broken (Blake-Wilson-Menezes unknown key-share, because the paper's key
store registers keys without proof of possession); ``unbound`` variant (the hardened messages,
but the callee takes its STS peer from message 1 instead of from the call) broken by a re-key
hijack in one run; hardened variant: no attack within the default bound.

Paper (as published; who is calling whom is carried by the SIP dialog, in clear)::

    1. A -> B : A, B, g^x
       B      : looks up pk(A)
    2. B -> A : g^y, {sign(<g^y, g^x>, sk(B))}K          K = g^(xy)
    3. A -> B : {sign(<g^x, g^y>, sk(A))}K

Hardened (ours: identities inside the signed transcript, SIGMA-style, with role tags; and
proof of possession at registration)::

    2. B -> A : g^y, {B, sign(<sts_r, A, B, g^x, g^y>, sk(B))}K
    3. A -> B : {A, sign(<sts_i, A, B, g^x, g^y>, sk(A))}K

Its named checks (spec/checknames.py): ``sts_identities`` (the names), ``role_tags``
(``sts_i``/``sts_r``), ``dialog_binding`` (below) and ``pop`` (the key directory).

The attack on the paper variant (two runs): e registers B's public key under his own name.
A starts a call with e; e relays A's g^x to B as if the call came from A; B answers; e
relays B's answer to A, who verifies B's signature with "e's" key (which is pk(B)); A's
final message goes on to B.  B shares K with A and believes its peer is A; A shares the
same K believing its peer is e.  Nobody learns K, yet B attributes A's words to A while A
thinks it is talking to e: an unknown key-share.

The dialog binding (claim ``R_dialog``).  STS runs inside a call: B already knows, from the
SIP dialog authenticated by the SIP server, who its peer is.  In the ``hardened`` variant B
starts its run with that peer ``A`` as a parameter, and message 1 must name it (and A's
signature must cover it).  The ``unbound`` variant is the same messages with B taking the
peer's name ``S`` from message 1, as the code first did: a third subscriber e who knows the
media port sends ``e, B, g^z`` and B completes STS with e, whose key then replaces the call's
media key (one run; the intruder plays his own part), and B, in a call with C, takes A's
re-key meant for another call (two runs: the cross-call verdicts).  ``R_dialog`` is weak
agreement with the dialog's peer: a run of A, calling B, started this re-key.  The paper
variant reads "peers named by the SIP dialog" as bound too (B knows A from the dialog);
Blake-Wilson-Menezes breaks it all the same, since A's signature names nobody.
"""

from __future__ import annotations

import dataclasses

from ethvoip.spec.cast import GX, GY, K_I, K_R, KA, KB, A, B, S, gx, gy
from ethvoip.spec.checknames import DIALOG_BINDING as DIALOG
from ethvoip.spec.checknames import POP
from ethvoip.spec.checknames import ROLE_TAGS as TAGS
from ethvoip.spec.checknames import STS_IDENTITIES as IDS
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds, share_agreement
from ethvoip.spec.protocol import Protocol, Role, Variant, adds, built, hardened
from ethvoip.spec.steps import Lookup, Recv, Send
from ethvoip.spec.terms import const, inv, senc, seq, sign, sk, tup
from ethvoip.spec.textbook import secret_keys, signing_dh_parties

STS_I, STS_R = const("sts_i"), const("sts_r")


def _roles(hardened: bool, on: frozenset[str] = frozenset({DIALOG})) -> tuple[Role, Role]:
    bound = DIALOG in on
    # whom B's STS run authenticates: the call's peer A, or (unbound) S, whoever message 1 names
    peer = A if bound else S
    msg_checks: tuple[str, ...] = ()
    if hardened:
        tag_i, tag_r = ((STS_I,), (STS_R,)) if TAGS in on else ((), ())
        ids_i, ids_r = ((A, B), (peer, B)) if IDS in on else ((), ())
        b_i, b_r = ((B,), (B,)) if IDS in on else ((), ())
        a_i, a_r = ((A,), (peer,)) if IDS in on else ((), ())
        r_sig_i, r_sig_r = (
            sign(tup(*tag_r, *ids_i, gx, GY), inv(KB)),
            sign(tup(*tag_r, *ids_r, GX, gy), sk(B)),
        )
        i_sig_i, i_sig_r = (
            sign(tup(*tag_i, *ids_i, gx, GY), sk(A)),
            sign(tup(*tag_i, *ids_r, GX, gy), inv(KA)),
        )
        msg2_i = tup(GY, senc(seq(*b_i, r_sig_i), K_I))
        msg2_r = tup(gy, senc(seq(*b_r, r_sig_r), K_R))
        msg3_i, msg3_r = senc(seq(*a_i, i_sig_i), K_I), senc(seq(*a_r, i_sig_r), K_R)
        msg_checks = adds(on, IDS, TAGS)
    else:
        msg2_i = tup(GY, senc(sign(tup(GY, gx), inv(KB)), K_I))
        msg2_r = tup(gy, senc(sign(tup(gy, GX), sk(B)), K_R))
        msg3_i = senc(sign(tup(gx, GY), sk(A)), K_I)
        msg3_r = senc(sign(tup(GX, gy), inv(KA)), K_R)
    r1_note = (
        "RTCP APP: g^x; A must be the SIP dialog's peer"
        if bound
        else "RTCP APP: g^x from whoever names himself S"
    )
    return signing_dh_parties(
        (
            Lookup("I_1", B, KB, note="pk(B) from the key store"),
            Send("I_2", tup(A, B, gx), note="RTCP APP: g^x (peers named by the SIP dialog)"),
            Recv(
                "I_3", msg2_i, note="RTCP APP: g^y and B's encrypted signature", checks=msg_checks
            ),
            Send("I_4", msg3_i, note="RTCP APP: A's encrypted signature", checks=msg_checks),
        ),
        (
            Recv("R_1", tup(peer, B, GX), note=r1_note, checks=adds(on, DIALOG)),
            Lookup("R_2", peer, KA, note=f"pk({peer}) from the key store", checks=adds(on, DIALOG)),
            Send(
                "R_3",
                msg2_r,
                note="RTCP APP: g^y and B's encrypted signature",
                checks=(*msg_checks, *adds(on, DIALOG)),
            ),
            Recv(
                "R_4",
                msg3_r,
                note="RTCP APP: A's encrypted signature",
                checks=(*msg_checks, *adds(on, DIALOG)),
            ),
        ),
        r_params=(B, A),  # A: the SIP dialog's authenticated peer
        titles=("caller A", "callee B"),
    )


CLAIMS = (
    *secret_keys("K", (K_I, K_R), "DH key"),
    Claim("I_alive", ClaimKind.ALIVENESS, "I", "B took part", peer="R"),
    *share_agreement((A, B), (gx, gy), (GY, GX), peer_at=("R_3", "I_4"), shares="half-keys"),
    Claim(
        "R_dialog",
        ClaimKind.WEAK_AGREEMENT,
        "R",
        "the call's peer A, calling B, started the re-key B finished (dialog binding)",
        peer="I",
        peer_at="I_2",
    ),
    Claim(
        "I_key_share",
        ClaimKind.KEY_AGREEMENT,
        "I",
        "whoever else holds A's key believes in the same A and B",
        term=K_I,
    ),
    Claim(
        "R_key_share",
        ClaimKind.KEY_AGREEMENT,
        "R",
        "whoever else holds B's key believes in the same A and B",
        term=K_R,
    ),
)

_BWM_I = "Blake-Wilson-Menezes: e registers pk(A) as his; B's peer is e, A's is B"
_BWM_R = "Blake-Wilson-Menezes: e registers pk(B) as his; A's peer is e, B's is A"

PAPER = Variant(
    name="paper",
    summary="STS as in Fig. 7, keys from a store that registers without proof of possession",
    roles=_roles(hardened=False),
    claims=CLAIMS,
    expected={
        "I_secret_K": holds("e never learns g^(xy)"),
        "R_secret_K": holds("e never learns g^(xy)"),
        "I_alive": holds("B's signature is fresh"),
        "I_agree": attack(2, _BWM_I),
        "R_agree": attack(2, _BWM_R),
        "R_dialog": attack(2, _BWM_R),
        "I_key_share": attack(2, _BWM_I),
        "R_key_share": attack(2, _BWM_R),
    },
    pop_required=False,
)


def _hardened(on: frozenset[str]) -> Variant:
    """The hardened variant with the named checks ``on`` (all of :data:`CHECKS` for ours)."""
    return hardened(
        "identities and role tags inside the signed transcript; proof of possession",
        _roles(hardened=True, on=on),
        CLAIMS,
        pop_required=POP in on,
    )


#: the checks the hardened variant adds to the paper's
CHECKS = (IDS, TAGS, DIALOG, POP)
HARDENED = built(_hardened, CHECKS)

_HIJACK = "re-key hijack: e sends (e, B, g^z) to B's RTCP port mid-call; B completes STS with e"
_CROSS = "cross-call: B, in a call with C, takes A's re-key meant for B's call with A"

# the hardened variant without the dialog binding, derived (not written a second time)
UNBOUND = dataclasses.replace(
    HARDENED.without(DIALOG),
    name="unbound",
    summary="hardened messages, but B authenticates whoever message 1 names, not the call's peer",
    expected={
        "I_secret_K": holds(),
        "R_secret_K": attack(1, _HIJACK),
        "I_alive": holds(),
        "I_agree": attack(2, _CROSS),
        "R_agree": attack(1, _HIJACK),
        "R_dialog": attack(1, _HIJACK),
        "I_key_share": attack(2, _CROSS),
        "R_key_share": attack(2, _CROSS),
    },
)

PROTOCOL = Protocol(
    name="sts",
    title="Station-to-Station over RTCP",
    source="Kfoury & Khoury Fig. 7; Diffie-van Oorschot-Wiener 1992; Blake-Wilson-Menezes 1999",
    status=(
        "paper: broken (unknown key-share); unbound: re-key hijack; "
        "hardened: no attack within bound"
    ),
    narration=__doc__ or "",
    variants={"paper": PAPER, "hardened": HARDENED, "unbound": UNBOUND},
)
