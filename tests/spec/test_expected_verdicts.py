"""The expected verdicts pinned in the spec, restated from the literature.

Sources: Lowe 1996 (Needham-Schroeder public key: the responder's guarantees fail with two
runs, the initiator's hold, aliveness holds); Blake-Wilson & Menezes 1999 (STS with keys
registered without proof of possession: unknown key-share, no loss of secrecy); RFC 3830
section 3.3 discussion and the paper's Fig. 8 (an unsigned encrypted key gives the receiver
no origin authentication).  The keystore rows follow from the paper's III.A text (addClient by
anyone, receipt on chain, password = hash(receipt)).  A change to an expectation in spec/
must be argued here too.
"""

from __future__ import annotations

import pytest

from ethvoip.spec.catalogue import CATALOGUE
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
    ("sts", "I_key_share"): (A, 2),
    ("sts", "R_key_share"): (A, 2),
    ("keystore_registration", "O_agree_key"): (A, 3),
    ("keystore_registration", "O_secret_password"): (A, 3),
}


@pytest.mark.parametrize("key", sorted(PAPER))
def test_paper_expectation(key: tuple[str, str]) -> None:
    protocol, claim = key
    e = CATALOGUE[protocol].variant("paper").expected[claim]
    assert (e.verdict, e.runs) == PAPER[key]


def test_paper_table_covers_every_paper_claim() -> None:
    claims = {(p.name, c.name) for p in CATALOGUE.values() for c in p.variant("paper").claims}
    assert claims == set(PAPER)


@pytest.mark.parametrize("protocol", list(CATALOGUE))
def test_every_hardened_claim_is_expected_to_hold(protocol: str) -> None:
    v = CATALOGUE[protocol].variant("hardened")
    assert v.pop_required
    assert {c.name for c in v.claims} == {
        c.name for c in CATALOGUE[protocol].variant("paper").claims
    }
    assert all(e.verdict is H for e in v.expected.values())
