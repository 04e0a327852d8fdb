"""psk_handshake: the paper's generic handshake that distributes a pre-shared key (III.C).

Source: Kfoury & Khoury, section III.C, steps 1-7 and Fig. 5; Needham & Schroeder (1978);
Lowe, "Breaking and fixing the Needham-Schroeder public-key protocol using FDR" (1996).

Status: paper variant broken (Lowe's man-in-the-middle, which here also leaks the session
key Ks); hardened variant: no attack found within the default bound.

Paper (as published)::

    1. A -> chain : look up pk(B)
    2. A -> B     : {N1, A}pk(B)
    3. B -> chain : look up pk(A)
    4. B -> A     : {N1, N2}pk(A)
    5. A -> B     : {N2}pk(B)
    6. A -> B     : {{Ks}sk(A), N2}pk(B)
    7. B          : opens with sk(B), checks the signature with pk(A), keeps Ks

Hardened (ours)::

    2. A -> B : {N1, A}pk(B)
    4. B -> A : {N1, N2, B}pk(A)                          Lowe's fix: B names itself
    5. A -> B : {N2}pk(B)
    6. A -> B : {sign(<psk, Ks, A, B, N1, N2>, sk(A)), N2}pk(B)   Ks bound to the session

The named checks (spec/checknames.py) it is built from: ``lowe_fix`` (message 4),
``session_signature`` (message 6) and ``pop`` (the key directory).  ``ethvoip prove --ablate``
finds each of the first two sufficient alone, as the next paragraph says, and both together
needed: without both, the paper's attack.

The attack on the paper variant (two runs, the intruder ``e`` a subscriber like any other):
A starts a session with e; e re-encrypts A's first message for B as if from A; B answers
A; A (thinking it is e's answer) decrypts N2 for e; e completes B's run, and then re-encrypts
A's signed session key, meant for e, to B.  B ends believing it shares Ks with A while e
knows Ks.  The signed key ``{Ks}sk(A)`` comes from A's session with e and N2 from B's session:
the splice the hardened signature stops even without Lowe's fix.
"""

from __future__ import annotations

from ethvoip.spec.cast import KA, KB, A, B
from ethvoip.spec.checknames import LOWE_FIX as LOWE
from ethvoip.spec.checknames import POP
from ethvoip.spec.checknames import SESSION_SIGNATURE as SIG
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant, adds, built, fresh, hardened, var
from ethvoip.spec.steps import Lookup, Recv, Send
from ethvoip.spec.terms import Sort, Term, aenc, const, inv, pk, sign, sk, tup
from ethvoip.spec.textbook import agrees_on_nonces, initiator, responder, secret_keys, took_part

N1, N2, Ks = fresh("N1", Sort.NONCE), fresh("N2", Sort.NONCE), fresh("Ks", Sort.KEY)
vN1, vN2, vKs = var("N1", Sort.NONCE), var("N2", Sort.NONCE), var("Ks", Sort.KEY)
PSK = const("psk")
NONE: frozenset[str] = frozenset()


def _initiator(msg2_body: tuple[Term, ...], signed: Term, on: frozenset[str] = NONE) -> Role:
    return initiator(
        title="initiator A (the SIP client)",
        params=(A, B),
        knows=(sk(A),),
        fresh=(N1, Ks),
        session_key=Ks,
        steps=(
            Lookup("I_1", B, KB, note="paper step 1: pk(B) from the smart contract"),
            Send("I_2", aenc(tup(N1, A), KB), note="paper step 2"),
            Recv("I_3", aenc(tup(*msg2_body), pk(A)), note="paper step 4", checks=adds(on, LOWE)),
            Send("I_4", aenc(vN2, KB), note="paper step 5"),
            Send("I_5", aenc(tup(signed, vN2), KB), note="paper step 6", checks=adds(on, SIG)),
        ),
    )


def _responder(msg2_body: tuple[Term, ...], signed: Term, on: frozenset[str] = NONE) -> Role:
    return responder(
        title="responder B (the SIP server or the callee)",
        params=(B,),
        knows=(sk(B),),
        fresh=(N2,),
        session_key=vKs,
        steps=(
            Recv("R_1", aenc(tup(vN1, A), pk(B)), note="paper step 2"),
            Lookup("R_2", A, KA, note="paper step 3: pk(A) from the smart contract"),
            Send("R_3", aenc(tup(*msg2_body), KA), note="paper step 4", checks=adds(on, LOWE)),
            Recv("R_4", aenc(N2, pk(B)), note="paper step 5"),
            Recv("R_5", aenc(tup(signed, N2), pk(B)), note="paper step 6-7", checks=adds(on, SIG)),
        ),
    )


CLAIMS = (
    *secret_keys("Ks", (Ks, vKs), "session key"),
    *took_part(peer_at="I_4"),
    Claim(
        "R_agree_nonces",
        ClaimKind.NI_AGREEMENT,
        "R",
        "B agrees with A on both names and both nonces",
        peer="I",
        data=(A, B, vN1, N2),
        peer_at="I_4",
    ),
    Claim(
        "R_agree_Ks",
        ClaimKind.I_AGREEMENT,
        "R",
        "B agrees with A, one-to-one, on both names and the session key",
        peer="I",
        data=(A, B, vKs),
        peer_at="I_5",
    ),
    agrees_on_nonces((N1, vN2), peer_at="R_3"),
    Claim(
        "R_key_share",
        ClaimKind.KEY_AGREEMENT,
        "R",
        "whoever else holds B's Ks believes in the same A and B (no unknown key-share)",
        term=vKs,
    ),
)

_LOWE = "Lowe's man-in-the-middle: A talks to e, e replays A's messages to B as A"

PAPER = Variant(
    name="paper",
    summary="Needham-Schroeder public key, then {{Ks}sk(A), N2}pk(B) (as published)",
    roles=(
        _initiator((N1, vN2), sign(Ks, sk(A))),
        _responder((vN1, N2), sign(vKs, inv(KA))),
    ),
    claims=CLAIMS,
    expected={
        "I_secret_Ks": holds("only B can open message 6 of a session A runs with B"),
        "R_secret_Ks": attack(2, _LOWE + "; e opens message 6, meant for him, and re-encrypts it"),
        "R_alive": holds("in Lowe's attack A is alive, it just talks to e"),
        "R_weak_agree": attack(2, _LOWE),
        "R_agree_nonces": attack(2, _LOWE),
        "R_agree_Ks": attack(2, "splice: {Ks}sk(A) from A's session with e, N2 from B's"),
        "I_agree": holds("the initiator's guarantee of Needham-Schroeder survives Lowe's attack"),
        "R_key_share": attack(2, "A holds Ks believing it talks to e; B believes it talks to A"),
    },
    pop_required=False,
    notes="The paper's contract registers keys without proof of possession.",
)


def _hardened(on: frozenset[str]) -> Variant:
    """The hardened variant with the named checks ``on`` (all of :data:`CHECKS` for ours)."""
    named = (B,) if LOWE in on else ()
    i_signed, r_signed = (
        (sign(tup(PSK, Ks, A, B, N1, vN2), sk(A)), sign(tup(PSK, vKs, A, B, vN1, N2), inv(KA)))
        if SIG in on
        else (sign(Ks, sk(A)), sign(vKs, inv(KA)))
    )
    return hardened(
        "Lowe's fix (B named in message 4) and Ks signed together with both names and nonces",
        (_initiator((N1, vN2, *named), i_signed, on), _responder((vN1, N2, *named), r_signed, on)),
        CLAIMS,
        pop_required=POP in on,
    )


#: the checks the hardened variant adds to the paper's
CHECKS = (LOWE, SIG, POP)
HARDENED = built(_hardened, CHECKS)

PROTOCOL = Protocol(
    name="psk_handshake",
    title="Generic handshake for pre-shared keys (TLS-PSK)",
    source="Kfoury & Khoury III.C, Fig. 5; Needham-Schroeder 1978; Lowe 1996",
    status="paper: broken (Lowe, session-key leak); hardened: no attack within bound",
    narration=__doc__ or "",
    variants={"paper": PAPER, "hardened": HARDENED},
)
