"""Exactly-once funding and no lost approval: concurrent duplicates over HTTP, and a process
that dies between recording an intent and sending it (simulated by building a new service
over the same database, as a restart does)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp

from ethvoip.impl.chain import EmbeddedChain, Status, identifier
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.store import TestStore

from .conftest import MIN_AGE, Running, build
from .helpers import opened, seal, subscriber


async def _post_all(url: str, bodies: list[tuple[str, bytes]]) -> list[tuple[int, Any]]:
    async with aiohttp.ClientSession() as session:

        async def one(path: str, body: bytes) -> tuple[int, Any]:
            async with session.post(url + path, data=body) as resp:
                return resp.status, json.loads(await resp.read())

        return list(await asyncio.gather(*(one(p, b) for p, b in bodies)))


def test_concurrent_duplicates_fund_each_receipt_once(
    running: Running, chain: EmbeddedChain, store: TestStore
) -> None:
    svc = running.built.service
    key = svc.identity.public_key
    subs = [subscriber(store.purchase()) for _ in range(30)]
    bodies, nonces = [], []
    for sub in subs:
        body, nonce = seal(key, sub.key, "fund", sub.fund_body())
        bodies.append(("/v1/fund", body))
        nonces.append((sub, nonce))
    # 5 byte-for-byte replays and 5 retries with a fresh nonce (what a client does).
    replays = [bodies[i] for i in range(5)]
    retries = []
    for sub in subs[5:10]:
        body, nonce = seal(key, sub.key, "fund", sub.fund_body())
        retries.append(("/v1/fund", body))
        nonces.append((sub, nonce))
    treasury_before = svc.ledger.treasury_nonce()
    fundings_before = svc.db.count("fundings")
    results = asyncio.run(_post_all(running.url, bodies + replays + retries))
    assert len(results) == 40
    statuses = [s for s, _ in results]
    assert statuses[:30] == [200] * 30
    assert [r["error"]["code"] for _, r in results[30:35]] == ["replayed_request"] * 5
    assert statuses[35:] == [200] * 5
    # Every valid receipt funded exactly once: balances, the treasury's nonce, the table.
    for sub in subs:
        assert svc.ledger.balance(sub.wallet_bytes) == running.config.funding_wei
    assert svc.ledger.treasury_nonce() == treasury_before + 30
    assert svc.db.count("fundings") == fundings_before + 30
    # A retry's reply names the same transfer as the original's.
    replies = [
        opened(s.key, key, n, r)
        for (s, n), (_, r) in zip(nonces, results[:30] + results[35:], strict=True)
    ]
    by_order: dict[str, set[str]] = {}
    for reply in replies:
        by_order.setdefault(reply["order_id"], set()).add(reply["tx_hash"])
    assert len(by_order) == 30 and all(len(v) == 1 for v in by_order.values())


def test_concurrent_approvals_none_lost(
    running: Running, chain: EmbeddedChain, store: TestStore
) -> None:
    svc = running.built.service
    key = svc.identity.public_key
    ks = svc.ledger.keystore
    subs = [subscriber(store.purchase()) for _ in range(6)]
    funded = asyncio.run(
        _post_all(
            running.url, [("/v1/fund", seal(key, s.key, "fund", s.fund_body())[0]) for s in subs]
        )
    )
    assert [s for s, _ in funded] == [200] * 6
    regs = []
    for sub in subs:  # commit all, wait once, reveal all
        install_signers(chain, sub.wallet)
        reg = ks.registration(identifier(sub.phone, svc.salt), sub.key, sub.wallet.address)
        ks.commit(reg.commitment, sub.wallet.address)
        regs.append(reg)
    chain.increase_time(MIN_AGE)
    for sub, reg in zip(subs, regs, strict=True):
        ks.register(reg, sub.wallet.address)
    requests, owners = [], []
    for sub in subs + subs:  # every approval requested twice, concurrently
        body, nonce = seal(key, sub.key, "approve", {"order_id": sub.order_id})
        requests.append(("/v1/approve", body))
        owners.append((sub, nonce))
    approvals_before = svc.db.count("approvals")
    results = asyncio.run(_post_all(running.url, requests))
    assert [s for s, _ in results] == [200] * 12, results
    passwords: dict[str, set[str]] = {}
    for (sub, nonce), (_, reply) in zip(owners, results, strict=True):
        result = opened(sub.key, key, nonce, reply)
        passwords.setdefault(sub.phone, set()).add(result["sip"]["password"])
    assert svc.db.count("approvals") == approvals_before + 6
    for sub in subs:
        ident = identifier(sub.phone, svc.salt)
        assert ks.record(ident).status is Status.APPROVED
        assert ks.lookup(ident)[0] == sub.key.public_key.to_bytes()
        # The SIP database holds one of the two passwords handed out (the later one).
        ha1 = svc.sip.ha1(sub.phone)
        realm = running.config.sip_realm
        assert ha1 in {
            hashlib.md5(f"{sub.phone}:{realm}:{p}".encode()).hexdigest()
            for p in passwords[sub.phone]
        }


def test_restart_after_intent_pays_once(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    """Die after committing the intent, before sending: the restart sends it, once."""
    config = ServiceConfig(store.public_key_pem)
    db, sip = tmp_path / "svc.sqlite", tmp_path / "sip.sqlite"
    first = build(config, chain, db, sip)
    sub = subscriber(store.purchase())
    key = first.service.identity.public_key
    plan = first.service.accept_fund(seal(key, sub.key, "fund", sub.fund_body())[0])
    assert first.service.ledger.mined_block(plan.funding.tx_hash) is None  # never sent
    first.close()  # the crash: nothing after the commit ran
    assert first.service.ledger.balance(sub.wallet_bytes) == 0
    second = build(config, chain, db, sip)
    assert second.reconciled == 1
    assert second.service.ledger.balance(sub.wallet_bytes) == config.funding_wei
    assert second.db.funding(sub.order_id).state == "confirmed"  # type: ignore[union-attr]
    second.close()
    third = build(config, chain, db, sip)
    assert third.reconciled == 0
    assert third.service.ledger.balance(sub.wallet_bytes) == config.funding_wei
    # The client's retry after the restart gets the same transfer, no second one.
    body, nonce = seal(key, sub.key, "fund", sub.fund_body())
    plan = third.service.accept_fund(body)
    block = third.service.settle_fund(plan)
    reply = json.loads(third.service.finish_fund(plan, block))
    assert opened(sub.key, key, nonce, reply)["tx_hash"] == "0x" + plan.funding.tx_hash.hex()
    assert third.service.ledger.balance(sub.wallet_bytes) == config.funding_wei
    third.close()


def test_restart_after_send_before_record_pays_once(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    """Die after the node accepted the transfer, before it was recorded as mined."""
    config = ServiceConfig(store.public_key_pem)
    db, sip = tmp_path / "svc.sqlite", tmp_path / "sip.sqlite"
    first = build(config, chain, db, sip)
    sub = subscriber(store.purchase())
    plan = first.service.accept_fund(
        seal(first.service.identity.public_key, sub.key, "fund", sub.fund_body())[0]
    )
    f = plan.funding
    first.service.ledger.broadcast(f.raw_tx, f.tx_hash, f.nonce)
    first.close()
    nonce_after_send = first.service.ledger.treasury_nonce()
    second = build(config, chain, db, sip)
    assert second.reconciled == 1  # found mined, recorded; not sent again
    assert second.service.ledger.treasury_nonce() == nonce_after_send
    assert second.service.ledger.balance(sub.wallet_bytes) == config.funding_wei
    second.close()
