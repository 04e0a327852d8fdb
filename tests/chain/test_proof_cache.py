"""The light client's cache of verified facts (``VerifiedCache``) cannot be poisoned, on both
chains: it only holds what passed verification, under the key that authenticated it, and a
bad proof after a good one is rejected exactly as without the cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import rlp
from eth_hash.auto import keccak

from ethvoip.impl.chain import Chain, KeyStoreClient, Status, identifier
from ethvoip.impl.chain.proofs import (
    AccountProof,
    LookupProof,
    StorageProof,
    TrustedHeader,
    VerifiedCache,
    verify_lookup,
)
from ethvoip.spec.errors import Check, ProofError
from tests.refusals import refused

from .conftest import ALICE_ID, ALICE_KEY, BOB_KEY, SALT, Actors
from .helpers import register

NOBODY_ID = identifier("+4930123456", SALT)


@pytest.fixture
def approved(ks: KeyStoreClient, chain: Chain, actors: Actors) -> bytes:
    """Alice registered and approved; returns the hash of the block to trust."""
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    return bytes(chain.latest_block()["hash"])


@pytest.fixture
def warm(ks: KeyStoreClient, approved: bytes) -> tuple[VerifiedCache, TrustedHeader, LookupProof]:
    """A cache that has verified one good look-up of Alice at the checkpoint."""
    cache = VerifiedCache()
    proof = ks.lookup_proof(ALICE_ID, approved)
    header = cache.verify_header(approved, proof.header_rlp)
    record = cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, proof.account)
    assert record.public_key == ALICE_KEY.public_key.to_bytes()
    return cache, header, proof


def _with_storage(account: AccountProof, i: int, sp: StorageProof) -> AccountProof:
    storage = list(account.storage)
    storage[i] = sp
    return dataclasses.replace(account, storage=tuple(storage))


def test_cache_agrees_with_plain_verification(
    ks: KeyStoreClient, approved: bytes, warm: tuple[VerifiedCache, TrustedHeader, LookupProof]
) -> None:
    cache, header, _ = warm
    for ident in (ALICE_ID, NOBODY_ID):
        proof = ks.lookup_proof(ident, approved)
        assert cache.verify_lookup(header, ks.address, ident, ks.layout, proof.account) == (
            verify_lookup(approved, ks.address, ident, ks.layout, proof)
        )


def test_bad_header_is_not_remembered(ks: KeyStoreClient, approved: bytes) -> None:
    cache = VerifiedCache()
    header_rlp = ks.lookup_proof(ALICE_ID, approved).header_rlp
    fields = rlp.decode(header_rlp)
    fields[3] = keccak(b"forged state")  # a lying node's state root
    with refused(Check.HEADER_HASH, ProofError):
        cache.verify_header(approved, rlp.encode(fields))
    assert cache.header(approved) is None
    # A genuine header offered under another hash is refused, and is stored under neither.
    other = keccak(b"another checkpoint")
    with refused(Check.HEADER_HASH, ProofError):
        cache.verify_header(other, header_rlp)
    assert cache.header(other) is None and cache.header(approved) is None
    assert cache.verify_header(approved, header_rlp).block_hash == approved
    assert cache.header(approved) is not None and cache.header(other) is None


def test_tampered_storage_after_a_good_lookup(
    ks: KeyStoreClient, warm: tuple[VerifiedCache, TrustedHeader, LookupProof]
) -> None:
    cache, header, proof = warm
    sp = proof.account.storage[0]
    forged_value = _with_storage(proof.account, 0, dataclasses.replace(sp, value=sp.value ^ 1))
    with refused(Check.PROOF_VALUE, ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, forged_value)
    last = bytearray(sp.nodes[-1])
    last[-1] ^= 1
    forged_node = _with_storage(
        proof.account, 0, dataclasses.replace(sp, nodes=(*sp.nodes[:-1], bytes(last)))
    )
    with pytest.raises(ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, forged_node)


def test_other_slots_after_a_good_lookup(
    ks: KeyStoreClient, approved: bytes, warm: tuple[VerifiedCache, TrustedHeader, LookupProof]
) -> None:
    cache, header, _ = warm
    nobody = ks.lookup_proof(NOBODY_ID, approved).account
    with refused(Check.PROOF_SUBJECT, ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, nobody)
    relabelled = tuple(
        StorageProof(slot, sp.value, sp.nodes)
        for slot, sp in zip(ks.layout.slots(ALICE_ID), nobody.storage, strict=True)
    )
    with pytest.raises(ProofError):
        cache.verify_lookup(
            header,
            ks.address,
            ALICE_ID,
            ks.layout,
            dataclasses.replace(nobody, storage=relabelled),
        )


def test_account_lies_after_a_good_lookup(
    ks: KeyStoreClient,
    chain: Chain,
    approved: bytes,
    warm: tuple[VerifiedCache, TrustedHeader, LookupProof],
) -> None:
    cache, header, proof = warm
    account = proof.account
    # The same (cached) branch with a claimed storage root that is not the proven one.
    lie = dataclasses.replace(account, storage_hash=keccak(b"forged storage"))
    with refused(Check.PROOF_VALUE, ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, lie)
    # A tampered account branch is not the cached one: walked again, and rejected.
    last = bytearray(account.nodes[-1])
    last[-1] ^= 1
    tampered = dataclasses.replace(account, nodes=(*account.nodes[:-1], bytes(last)))
    with pytest.raises(ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, tampered)
    # Another account's proof, as itself or relabelled as the contract's.
    other = chain.get_proof(
        bytes.fromhex(chain.accounts[1][2:]), ks.layout.slots(ALICE_ID), approved
    )
    with refused(Check.PROOF_SUBJECT, ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, other)
    with pytest.raises(ProofError):
        cache.verify_lookup(
            header,
            ks.address,
            ALICE_ID,
            ks.layout,
            dataclasses.replace(other, address=ks.address),
        )
    # The good proof still verifies afterwards: the rejections left the cache as it was.
    assert cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, account).status == (
        Status.APPROVED
    )


def test_cached_branch_labelled_for_another_address_is_refused(
    ks: KeyStoreClient,
    chain: Chain,
    approved: bytes,
    warm: tuple[VerifiedCache, TrustedHeader, LookupProof],
) -> None:
    # The contract's own (cached) branch, but the proof says it is another account's: the
    # cache must refuse it as plain verification does, not answer from the cached entry.
    cache, header, proof = warm
    other = bytes.fromhex(chain.accounts[1][2:])
    relabelled = dataclasses.replace(proof.account, address=other)
    with pytest.raises(ProofError, match="another address"):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, relabelled)
    with pytest.raises(ProofError, match="another address"):
        verify_lookup(
            approved, ks.address, ALICE_ID, ks.layout, LookupProof(proof.header_rlp, relabelled)
        )


def test_proof_from_another_block_after_a_good_lookup(
    ks: KeyStoreClient,
    chain: Chain,
    actors: Actors,
    warm: tuple[VerifiedCache, TrustedHeader, LookupProof],
) -> None:
    """A later state (Bob registered since) does not verify under the cached earlier header,
    even though the cache holds the contract's account at the earlier state."""
    cache, header, _ = warm
    chain.increase_time(1)
    register(ks, chain, NOBODY_ID, BOB_KEY, actors.bob)
    later = ks.lookup_proof(ALICE_ID, bytes(chain.latest_block()["hash"])).account
    with pytest.raises(ProofError):
        cache.verify_lookup(header, ks.address, ALICE_ID, ks.layout, later)


def test_client_rejects_a_lie_after_a_good_lookup(
    ks: KeyStoreClient, chain: Chain, approved: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through ``verified_lookup``: the header is fetched once per checkpoint, and a node that
    answers well once then lies about the storage is caught."""
    calls: list[str] = []
    real_both, real_proof = chain.header_and_proof, chain.get_proof

    def counting(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls.append(name)
            return fn(*args)

        return wrapper

    monkeypatch.setattr(chain, "header_and_proof", counting("header+proof", real_both))
    monkeypatch.setattr(chain, "get_proof", counting("proof", real_proof))
    assert ks.verified_lookup(ALICE_ID, approved).status == Status.APPROVED
    assert ks.verified_lookup(NOBODY_ID, approved).status == Status.NONE
    # (The embedded chain's header_and_proof calls get_proof itself, hence no exact list.)
    assert calls.count("header+proof") == 1 and calls[-1] == "proof"

    def lying(address: bytes, slots: Any, block_hash: bytes) -> AccountProof:
        account = real_proof(address, slots, block_hash)
        sp = account.storage[0]
        return _with_storage(account, 0, dataclasses.replace(sp, value=sp.value ^ 1))

    monkeypatch.setattr(chain, "get_proof", lying)
    with refused(Check.PROOF_VALUE, ProofError):
        ks.verified_lookup(ALICE_ID, approved)
    # Another checkpoint is not covered by the cached header: its header is fetched anew.
    monkeypatch.setattr(chain, "get_proof", counting("proof", real_proof))
    chain.increase_time(1)
    assert ks.verified_lookup(ALICE_ID, bytes(chain.latest_block()["hash"])).status == (
        Status.APPROVED
    )
    assert calls.count("header+proof") == 2


def test_cache_is_bounded(ks: KeyStoreClient, chain: Chain, approved: bytes) -> None:
    cache = VerifiedCache(capacity=2)
    hashes = [approved]
    for _ in range(2):
        chain.increase_time(1)
        hashes.append(bytes(chain.latest_block()["hash"]))
    for h in hashes:
        cache.verify_header(h, chain.header_rlp(h))
    assert cache.header(hashes[0]) is None  # least recently used went out
    assert all(cache.header(h) is not None for h in hashes[1:])
