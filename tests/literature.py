"""Expected verdicts restated from the literature: the yardstick for the spec and the model.

Lowe 1996: on Needham-Schroeder public key the responder's guarantees (secrecy of what it
receives, agreement) fail with two runs (one of them with the intruder); the initiator's
guarantees and the responder's aliveness hold.  Blake-Wilson & Menezes 1999: STS over keys
registered without proof of possession suffers an unknown key-share with two runs, while
g^(xy) stays secret.  The paper's Fig. 8 ``a=k:`` carries an unsigned encrypted key: the callee
gets no origin authentication at all, one run suffices (RFC 3830 section 3.3 signs for this
reason).  The paper's III.A: addClient is public and the password is the hash of the receipt,
which is on chain (3 runs: subscriber, chain, operator).  Every hardened variant: no attack.

Other variants are named designs between the two.  sts ``unbound`` (hardened messages, but
the callee authenticates whoever message 1 names instead of its SIP dialog's peer): the
re-key hijack needs no honest peer run at all (1 run, the intruder plays the initiator with
his own key; his DH share is his, so B's key is not secret), and B in a call with C accepts
A's re-key meant for another call (2 runs: agreement and key-share fail across calls).

A change to an expectation in spec/ must be argued here too.
"""

from __future__ import annotations

from ethvoip.spec.protocol import Verdict

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
