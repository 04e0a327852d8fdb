"""The hardened KeyStore contract through its client, on both chains: every function, every
custom error, the events of every state change."""

from __future__ import annotations

from typing import Any

import pytest

from ethvoip.impl.chain import Chain, KeyStoreClient, Registration, Status, key_hash
from ethvoip.impl.chain import events as ev
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.impl.chain.messages import commitment, possession_digest
from ethvoip.spec.errors import ContractRevert

from .conftest import (
    ALICE_ID,
    ALICE_KEY,
    BOB_ID,
    BOB_KEY,
    DELAY,
    MALLORY_KEY,
    MAX_AGE,
    MIN_AGE,
    SPARE_KEY,
    Actors,
)
from .helpers import high_s, register

# Every custom error of KeyStore.sol and the test that provokes it.
COVERED_ERRORS = {
    "BadConfiguration": "test_bad_configuration",
    "NotOperator": "test_only_operator",
    "UnexpiredCommitmentExists": "test_commitment_cannot_be_refreshed_before_expiry",
    "CommitmentNotFound": "test_register_without_commitment",
    "CommitmentTooNew": "test_commitment_age_window",
    "CommitmentTooOld": "test_commitment_age_window",
    "BadPublicKeyLength": "test_public_key_must_be_64_bytes",
    "BadSignature": "test_malformed_signatures",
    "WrongSigner": "test_proof_of_possession_by_another_key",
    "AlreadyApproved": "test_approved_record_cannot_be_overwritten",
    "NotPending": "test_approve_needs_pending",
    "NotApproved": "test_rotate_needs_approved",
    "NotActive": "test_revoke_and_reregister",
    "KeyMismatch": "test_pending_replaced_and_approval_names_key_and_version",
    "VersionMismatch": "test_pending_replaced_and_approval_names_key_and_version",
    "RecoveryAlreadyPending": "test_recovery_time_lock",
    "NoRecoveryPending": "test_recovery_time_lock",
    "RecoveryNotReady": "test_recovery_time_lock",
}


def test_every_custom_error_is_covered() -> None:
    abi_errors = {e["name"] for e in load_artifact("KeyStore").abi if e["type"] == "error"}
    assert abi_errors == set(COVERED_ERRORS)
    assert set(COVERED_ERRORS.values()) <= set(globals())


def reverts(reason: str) -> pytest.RaisesExc[ContractRevert]:
    return pytest.raises(ContractRevert, match=f"^{reason}$")


def test_bad_configuration(chain: Chain, actors: Actors) -> None:
    with reverts("BadConfiguration"):
        KeyStoreClient.deploy(chain, actors.operator, min_commitment_age=10, max_commitment_age=10)
    with reverts("BadConfiguration"):
        KeyStoreClient.deploy(chain, actors.operator, recovery_delay=0)


def test_register_approve_lookup(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice, secret=b"\x01" * 32)
    committed = ks.commit(reg.commitment, actors.alice)
    assert committed.events == (ev.Committed(reg.commitment),)
    assert ks.commitment_time(reg.commitment) == committed.timestamp
    chain.increase_time(MIN_AGE)
    registered = ks.register(reg, actors.alice)
    assert registered.events == (
        ev.Registered(ALICE_ID, 1, ALICE_KEY.public_key.to_bytes(), address_bytes(actors.alice)),
    )
    assert ks.commitment_time(reg.commitment) == 0  # consumed
    assert ks.record(ALICE_ID).status is Status.PENDING
    with reverts("NotApproved"):
        ks.lookup(ALICE_ID)  # pending keys are not served
    kh = key_hash(ALICE_KEY.public_key.to_bytes())
    approved = ks.approve(ALICE_ID, kh, 1, actors.operator)
    assert approved.events == (ev.Approved(ALICE_ID, 1, kh),)
    assert ks.lookup(ALICE_ID) == (ALICE_KEY.public_key.to_bytes(), 1)
    assert ks.events(committed.block_number) == [
        *committed.events,
        *registered.events,
        *approved.events,
    ]


def test_possession_digest_matches_solidity(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    # The contract's own view function is an independent implementation of the digest.
    on_chain = ks.call("possessionDigest", ALICE_ID, actors.mallory)
    assert bytes(on_chain) == possession_digest(
        chain.chain_id, ks.address, ALICE_ID, address_bytes(actors.mallory)
    )


def test_commitment_cannot_be_refreshed_before_expiry(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    ks.commit(reg.commitment, actors.alice)
    # Anyone re-committing the same value would otherwise reset the victim's clock.
    with reverts("UnexpiredCommitmentExists"):
        ks.commit(reg.commitment, actors.mallory)
    chain.increase_time(MAX_AGE + 1)
    assert ks.commit(reg.commitment, actors.mallory).events == (ev.Committed(reg.commitment),)


def test_register_without_commitment(ks: KeyStoreClient, actors: Actors) -> None:
    with reverts("CommitmentNotFound"):
        ks.register(ks.registration(ALICE_ID, ALICE_KEY, actors.alice), actors.alice)


def test_commitment_age_window(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    ks.commit(reg.commitment, actors.alice)
    with reverts("CommitmentTooNew"):
        ks.register(reg, actors.alice)
    chain.increase_time(MAX_AGE + 1)
    with reverts("CommitmentTooOld"):
        ks.register(reg, actors.alice)
    assert ks.record(ALICE_ID).status is Status.NONE


def test_front_running_fails(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    """Mallory sees Alice's register in the mempool and replays its arguments as her own."""
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    ks.commit(reg.commitment, actors.alice)
    chain.increase_time(MIN_AGE)
    # The commitment binds Alice's address: Mallory has none for these arguments.
    with reverts("CommitmentNotFound"):
        ks.register(reg, actors.mallory)
    # Committing them under her own address (after seeing them) does not help either: the
    # proof of possession binds Alice's address too.
    stolen = Registration(
        reg.identifier,
        reg.public_key,
        reg.secret,
        reg.signature,
        ks.registration(ALICE_ID, ALICE_KEY, actors.mallory, secret=reg.secret).commitment,
    )
    ks.commit(stolen.commitment, actors.mallory)
    chain.increase_time(MIN_AGE)
    with reverts("WrongSigner"):
        ks.register(stolen, actors.mallory)
    assert ks.register(reg, actors.alice).events[0] == ev.Registered(
        ALICE_ID, 1, reg.public_key, address_bytes(actors.alice)
    )


def _committed(
    ks: KeyStoreClient, chain: Chain, sender: str, public_key: bytes, signature: bytes
) -> Registration:
    """A registration of ``public_key`` with an arbitrary ``signature``, committed and aged."""
    secret = b"\x09" * 32
    reg = Registration(
        ALICE_ID,
        public_key,
        secret,
        signature,
        commitment(ALICE_ID, public_key, address_bytes(sender), secret),
    )
    ks.commit(reg.commitment, sender)
    chain.increase_time(MIN_AGE)
    return reg


def test_public_key_must_be_64_bytes(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    good = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    reg = _committed(ks, chain, actors.alice, b"\x04" + good.public_key, good.signature)
    with reverts("BadPublicKeyLength"):
        ks.register(reg, actors.alice)


@pytest.mark.parametrize("flaw", ["short", "v29", "high_s", "zero_r"])
def test_malformed_signatures(ks: KeyStoreClient, chain: Chain, actors: Actors, flaw: str) -> None:
    sig = ks.possession_signature(ALICE_ID, ALICE_KEY, actors.alice)
    bad = {
        "short": sig[:64],
        "v29": sig[:64] + b"\x1d",
        "high_s": high_s(sig),
        "zero_r": bytes(32) + sig[32:],
    }[flaw]
    reg = _committed(ks, chain, actors.alice, ALICE_KEY.public_key.to_bytes(), bad)
    with reverts("BadSignature"):
        ks.register(reg, actors.alice)


def test_proof_of_possession_by_another_key(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """Mallory registers Alice's public key (to claim calls for it) without Alice's secret."""
    sig = ks.possession_signature(ALICE_ID, MALLORY_KEY, actors.mallory)
    reg = _committed(ks, chain, actors.mallory, ALICE_KEY.public_key.to_bytes(), sig)
    with reverts("WrongSigner"):
        ks.register(reg, actors.mallory)


def test_approved_record_cannot_be_overwritten(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    reg = ks.registration(ALICE_ID, MALLORY_KEY, actors.mallory)
    ks.commit(reg.commitment, actors.mallory)
    chain.increase_time(MIN_AGE)
    with reverts("AlreadyApproved"):
        ks.register(reg, actors.mallory)
    assert ks.lookup(ALICE_ID) == (ALICE_KEY.public_key.to_bytes(), 1)


def test_pending_replaced_and_approval_names_key_and_version(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    alice = register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    # A squatter replaces the pending entry; the operator's approval of Alice's key fails
    # instead of approving Mallory's.
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.mallory)
    assert ks.record(ALICE_ID) == ks.record(ALICE_ID).__class__(
        Status.PENDING, 2, MALLORY_KEY.public_key.to_bytes()
    )
    with reverts("VersionMismatch"):
        ks.approve(ALICE_ID, key_hash(alice.public_key), 1, actors.operator)
    with reverts("KeyMismatch"):
        ks.approve(ALICE_ID, key_hash(alice.public_key), 2, actors.operator)
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, secret=b"\x08" * 32)
    ks.approve(ALICE_ID, key_hash(alice.public_key), 3, actors.operator)
    assert ks.lookup(ALICE_ID) == (alice.public_key, 3)


def test_only_operator(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    reg = register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    with reverts("NotOperator"):
        ks.approve(ALICE_ID, key_hash(reg.public_key), 1, actors.mallory)
    with reverts("NotOperator"):
        ks.operator_revoke(ALICE_ID, actors.mallory)
    spare = SPARE_KEY.public_key.to_bytes()
    with reverts("NotOperator"):
        ks.announce_recovery(
            ALICE_ID,
            spare,
            ks.possession_signature(ALICE_ID, SPARE_KEY, actors.mallory),
            actors.mallory,
        )
    with reverts("NotOperator"):
        ks.execute_recovery(ALICE_ID, spare, actors.mallory)
    assert ks.operator == actors.operator


def test_approve_needs_pending(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    kh = key_hash(ALICE_KEY.public_key.to_bytes())
    with reverts("NotPending"):
        ks.approve(ALICE_ID, kh, 1, actors.operator)
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    with reverts("NotPending"):
        ks.approve(ALICE_ID, kh, 1, actors.operator)


def test_rotate(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    new = BOB_KEY.public_key.to_bytes()
    consent = ks.rotation_signature(ALICE_ID, ALICE_KEY, new, 2)
    pop = ks.possession_signature(ALICE_ID, BOB_KEY, actors.alice)
    with reverts("WrongSigner"):  # consent by someone else than the current key
        ks.rotate(
            ALICE_ID, new, ks.rotation_signature(ALICE_ID, MALLORY_KEY, new, 2), pop, actors.alice
        )
    with reverts("WrongSigner"):  # the new key's proof of possession names another sender
        ks.rotate(ALICE_ID, new, consent, pop, actors.mallory)
    result = ks.rotate(ALICE_ID, new, consent, pop, actors.alice)
    assert result.events == (ev.Rotated(ALICE_ID, 2, new),)
    assert ks.lookup(ALICE_ID) == (new, 2)
    # The old consent names version 2: replaying it (to roll back, say) fails.
    old = ALICE_KEY.public_key.to_bytes()
    with reverts("WrongSigner"):
        ks.rotate(
            ALICE_ID,
            old,
            ks.rotation_signature(ALICE_ID, ALICE_KEY, old, 3),
            ks.possession_signature(ALICE_ID, ALICE_KEY, actors.alice),
            actors.alice,
        )


def test_rotate_needs_approved(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    new = BOB_KEY.public_key.to_bytes()
    with reverts("NotApproved"):
        ks.rotate(
            ALICE_ID,
            new,
            ks.rotation_signature(ALICE_ID, ALICE_KEY, new, 2),
            ks.possession_signature(ALICE_ID, BOB_KEY, actors.alice),
            actors.alice,
        )


def test_revoke_and_reregister(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    with reverts("WrongSigner"):
        ks.revoke(ALICE_ID, ks.revocation_signature(ALICE_ID, MALLORY_KEY, 1), actors.mallory)
    sig = ks.revocation_signature(ALICE_ID, ALICE_KEY, 1)
    # Anyone may carry the signed revocation to the chain.
    assert ks.revoke(ALICE_ID, sig, actors.bob).events == (ev.Revoked(ALICE_ID, 1, False),)
    assert ks.record(ALICE_ID) == type(ks.record(ALICE_ID))(Status.REVOKED, 1, None)
    with reverts("NotApproved"):
        ks.lookup(ALICE_ID)
    with reverts("NotActive"):
        ks.revoke(ALICE_ID, sig, actors.alice)
    with reverts("NotActive"):
        ks.operator_revoke(ALICE_ID, actors.operator)
    register(ks, chain, ALICE_ID, BOB_KEY, actors.alice, approve_by=actors.operator)
    assert ks.lookup(ALICE_ID) == (BOB_KEY.public_key.to_bytes(), 2)
    # The revocation signed for version 1 does not revoke version 2.
    with reverts("WrongSigner"):
        ks.revoke(ALICE_ID, sig, actors.mallory)


def test_operator_revokes_a_squatter(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, BOB_ID, MALLORY_KEY, actors.mallory)
    assert ks.operator_revoke(BOB_ID, actors.operator).events == (ev.Revoked(BOB_ID, 1, True),)
    assert ks.record(BOB_ID).status is Status.REVOKED


def test_recovery_time_lock(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    spare = SPARE_KEY.public_key.to_bytes()
    pop = ks.possession_signature(ALICE_ID, SPARE_KEY, actors.operator)
    with reverts("NoRecoveryPending"):
        ks.execute_recovery(ALICE_ID, spare, actors.operator)
    with reverts("NotApproved"):
        ks.announce_recovery(BOB_ID, spare, pop, actors.operator)
    announced = ks.announce_recovery(ALICE_ID, spare, pop, actors.operator)
    deadline = announced.timestamp + DELAY
    assert announced.events == (ev.RecoveryAnnounced(ALICE_ID, 1, spare, deadline, 1),)
    assert ks.recovery(ALICE_ID) == (key_hash(spare), deadline, 1)
    with reverts("RecoveryAlreadyPending"):
        ks.announce_recovery(ALICE_ID, spare, pop, actors.operator)
    with reverts("RecoveryNotReady"):
        ks.execute_recovery(ALICE_ID, spare, actors.operator)
    # The subscriber, who still has its key, vetoes; anyone may carry the veto.
    veto = ks.cancel_signature(ALICE_ID, ALICE_KEY, key_hash(spare), 1)
    with reverts("WrongSigner"):
        ks.cancel_recovery(
            ALICE_ID,
            ks.cancel_signature(ALICE_ID, SPARE_KEY, key_hash(spare), 1),
            actors.bob,
        )
    assert ks.cancel_recovery(ALICE_ID, veto, actors.bob).events == (
        ev.RecoveryCancelled(ALICE_ID, 1),
    )
    with reverts("NoRecoveryPending"):
        ks.cancel_recovery(ALICE_ID, veto, actors.bob)
    # A new announcement cannot be vetoed with the old veto (it names the old serial).
    again = ks.announce_recovery(ALICE_ID, spare, pop, actors.operator)
    with reverts("WrongSigner"):
        ks.cancel_recovery(ALICE_ID, veto, actors.mallory)
    chain.increase_time(DELAY)
    with reverts("KeyMismatch"):
        ks.execute_recovery(ALICE_ID, MALLORY_KEY.public_key.to_bytes(), actors.operator)
    executed = ks.execute_recovery(ALICE_ID, spare, actors.operator)
    assert again.timestamp + DELAY <= executed.timestamp
    assert executed.events == (ev.RecoveryExecuted(ALICE_ID, 2, spare),)
    assert ks.lookup(ALICE_ID) == (spare, 2)
    assert ks.recovery(ALICE_ID) == (bytes(32), 0, 0)


def test_rotation_and_revocation_void_a_pending_recovery(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    spare = SPARE_KEY.public_key.to_bytes()
    pop = ks.possession_signature(ALICE_ID, SPARE_KEY, actors.operator)
    ks.announce_recovery(ALICE_ID, spare, pop, actors.operator)
    new = BOB_KEY.public_key.to_bytes()
    rotated = ks.rotate(
        ALICE_ID,
        new,
        ks.rotation_signature(ALICE_ID, ALICE_KEY, new, 2),
        ks.possession_signature(ALICE_ID, BOB_KEY, actors.alice),
        actors.alice,
    )
    assert rotated.events == (ev.RecoveryCancelled(ALICE_ID, 2), ev.Rotated(ALICE_ID, 2, new))
    ks.announce_recovery(ALICE_ID, spare, pop, actors.operator)
    revoked = ks.operator_revoke(ALICE_ID, actors.operator)
    assert revoked.events == (ev.RecoveryCancelled(ALICE_ID, 2), ev.Revoked(ALICE_ID, 2, True))
    assert ks.recovery(ALICE_ID) == (bytes(32), 0, 0)


def test_no_phone_number_or_secret_on_chain(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """Nothing the chain records (calldata, logs, storage read back) carries the number."""
    number = b"+33612345678"
    start = chain.latest_block()["number"] + 1
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    seen = b""
    for n in range(start, chain.latest_block()["number"] + 1):
        block = chain.w3.eth.get_block(n, full_transactions=True)
        for tx in block["transactions"]:
            # eth-tester names the calldata "data", JSON-RPC nodes "input"
            calldata: Any = tx.get("input", tx.get("data", b""))  # type: ignore[union-attr]
            seen += bytes(calldata)
    seen += b"".join(repr(e).encode() for e in ks.events(start))
    assert number not in seen and number[1:] not in seen
    assert ALICE_ID in seen  # the identifier is what is stored instead


def test_gas_target_on_embedded_chain(embedded_chain: Chain) -> None:
    """commit + register (with proof of possession) + approve within 200k gas (issue target)."""
    operator, alice = embedded_chain.accounts[0], embedded_chain.accounts[1]
    ks = KeyStoreClient.deploy(
        embedded_chain, operator, min_commitment_age=MIN_AGE, max_commitment_age=MAX_AGE
    )
    reg = ks.registration(ALICE_ID, ALICE_KEY, alice, secret=b"\x01" * 32)
    total = ks.commit(reg.commitment, alice).gas_used
    embedded_chain.increase_time(MIN_AGE)
    total += ks.register(reg, alice).gas_used
    total += ks.approve(ALICE_ID, key_hash(reg.public_key), 1, operator).gas_used
    assert total <= 200_000
