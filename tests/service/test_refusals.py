"""Bad input over real HTTP: a clear 4xx with a machine-readable code, nothing written, no
Ether sent (the database counters, the treasury's nonce and the wallet's balance are checked
after every refusal)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ethvoip.impl.chain import EmbeddedChain, KeyStoreClient, identifier
from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey
from ethvoip.impl.service.envelope import MAX_BODY
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.receipts import PurchaseRecord, PurchaseState, SignedReceipt
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.errors import ServiceError

from .conftest import MIN_AGE, Running
from .helpers import Subscriber, error_code, opened, post, seal, subscriber


class Unchanged:
    """Snapshot of everything a refused request must leave alone."""

    def __init__(self, running: Running, chain: EmbeddedChain, *watch: Subscriber) -> None:
        self.running, self.chain, self.watch = running, chain, watch
        self.before = self.state()

    def state(self) -> tuple[object, ...]:
        db = self.running.built.db
        counts = tuple(db.count(t) for t in ("receipts", "fundings", "approvals", "request_nonces"))
        ledger = self.running.built.service.ledger
        balances = tuple(ledger.balance(s.wallet_bytes) for s in self.watch)
        return counts, ledger.treasury_nonce(), balances, self.running.built.sip.usernames()

    def check(self) -> None:
        assert self.state() == self.before


@pytest.fixture
def service_key(running: Running) -> IdentityPublicKey:
    return running.built.service.identity.public_key


@pytest.fixture
def alice(store: TestStore) -> Subscriber:
    return subscriber(store.purchase())


@pytest.fixture
def refused(
    running: Running, chain: EmbeddedChain, alice: Subscriber
) -> Iterator[Callable[[str, bytes, str], None]]:
    """refused(path, body, code): post, expect ``code`` with its status, nothing changed."""
    from ethvoip.impl.service.codes import Code

    watch = Unchanged(running, chain, alice)

    def check(path: str, body: bytes, code: str) -> None:
        status, reply = post(running.url, path, body)
        expected = next(c for c in Code if c.wire == code)
        assert (status, error_code(reply)) == (expected.status, code), reply
        assert 400 <= status < 500
        watch.check()

    yield check


def fund(service_key: IdentityPublicKey, sub: Subscriber, **kw: object) -> bytes:
    return seal(service_key, sub.key, "fund", sub.fund_body(), **kw)[0]  # type: ignore[arg-type]


def test_forged_receipt(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    other_store = TestStore(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    alice.receipt = other_store.purchase()
    refused("/v1/fund", fund(service_key, alice), "bad_receipt_signature")


def test_tampered_receipt(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    data = alice.receipt.purchase_data.replace(b'"purchaseState":0', b'"purchaseState":1')
    alice.receipt = SignedReceipt(data.replace(b"GPA.", b"GPB."), alice.receipt.signature)
    refused("/v1/fund", fund(service_key, alice), "bad_receipt_signature")


def test_non_canonical_receipt(
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
    store: TestStore,
) -> None:
    record = json.loads(alice.receipt.purchase_data)
    data = json.dumps(record, indent=1).encode()  # same record, other bytes: a second receipt
    alice.receipt = SignedReceipt(data, store.sign(data))
    refused("/v1/fund", fund(service_key, alice), "malformed_receipt")


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b'{"orderId":"x"}',
        b'{"orderId":"x","orderId":"y","productId":"p","purchaseState":0,"purchaseTime":1,'
        b'"purchaseToken":"t"}',
        b'{"extra":1,"orderId":"x","productId":"p","purchaseState":0,"purchaseTime":1,'
        b'"purchaseToken":"t"}',
        b'{"orderId":"x","productId":"p","purchaseState":7,"purchaseTime":1,"purchaseToken":"t"}',
        b'{"orderId":"x","productId":"p","purchaseState":0,"purchaseTime":1.5,"purchaseToken":"t"}',
    ],
)
def test_malformed_but_signed_receipt(
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
    store: TestStore,
    data: bytes,
) -> None:
    alice.receipt = SignedReceipt(data, store.sign(data))
    refused("/v1/fund", fund(service_key, alice), "malformed_receipt")


def test_foreign_product(
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
    store: TestStore,
) -> None:
    alice.receipt = store.purchase("org.ethvoip.stickers")
    refused("/v1/fund", fund(service_key, alice), "foreign_product")


@pytest.mark.parametrize("state", [PurchaseState.CANCELLED, PurchaseState.PENDING])
def test_purchase_not_completed(
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
    store: TestStore,
    state: PurchaseState,
) -> None:
    alice.receipt = store.purchase(state=state)
    refused("/v1/fund", fund(service_key, alice), "purchase_not_completed")


def test_reused_receipt_for_another_wallet(
    running: Running, service_key: IdentityPublicKey, alice: Subscriber, chain: EmbeddedChain
) -> None:
    status, reply = post(running.url, "/v1/fund", fund(service_key, alice))
    assert status == 200, reply
    thief = subscriber(alice.receipt)
    for changed in (thief, Subscriber(alice.wallet, thief.key, alice.phone, alice.receipt)):
        watch = Unchanged(running, chain, alice, thief)
        status, reply = post(running.url, "/v1/fund", fund(service_key, changed))
        assert (status, error_code(reply)) == (409, "receipt_used")
        watch.check()


def test_number_taken(
    running: Running, service_key: IdentityPublicKey, alice: Subscriber, store: TestStore
) -> None:
    assert post(running.url, "/v1/fund", fund(service_key, alice))[0] == 200
    bob = subscriber(store.purchase(), alice.phone)  # alice's number, own receipt
    status, reply = post(running.url, "/v1/fund", fund(service_key, bob))
    assert (status, error_code(reply)) == (409, "number_taken")


def test_retry_with_fresh_nonce_is_the_same_funding(
    running: Running, service_key: IdentityPublicKey, alice: Subscriber, chain: EmbeddedChain
) -> None:
    body, nonce = seal(service_key, alice.key, "fund", alice.fund_body())
    status, reply = post(running.url, "/v1/fund", body)
    first = opened(alice.key, service_key, nonce, reply)
    watch = Unchanged(running, chain, alice)
    body2, nonce2 = seal(service_key, alice.key, "fund", alice.fund_body())
    status, reply = post(running.url, "/v1/fund", body2)
    assert status == 200
    assert opened(alice.key, service_key, nonce2, reply) == first
    counts, *rest = watch.state()
    assert rest == list(watch.before[1:])  # no Ether, no treasury nonce, no SIP row
    assert counts[:3] == watch.before[0][:3]  # type: ignore[index]  # no receipt, no funding


def test_replayed_request(
    running: Running,
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
) -> None:
    body = fund(service_key, alice)
    assert post(running.url, "/v1/fund", body)[0] == 200
    # A fresh snapshot: the first request did write.
    status, reply = post(running.url, "/v1/fund", body)
    assert (status, error_code(reply)) == (409, "replayed_request")


def test_stale_and_future_requests(
    refused: Callable[..., None],
    service_key: IdentityPublicKey,
    alice: Subscriber,
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The service's clock is held still: with the wall clock, a second boundary crossed
    # between sealing and checking made "now + 301" only 300 s ahead, inside the window.
    now = 1_800_000_000
    monkeypatch.setattr(running.built.service, "clock", lambda: float(now))
    refused("/v1/fund", fund(service_key, alice, now=now - 301), "stale_request")
    refused("/v1/fund", fund(service_key, alice, now=now + 301), "stale_request")


def test_envelope_for_another_service(refused: Callable[..., None], alice: Subscriber) -> None:
    other = IdentityKey.generate().public_key
    refused("/v1/fund", fund(other, alice), "bad_envelope")


def test_envelope_for_another_route(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    refused("/v1/approve", fund(service_key, alice), "bad_envelope")


def test_wrong_signature(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    from ethvoip.impl.crypto import encrypt_to
    from ethvoip.impl.service.envelope import AAD_PREFIX
    from ethvoip.impl.service.strictjson import b64, canonical

    body = json.loads(fund(service_key, alice))
    # Re-seal a request whose signature was made by another key.
    request = {
        "kind": "fund",
        "client_key": alice.key.public_key.to_bytes().hex(),
        "service_key": service_key.to_bytes().hex(),
        "sent_at": __import__("time").time().__int__(),
        "nonce": "00" * 16,
        "body": alice.fund_body(),
    }
    forged = IdentityKey.generate().sign(b"ethvoip.service.request.v1", canonical(request))
    plaintext = canonical({"request": request, "signature": forged.hex()})
    body = {"sealed": b64(encrypt_to(service_key, plaintext, AAD_PREFIX + b"fund"))}
    refused("/v1/fund", canonical(body), "bad_signature")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "bad_json"),
        (b"[1]", "bad_json"),
        (b'{"sealed": "AAAA", "more": 1}', "unknown_field"),
        (b"{}", "missing_field"),
        (b'{"sealed": 5}', "bad_field"),
        (b'{"sealed": "not base64!"}', "bad_field"),
        (b'{"sealed": "AAAA"}', "bad_envelope"),
        (b"\xff\xfe", "bad_json"),
        (b'{"sealed": NaN}', "bad_json"),
    ],
)
def test_malformed_bodies(refused: Callable[..., None], body: bytes, code: str) -> None:
    refused("/v1/fund", body, code)


def test_unknown_field_inside_the_envelope(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    body = {**alice.fund_body(), "referrer": "mallory"}
    refused("/v1/fund", seal(service_key, alice.key, "fund", body)[0], "unknown_field")


def test_oversized_body(refused: Callable[..., None]) -> None:
    refused("/v1/fund", b'{"sealed": "' + b"A" * MAX_BODY + b'"}', "body_too_large")


def test_routes_and_methods(running: Running) -> None:
    status, reply = post(running.url, "/v1/nothing", b"")
    assert (status, error_code(reply)) == (404, "not_found")
    status, reply = post(running.url, "/v1/fund", b"", method="GET")
    assert (status, error_code(reply)) == (405, "method_not_allowed")


# ---------------------------------------------------------------- approval refusals


def _funded(running: Running, service_key: IdentityPublicKey, sub: Subscriber) -> None:
    status, reply = post(running.url, "/v1/fund", fund(service_key, sub))
    assert status == 200, reply


def _register(
    running: Running, chain: EmbeddedChain, sub: Subscriber, key: IdentityKey, phone: str
) -> None:
    svc = running.built.service
    ks = KeyStoreClient(chain, svc.ledger.keystore.address)
    install_signers(chain, sub.wallet)
    ident = identifier(phone, svc.salt)
    reg = ks.registration(ident, key, sub.wallet.address)
    ks.commit(reg.commitment, sub.wallet.address)
    chain.increase_time(MIN_AGE)
    ks.register(reg, sub.wallet.address)


def _approve(
    running: Running, service_key: IdentityPublicKey, key: IdentityKey, order: str
) -> tuple[int, object, bytes]:
    body, nonce = seal(service_key, key, "approve", {"order_id": order})
    status, reply = post(running.url, "/v1/approve", body)
    return status, reply, nonce


def test_approve_unknown_receipt(
    refused: Callable[..., None], service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    body = seal(service_key, alice.key, "approve", {"order_id": alice.order_id})[0]
    refused("/v1/approve", body, "unknown_receipt")


def test_approve_by_another_client(
    running: Running, chain: EmbeddedChain, service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    _funded(running, service_key, alice)
    watch = Unchanged(running, chain, alice)
    status, reply, _ = _approve(running, service_key, IdentityKey.generate(), alice.order_id)
    assert (status, error_code(reply)) == (403, "wrong_client")
    watch.check()


def test_approve_before_the_funding_is_mined(
    running: Running, service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    # Phase 1 only (the intent is recorded, not sent): the receipt's own key hears that it is
    # not funded yet; another key hears that the receipt is not its own, whatever the funding.
    svc = running.built.service
    plan = svc.accept_fund(fund(service_key, alice))
    for key, code in ((alice.key, "not_funded"), (IdentityKey.generate(), "wrong_client")):
        body = seal(service_key, key, "approve", {"order_id": alice.order_id})[0]
        with pytest.raises(ServiceError) as caught:
            svc.accept_approve(body)
        assert caught.value.code == code
    svc.finish_fund(plan, svc.settle_fund(plan))  # no gap in the treasury's nonces


def test_approve_with_nothing_pending(
    running: Running, chain: EmbeddedChain, service_key: IdentityPublicKey, alice: Subscriber
) -> None:
    _funded(running, service_key, alice)
    watch = Unchanged(running, chain, alice)
    status, reply, _ = _approve(running, service_key, alice.key, alice.order_id)
    assert (status, error_code(reply)) == (409, "not_pending")
    watch.check()


def test_front_running_key_is_not_approved(
    running: Running,
    chain: EmbeddedChain,
    service_key: IdentityPublicKey,
    alice: Subscriber,
    store: TestStore,
) -> None:
    """Mallory (funded by her own receipt) puts her key under Alice's number first: the
    service finds no registration of Alice's key to approve for Alice's receipt (Mallory's
    does not count); once Alice registers (Mallory's pending key blocks nothing), approval
    goes through and the chain serves Alice's key."""
    _funded(running, service_key, alice)
    mallory = subscriber(store.purchase())
    _funded(running, service_key, mallory)
    _register(running, chain, mallory, mallory.key, alice.phone)
    watch = Unchanged(running, chain, alice)
    status, reply, _ = _approve(running, service_key, alice.key, alice.order_id)
    assert (status, error_code(reply)) == (409, "not_pending")
    watch.check()
    # Alice's key, but sent from Mallory's wallet (she copied it from the mempool): the
    # proof of possession binds the sender, so Mallory cannot even register it.
    _register(running, chain, alice, alice.key, alice.phone)
    status, reply, nonce = _approve(running, service_key, alice.key, alice.order_id)
    assert status == 200, reply
    result = opened(alice.key, service_key, nonce, reply)
    ident = identifier(alice.phone, running.built.service.salt)
    ks = running.built.service.ledger.keystore
    assert ks.lookup(ident) == (alice.key.public_key.to_bytes(), result["version"])


def test_purchase_token_used_by_another_order(
    running: Running, service_key: IdentityPublicKey, alice: Subscriber, store: TestStore
) -> None:
    # A second order id carrying the first order's purchase token (one purchase, two orders):
    # the token is spent once, whatever order id it comes under.
    assert post(running.url, "/v1/fund", fund(service_key, alice))[0] == 200
    first = json.loads(alice.receipt.purchase_data)
    data = PurchaseRecord(
        order_id=first["orderId"] + "-2",
        product_id=first["productId"],
        purchase_time=first["purchaseTime"],
        purchase_state=PurchaseState(first["purchaseState"]),
        purchase_token=first["purchaseToken"],
    ).to_bytes()
    bob = subscriber(SignedReceipt(data, store.sign(data)))
    status, reply = post(running.url, "/v1/fund", fund(service_key, bob))
    assert (status, error_code(reply)) == (409, "receipt_used")
