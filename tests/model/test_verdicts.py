"""The verdict matrix the model must reach, restated from the literature.

Lowe 1996: on Needham-Schroeder public key the responder's guarantees (secrecy of what it
receives, agreement) fail with two runs (one of them with the intruder), the initiator's
guarantees and the responder's aliveness hold.  Blake-Wilson & Menezes 1999: STS over keys
registered without proof of possession suffers an unknown key-share with two runs, while
g^(xy) stays secret.  The paper's Fig. 8 a=k: carries an unsigned encrypted key: the callee
gets no origin authentication at all, one run suffices.  The paper's III.A: addClient is
public and the password is the hash of the receipt, which is on chain (3 runs: subscriber,
chain, operator).  Every hardened variant: no attack.  Searched here up to 3 runs (the
4-run sweep is ``ethvoip prove``).
"""

from __future__ import annotations

import pytest

from ethvoip.model.cli import Row, matches
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.protocol import Verdict

from .conftest import TEST_BOUND

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

ALL = sorted(
    (p.name, v, c.name) for p in CATALOGUE.values() for v in p.variants for c in p.variant(v).claims
)


def expected(protocol: str, variant: str, claim: str) -> tuple[Verdict, int | None]:
    if variant == "paper":
        return PAPER[(protocol, claim)]
    return (H, None)


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_model_verdict_matches_literature(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = matrix[key]
    verdict, runs = expected(*key)
    assert row.result.verdict is verdict, row.result.reason
    if verdict is A:
        assert row.result.runs == runs  # the smallest attack, by iterative deepening
    else:
        assert row.result.runs == TEST_BOUND
        assert row.trace is None


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_model_agrees_with_spec_expectation(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = matrix[key]
    assert matches(row.expected, row.result)


def test_matrix_covers_every_claim(matrix: dict[tuple[str, str, str], Row]) -> None:
    assert set(matrix) == set(ALL)
    assert {(p, c) for p, v, c in ALL if v == "paper"} == set(PAPER)
