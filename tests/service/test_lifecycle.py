"""The service follows the key life cycle on chain (issue 13, claims 2 and 5): revocation
removes the number's SIP row and burns its receipts (re-onboarding takes a fresh receipt, the
old one is refused with ``receipt_burned``); suspension and rotation remove the row (the
credential was bound to the key version); the follower's cursor survives a restart and a
reorg of the embedded chain is detected by the block hash and re-scanned."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethvoip.impl.chain import EmbeddedChain, KeyStoreClient, Status
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber.client import Onboarded, OnboardingClient
from ethvoip.impl.subscriber.keyfile import load_keystore

from .conftest import Running, start
from .helpers import error_code, fresh_number, opened, post, seal

NEVER = 10.0**6  # follow_interval of the services whose follower the tests drive by hand


@pytest.fixture
def svc(chain: EmbeddedChain, store: TestStore, tmp_path: Path) -> Iterator[Running]:
    r = start(chain, ServiceConfig(store.public_key_pem, follow_interval=NEVER), tmp_path)
    yield r
    r.server.stop()
    r.built.close()


def onboard(
    r: Running, chain: EmbeddedChain, store: TestStore, tmp: Path, phone: str
) -> tuple[Onboarded, IdentityKey, KeyStoreClient]:
    client = OnboardingClient(r.url, chain, store)
    done = client.onboard(phone, tmp, "pass", scrypt_n=2**4)
    identity = load_keystore(tmp, "pass").identity
    return done, identity, KeyStoreClient(chain, client.info["keystore"])


def revoke(ks: KeyStoreClient, chain: EmbeddedChain, ident: bytes, key: IdentityKey) -> None:
    version = ks.record(ident).version
    ks.revoke(ident, ks.revocation_signature(ident, key, version), chain.accounts[5])


def test_revocation_removes_the_row_burns_the_receipt_and_frees_the_number(
    svc: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    phone = fresh_number()
    done, key, ks = onboard(svc, chain, store, tmp_path / "a", phone)
    service = svc.built.service
    assert done.identifier is not None
    assert service.follow().removed == ()  # nothing changed: the row stays
    assert svc.built.sip.ha1(phone) is not None
    revoke(ks, chain, done.identifier, key)
    result = service.follow()
    assert (result.removed, result.burned) == ((phone,), (phone,))
    assert svc.built.sip.ha1(phone) is None
    # The old receipt (the thief's copy, say) gets nothing: a typed refusal.
    body, _ = seal(service.identity.public_key, key, "approve", {"order_id": done.order_id})
    status, reply = post(svc.url, "/v1/approve", body)
    assert (status, error_code(reply)) == (410, "receipt_burned")
    # The subscriber re-onboards the same number with a fresh receipt and a new key.
    again, new_key, _ = onboard(svc, chain, store, tmp_path / "b", phone)
    assert new_key.public_key.to_bytes() != key.public_key.to_bytes()
    assert ks.lookup(done.identifier) == (again.public_key, 3)
    assert svc.built.sip.ha1(phone) is not None
    assert service.follow().removed == ()  # the new row is bound to the new version


def test_approve_is_single_use_and_idempotent(
    svc: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    phone = fresh_number()
    done, key, ks = onboard(svc, chain, store, tmp_path / "a", phone)
    assert done.identifier is not None
    service = svc.built.service
    body, _ = seal(service.identity.public_key, key, "approve", {"order_id": done.order_id})
    assert post(svc.url, "/v1/approve", body)[0] == 200  # a retry: approved already, no tx
    assert ks.lookup(done.identifier) == (key.public_key.to_bytes(), 1)
    status, reply = post(svc.url, "/v1/approve", body)  # the same bytes again
    assert (status, error_code(reply)) == (409, "replayed_request")
    assert svc.built.db.count("approvals") >= 1 and svc.built.db.approval(done.order_id)


def test_suspension_and_rotation_remove_the_row_but_burn_nothing(
    svc: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    service = svc.built.service
    a, b = fresh_number(), fresh_number()
    done_a, key_a, ks = onboard(svc, chain, store, tmp_path / "a", a)
    done_b, _, _ = onboard(svc, chain, store, tmp_path / "b", b)
    assert done_a.identifier is not None and done_b.identifier is not None
    new = IdentityKey.generate()
    pub = new.public_key.to_bytes()
    ks.rotate(
        done_a.identifier,
        pub,
        ks.rotation_signature(done_a.identifier, key_a, pub, 1),
        ks.rotate_to_signature(done_a.identifier, new, 1),
        chain.accounts[5],
    )
    # The old key's approval request is no longer answered: another key is approved now.
    body, _ = seal(service.identity.public_key, key_a, "approve", {"order_id": done_a.order_id})
    status, reply = post(svc.url, "/v1/approve", body)
    assert (status, error_code(reply)) == (409, "number_in_use")
    ks.operator_revoke(done_b.identifier, svc.built.operator.address)
    assert ks.record(done_b.identifier).status is Status.SUSPENDED
    result = service.follow()
    assert sorted(result.removed) == sorted([a, b]) and result.burned == ()
    assert svc.built.sip.ha1(a) is None and svc.built.sip.ha1(b) is None
    assert not svc.built.db.burned(done_a.order_id)
    assert not svc.built.db.burned(done_b.order_id)
    # The rotated-to key fetches a credential of its own (bound to version 2) with a's
    # receipt; the suspended number's key gets nothing.
    body, nonce = seal(service.identity.public_key, new, "approve", {"order_id": done_a.order_id})
    status, reply = post(svc.url, "/v1/approve", body)
    assert status == 200, reply
    result = opened(new, service.identity.public_key, nonce, reply)
    assert result["version"] == 2 and svc.built.sip.ha1(a) is not None
    assert service.follow().removed == ()  # bound to the current version: kept
    key_b = load_keystore(tmp_path / "b", "pass").identity
    body, _ = seal(service.identity.public_key, key_b, "approve", {"order_id": done_b.order_id})
    status, reply = post(svc.url, "/v1/approve", body)
    assert (status, error_code(reply)) == (409, "number_in_use")
    assert svc.built.sip.ha1(b) is None


def test_cursor_survives_a_restart_and_a_reorg_is_rescanned(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    config = ServiceConfig(store.public_key_pem, follow_interval=NEVER)
    r = start(chain, config, tmp_path)
    phone = fresh_number()
    done, key, ks = onboard(r, chain, store, tmp_path / "a", phone)
    assert done.identifier is not None
    snapshot = chain.tester.take_snapshot()
    chain.tester.mine_blocks(3)
    r.built.service.follow()
    cursor = r.built.db.cursor()
    assert cursor is not None and cursor[0] == chain.w3.eth.block_number
    r.server.stop()
    r.built.close()
    # A restart over the same database keeps the cursor.
    r = start(chain, config, tmp_path)
    try:
        assert r.built.db.cursor() == cursor
        # Reorg: the three blocks are replaced by another branch in which the key is revoked,
        # at a height the cursor has already passed.
        chain.tester.revert_to_snapshot(snapshot)
        chain.increase_time(7)  # another timestamp: other block hashes
        revoke(ks, chain, done.identifier, key)
        chain.tester.mine_blocks(3)
        assert chain.w3.eth.block_number >= cursor[0]
        result = r.built.service.follow()
        assert result.reorg and result.from_block < cursor[0]
        assert result.removed == (phone,)
        assert r.built.sip.ha1(phone) is None
    finally:
        r.server.stop()
        r.built.close()


def test_the_running_service_follows_by_itself(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    r = start(chain, ServiceConfig(store.public_key_pem, follow_interval=0.05), tmp_path)
    try:
        phone = fresh_number()
        done, key, ks = onboard(r, chain, store, tmp_path / "a", phone)
        assert done.identifier is not None
        revoke(ks, chain, done.identifier, key)
        deadline = time.monotonic() + 60  # generous: a loaded 2-core machine
        while r.built.sip.ha1(phone) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.built.sip.ha1(phone) is None
    finally:
        r.server.stop()
        r.built.close()
