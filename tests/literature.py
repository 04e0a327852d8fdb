"""Expected verdicts restated from the literature: the yardstick for the spec and the model.

Lowe 1996: on Needham-Schroeder public key the responder's guarantees (secrecy of what it
receives, agreement) fail with two runs (one of them with the intruder); the initiator's
guarantees and the responder's aliveness hold.  Blake-Wilson & Menezes 1999: STS over keys
registered without proof of possession suffers an unknown key-share with two runs, while
g^(xy) stays secret.  The paper's Fig. 8 ``a=k:`` carries an unsigned encrypted key: the callee
gets no origin authentication at all, one run suffices (RFC 3830 section 3.3 signs for this
reason).  The paper's III.A: addClient is public and the password is the hash of the receipt,
which is on chain (3 runs: subscriber, chain, operator).  The paper's III.B look-up believes
the RPC node's getClient answer: a lying node substitutes the key with one run of the caller
(issue 12; the light-client literature's reason for verifying state against consensus).
Every hardened variant: no attack.

Other variants are named designs between the two.  sts ``unbound`` (hardened messages, but
the callee authenticates whoever message 1 names instead of its SIP dialog's peer): the
re-key hijack needs no honest peer run at all (1 run, the intruder plays the initiator with
his own key; his DH share is his, so B's key is not secret), and B in a call with C accepts
A's re-key meant for another call (2 runs: agreement and key-share fail across calls).

A change to an expectation in spec/ must be argued here too.
"""

from __future__ import annotations

from ethvoip.spec.protocol import Verdict
from tests.literature_lang import CLASSIC_VARIANTS_LANG, CLASSICS_LANG

A, H = Verdict.ATTACK, Verdict.NO_ATTACK

PAPER: dict[tuple[str, str], tuple[Verdict, int | None]] = {
    ("psk_handshake", "I_secret_Ks"): (H, None),
    ("psk_handshake", "R_secret_Ks"): (A, 2),
    ("psk_handshake", "R_alive"): (H, None),
    ("psk_handshake", "R_weak_agree"): (A, 2),
    ("psk_handshake", "R_agree_nonces"): (A, 2),
    ("psk_handshake", "R_agree_Ks"): (A, 2),
    ("psk_handshake", "I_agree"): (H, None),
    ("psk_handshake", "R_key_share"): (A, 2),
    ("mikey_key_transport", "I_secret_K"): (H, None),
    ("mikey_key_transport", "R_secret_K"): (A, 1),
    ("mikey_key_transport", "R_alive"): (A, 1),
    ("mikey_key_transport", "R_weak_agree"): (A, 1),
    ("mikey_key_transport", "R_agree_K"): (A, 1),
    ("sts", "I_secret_K"): (H, None),
    ("sts", "R_secret_K"): (H, None),
    ("sts", "I_alive"): (H, None),
    ("sts", "I_agree"): (A, 2),
    ("sts", "R_agree"): (A, 2),
    ("sts", "R_dialog"): (A, 2),
    ("sts", "I_key_share"): (A, 2),
    ("sts", "R_key_share"): (A, 2),
    ("keystore_registration", "O_agree_key"): (A, 3),
    ("keystore_registration", "O_secret_password"): (A, 3),
    ("key_lookup", "I_secret_K"): (A, 1),
}


OTHER: dict[tuple[str, str, str], tuple[Verdict, int | None]] = {
    ("sts", "unbound", "R_secret_K"): (A, 1),
    ("sts", "unbound", "R_agree"): (A, 1),
    ("sts", "unbound", "R_dialog"): (A, 1),
    ("sts", "unbound", "I_agree"): (A, 2),
    ("sts", "unbound", "I_key_share"): (A, 2),
    ("sts", "unbound", "R_key_share"): (A, 2),
}


def expected(protocol: str, variant: str, claim: str) -> tuple[Verdict, int | None]:
    """The literature's verdict and smallest attack bound for one claim."""
    if variant == "paper":
        return PAPER[(protocol, claim)]
    return OTHER.get((protocol, variant, claim), (H, None))


#: The key life cycle (issue 13), restated from the issue's list of holes: on today's contract
#: (v1) each hole is an attack of the stated length in calls (register/approve = 2 calls before
#: anything can go wrong); the paper has no revocation and no signatures (claims 1, 2, 4 do not
#: apply) but its operator overwrites an approved key at once; the fixed design has none.
_NA = "not applicable"
LIFECYCLE: dict[tuple[str, str], tuple[str, int | None]] = {
    ("paper", "1_revoked_key_stays_dead"): (_NA, None),
    ("paper", "2_thief_gets_nothing"): (_NA, None),
    ("paper", "3_operator_bound_by_timelock"): (A.value, 4),  # add, approve, add, approve
    ("paper", "4_signature_used_once"): (_NA, None),
    ("v1", "1_revoked_key_stays_dead"): (A.value, 4),  # register, approve, rotate out, rotate back
    ("v1", "2_thief_gets_nothing"): (A.value, 5),  # ..., revoke, thief registers, approve
    ("v1", "3_operator_bound_by_timelock"): (A.value, 5),  # ..., operatorRevoke, register, approve
    ("v1", "4_signature_used_once"): (A.value, 2),  # the same registration twice
    ("v1", "signature_cross_use"): (A.value, 3),  # register, approve, rotate with the same proof
    ("hardened", "1_revoked_key_stays_dead"): (H.value, None),
    ("hardened", "2_thief_gets_nothing"): (H.value, None),
    ("hardened", "3_operator_bound_by_timelock"): (H.value, None),
    ("hardened", "4_signature_used_once"): (H.value, None),
}


#: The classic library (spec/classics/), restated from its sources: (protocol, variant,
#: claim) -> verdict and smallest attack.  Every other claim of a classic: no attack.
#:
#: Lowe 1995/1996 on Needham-Schroeder public key: the responder's secrecy of both nonces and
#: its (weak) agreement fail with two runs; the initiator's guarantees and the responder's
#: aliveness hold; Lowe's fix (NSL) holds for any number of runs.  Krawczyk 2003 (SIGMA):
#: signed DH without identities (BADH) misbinds identities with two runs, either way round;
#: the key stays secret; with the ISO 9798-3 signatures (Canetti-Krawczyk 2001) it is
#: secure.  Blake-Wilson & Menezes 1999: STS over certificates issued without proof of
#: possession suffers an unknown key-share with two runs, either way round; K stays secret;
#: identities in the signatures stop it.  Abadi & Needham 1994: the Denning-Sacco public-key
#: protocol lets a recipient pass the signed key on (two runs), the receiver's secrecy and
#: agreement fail, the sender's secrecy holds; naming A and B in the signature fixes it.
#: ISO 9798-3 unilateral authentication without the verifier's name: aliveness holds, weak
#: agreement fails with two runs (Lowe's hierarchy 1997; Abadi & Needham principle 3).
#: Diffie-Hellman without authentication (Diffie & Hellman 1976; Handbook of Applied
#: Cryptography ch. 12): the intruder in the middle shares the key, one run of either side.
CLASSICS: dict[tuple[str, str, str], tuple[Verdict, int | None]] = {
    ("needham_schroeder_pk", "original", "R_secret_Na"): (A, 2),
    ("needham_schroeder_pk", "original", "R_secret_Nb"): (A, 2),
    ("needham_schroeder_pk", "original", "R_weak_agree"): (A, 2),
    ("needham_schroeder_pk", "original", "R_agree"): (A, 2),
    ("signed_dh", "badh", "I_agree"): (A, 2),
    ("signed_dh", "badh", "R_agree"): (A, 2),
    ("signed_dh", "badh", "I_key_share"): (A, 2),
    ("signed_dh", "badh", "R_key_share"): (A, 2),
    ("station_to_station", "original", "I_agree"): (A, 2),
    ("station_to_station", "original", "R_agree"): (A, 2),
    ("station_to_station", "original", "I_key_share"): (A, 2),
    ("station_to_station", "original", "R_key_share"): (A, 2),
    ("denning_sacco_pk", "original", "R_secret_K"): (A, 2),
    ("denning_sacco_pk", "original", "R_agree"): (A, 2),
    ("iso9798_3_unilateral", "unnamed", "V_weak_agree"): (A, 2),
    ("iso9798_3_unilateral", "unnamed", "V_agree"): (A, 2),
    ("diffie_hellman", "anonymous", "I_secret_K"): (A, 1),
    ("diffie_hellman", "anonymous", "R_secret_K"): (A, 1),
    ("diffie_hellman", "anonymous", "I_alive"): (A, 1),
    ("diffie_hellman", "anonymous", "R_alive"): (A, 1),
}

#: Every classic protocol's variants (so that a claim missing from CLASSICS is a textbook
#: "no attack" only for a variant the restatement knows).
CLASSIC_VARIANTS: dict[str, tuple[str, ...]] = {
    "needham_schroeder_pk": ("original",),
    "needham_schroeder_lowe": ("lowe",),
    "signed_dh": ("badh", "iso"),
    "station_to_station": ("original", "identities"),
    "denning_sacco_pk": ("original", "named"),
    "iso9798_3_unilateral": ("unnamed", "iso"),
    "diffie_hellman": ("anonymous",),
}

# the classics that need a server, tickets, long-term keys or key compromise (issue 15 §2)
CLASSICS.update(CLASSICS_LANG)
CLASSIC_VARIANTS.update(CLASSIC_VARIANTS_LANG)


def classic_expected(protocol: str, variant: str, claim: str) -> tuple[Verdict, int | None]:
    """The literature's verdict for one claim of a classic."""
    return CLASSICS.get((protocol, variant, claim), (H, None))
