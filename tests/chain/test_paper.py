"""The paper's contract (III.A.2) through its client, on both chains: it works as published,
and its flaws are there to be attacked."""

from __future__ import annotations

import pytest

from ethvoip.impl.chain import Chain, PaperKeyStoreClient
from ethvoip.impl.chain import events as ev
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.impl.chain.contract import address_bytes
from tests.refusals import reverts

from .conftest import ALICE_KEY, MALLORY_KEY, Actors

NUMBER = "+33612345678"
RECEIPT = "GPA.3345-1234-5678-90123"  # shape of a Google Play order id


@pytest.fixture
def paper(chain: Chain, actors: Actors) -> PaperKeyStoreClient:
    return PaperKeyStoreClient.deploy(chain, actors.operator)


def test_add_approve_get(paper: PaperKeyStoreClient, actors: Actors) -> None:
    key = ALICE_KEY.public_key.to_bytes()
    added = paper.add_client(NUMBER, key, RECEIPT, actors.alice)
    assert added.events == (ev.ClientAdded(NUMBER, key, RECEIPT, address_bytes(actors.alice)),)
    assert paper.pending(RECEIPT) == (NUMBER, key, RECEIPT, True)
    with reverts("UnknownClient"):
        paper.get_client(NUMBER)
    approved = paper.approve_client(NUMBER, RECEIPT, actors.operator)
    assert approved.events == (ev.ClientApproved(NUMBER, key, RECEIPT),)
    assert paper.get_client(NUMBER) == key
    assert paper.pending(RECEIPT)[3] is False
    assert paper.approved(RECEIPT) == (NUMBER, key, RECEIPT, True)
    assert paper.receipt_of(NUMBER) == RECEIPT
    assert paper.creator == actors.operator


def test_custom_errors(paper: PaperKeyStoreClient, actors: Actors) -> None:
    key = ALICE_KEY.public_key.to_bytes()
    paper.add_client(NUMBER, key, RECEIPT, actors.alice)
    with reverts("ReceiptAlreadyUsed"):  # first writer of a receipt wins
        paper.add_client(NUMBER, MALLORY_KEY.public_key.to_bytes(), RECEIPT, actors.mallory)
    with reverts("NotCreator"):
        paper.approve_client(NUMBER, RECEIPT, actors.mallory)
    with reverts("NotPending"):
        paper.approve_client(NUMBER, "no such receipt", actors.operator)
    with reverts("PhoneNumberMismatch"):
        paper.approve_client("+14155550123", RECEIPT, actors.operator)
    paper.approve_client(NUMBER, RECEIPT, actors.operator)
    with reverts("ReceiptAlreadyUsed"):  # still taken once approved
        paper.add_client(NUMBER, MALLORY_KEY.public_key.to_bytes(), RECEIPT, actors.mallory)
    abi_errors = {e["name"] for e in load_artifact("KeyStorePaper").abi if e["type"] == "error"}
    assert abi_errors == {
        "NotCreator",
        "ReceiptAlreadyUsed",
        "NotPending",
        "PhoneNumberMismatch",
        "UnknownClient",
    }


def test_flaws_are_kept(paper: PaperKeyStoreClient, chain: Chain, actors: Actors) -> None:
    """The receipt (SIP password = hash(receipt)) is readable by anyone, and nothing checks
    that the registrant holds the private key of what it registers."""
    paper.add_client(NUMBER, ALICE_KEY.public_key.to_bytes(), RECEIPT, actors.alice)
    assert next(e for e in paper.events() if isinstance(e, ev.ClientAdded)).receipt == RECEIPT
    # Mallory, without Alice's private key, registers Alice's public key for her own number.
    paper.add_client(
        "+14155550123", ALICE_KEY.public_key.to_bytes(), "another receipt", actors.mallory
    )
    paper.approve_client("+14155550123", "another receipt", actors.operator)
    assert paper.get_client("+14155550123") == ALICE_KEY.public_key.to_bytes()
