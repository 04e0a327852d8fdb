"""The whole onboarding through the library, hardened and paper, on the embedded chain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from web3.types import Wei

from ethvoip.impl.chain import EmbeddedChain, KeyStoreClient, PaperKeyStoreClient, Status
from ethvoip.impl.chain import events as ev
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber.client import OnboardingClient
from ethvoip.impl.subscriber.keyfile import load_keystore
from tests.refusals import reverts

from .conftest import Running
from .helpers import fresh_number


def md5_ha1(user: str, realm: str, password: str) -> str:
    # RFC 2617 3.2.2.2: H(A1) = MD5(username ":" realm ":" password), computed here directly.
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def test_hardened_onboarding(
    running: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    alice = fresh_number()
    steps: list[str] = []
    client = OnboardingClient(running.url, chain, store, progress=lambda s, d: steps.append(s))
    done = client.onboard(alice, tmp_path / "alice", "pass", scrypt_n=2**4)
    assert steps == [
        "service",
        "keys",
        "purchase",
        "funding",
        "commit",
        "register",
        "approval",
        "sip",
        "trust",
    ]
    ks = KeyStoreClient(chain, client.info["keystore"])
    # The checkpoint pinned in trust.json is a block of the chain, at or above the approval.
    cp = done.trust.checkpoint
    assert cp.chain_id == chain.chain_id
    assert bytes(chain.w3.eth.get_block(cp.number)["hash"]) == cp.block_hash
    assert ks.record(done.identifier or b"", cp.number).status is Status.APPROVED
    assert done.identifier is not None
    assert ks.record(done.identifier).status is Status.APPROVED
    assert ks.lookup(done.identifier)[0] == done.public_key
    # The keystore opens with the passphrase and holds the registered key.
    secrets = load_keystore(tmp_path / "alice", "pass")
    assert secrets.identity.public_key.to_bytes() == done.public_key
    sip = json.loads((tmp_path / "alice" / "sip.json").read_text())
    assert sip == {**done.sip, "username": alice, "domain": "ethvoip.test"}
    assert running.built.sip.ha1(alice) == md5_ha1(alice, "ethvoip.test", sip["password"])
    # The hardened contract's events carry the identifier, key, registrant and key hash:
    # no receipt, nothing a password could be derived from.
    kinds = {type(e) for e in ks.events()}
    assert kinds == {ev.Committed, ev.Registered, ev.Approved}
    # The funding transfer paid the configured amount to the new wallet, from the treasury.
    tx = chain.w3.eth.get_transaction(bytes.fromhex(done.funding_tx[2:]))  # type: ignore[arg-type]
    assert (tx["to"], tx["value"]) == (done.wallet, running.config.funding_wei)
    assert tx["from"] == running.built.treasury.address


def test_paper_onboarding_leaks_the_password(
    paper_running: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    alice = fresh_number()
    client = OnboardingClient(paper_running.url, chain, store)
    done = client.onboard(alice, tmp_path / "alice", "pass", scrypt_n=2**4)
    paper = PaperKeyStoreClient(chain, client.info["paper_keystore"])
    assert paper.get_client(alice) == done.public_key
    # Anyone can read the receipt token from the chain (approvedList, receiptOf) and derive
    # the SIP password as the paper does: password = hash(receipt).
    token = paper.receipt_of(alice)
    derived = hashlib.sha256(token.encode()).hexdigest()
    assert done.sip["password"] == derived
    assert paper_running.built.sip.ha1(alice) == md5_ha1(alice, "ethvoip.test", derived)


def test_paper_service_approves_a_front_runners_key(
    paper_running: Running, chain: EmbeddedChain, store: TestStore
) -> None:
    """Paper flaw (III.A.3 b): approval moves whatever is pending under the receipt.  Mallory
    copies Alice's addClient from the mempool with her own key and gets in first; Alice's own
    call then reverts, and the service approves Mallory's key for Alice's number."""
    from ethvoip.impl.service.ledger import install_signers

    from .helpers import error_code, opened, post, seal, subscriber

    svc = paper_running.built.service
    alice, mallory = subscriber(store.purchase()), subscriber(store.purchase())
    key = svc.identity.public_key
    assert (
        post(paper_running.url, "/v1/fund", seal(key, alice.key, "fund", alice.fund_body())[0])[0]
        == 200
    )
    chain.w3.eth.send_transaction(
        {"from": chain.accounts[0], "to": mallory.wallet.address, "value": Wei(10**17)}
    )
    install_signers(chain, alice.wallet, mallory.wallet)
    paper = svc.ledger.paper_client()
    token = json.loads(alice.receipt.purchase_data)["purchaseToken"]
    mallory_pk = mallory.key.public_key.to_bytes()
    paper.add_client(alice.phone, mallory_pk, token, mallory.wallet.address)
    with reverts("ReceiptAlreadyUsed"):
        paper.add_client(alice.phone, alice.key.public_key.to_bytes(), token, alice.wallet.address)
    body, nonce = seal(key, alice.key, "approve", {"order_id": alice.order_id})
    status, reply = post(paper_running.url, "/v1/approve", body)
    assert status == 200, reply
    assert opened(alice.key, key, nonce, reply)["sip"]["username"] == alice.phone
    assert paper.get_client(alice.phone) == mallory_pk
    # Even the key now on chain may not use Alice's receipt: the paper variant has no
    # rotation, so only the key the receipt was bought for may approve it (else Mallory
    # would be sealed Alice's SIP password).
    body = seal(key, mallory.key, "approve", {"order_id": alice.order_id})[0]
    status, reply = post(paper_running.url, "/v1/approve", body)
    assert (status, error_code(reply)) == (403, "wrong_client")
