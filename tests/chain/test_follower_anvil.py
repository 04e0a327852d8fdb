"""The service's chain follower against anvil (a real node): its cursor notices a reorg made
with ``evm_snapshot``/``evm_revert`` by the block hash, and the re-scan applies a revocation
mined on the new branch below the old cursor (which a number-only cursor would skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethvoip.impl.chain import KeyStoreClient, RpcChain
from ethvoip.impl.service.db import ApprovalRow, ReceiptRow, ServiceDB
from ethvoip.impl.service.follower import ChainFollower
from ethvoip.impl.service.sipdb import SipDatabase

from .conftest import ALICE_ID, ALICE_KEY, DELAY, MAX_AGE, MIN_AGE, TTL
from .helpers import register

pytestmark = pytest.mark.integration
PHONE = "+33612345678"


def test_follower_rescans_an_anvil_reorg(anvil_chain: RpcChain, tmp_path: Path) -> None:
    chain = anvil_chain
    operator, alice, carrier = chain.accounts[0], chain.accounts[1], chain.accounts[2]
    ks = KeyStoreClient.deploy(
        chain,
        operator,
        min_commitment_age=MIN_AGE,
        max_commitment_age=MAX_AGE,
        recovery_delay=DELAY,
        pending_ttl=TTL,
    )
    register(ks, chain, ALICE_ID, ALICE_KEY, alice, approve_by=operator)
    db, sip = ServiceDB(tmp_path / "s.sqlite"), SipDatabase(tmp_path / "sip.sqlite", realm="r")
    try:
        with db.transaction():
            key = ALICE_KEY.public_key.to_bytes()
            db.insert_receipt(
                ReceiptRow("GPA.1", "t", "p", bytes.fromhex(alice[2:]), key, PHONE),
                purchase_time=0,
                now=0,
            )
            db.upsert_approval(ApprovalRow("GPA.1", ALICE_ID, 1, None, PHONE), now=0)
        sip.provision(PHONE, "secret")
        follower = ChainFollower(db, sip, ks, clock=lambda: 0.0)
        assert follower.poll().removed == ()
        snapshot = chain._rpc("evm_snapshot", [])
        for _ in range(3):
            chain._rpc("evm_mine", [])
        follower.poll()
        cursor = db.cursor()
        assert cursor is not None
        assert chain._rpc("evm_revert", [snapshot]) is True
        chain.increase_time(7)  # another timestamp: other block hashes
        version = ks.record(ALICE_ID).version
        ks.revoke(ALICE_ID, ks.revocation_signature(ALICE_ID, ALICE_KEY, version), carrier)
        while int(chain.w3.eth.block_number) < cursor[0]:
            chain._rpc("evm_mine", [])
        result = follower.poll()
        assert result.reorg and result.from_block < cursor[0]
        assert (result.removed, result.burned) == ((PHONE,), (PHONE,))
        assert sip.ha1(PHONE) is None and db.burned("GPA.1")
    finally:
        db.close()
        sip.close()
