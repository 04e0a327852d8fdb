"""The hardened KeyStore contract through its client, on both chains: every function, every
custom error, the events of every state change, and the key life cycle of issue 13 (a key
enters once, pending entries expire and block nobody, the operator's kill switch suspends,
recovery is the only operator path to a new key, two-step operator transfer)."""

from __future__ import annotations

from typing import Any

import pytest

from ethvoip.impl.chain import Chain, KeyStoreClient, Registration, Status, key_hash
from ethvoip.impl.chain import events as ev
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.impl.chain.backend import normalise_revert
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.impl.chain.eip712 import domain_separator, type_hash, type_string
from ethvoip.impl.chain.keystore import Record
from ethvoip.impl.chain.messages import commitment, revoke_digest
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.crypto.secp256k1_math import recover_point
from tests.refusals import reverts

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
    TTL,
    Actors,
    key,
)
from .helpers import SECP256K1_N, high_s, key_signing_with_s, register

# Every custom error of KeyStore.sol and the test that provokes it.
COVERED_ERRORS = {
    "BadConfiguration": "test_bad_configuration",
    "NotOperator": "test_only_operator",
    "NotProposedOperator": "test_operator_transfer_takes_two_steps",
    "UnexpiredCommitmentExists": "test_commitment_cannot_be_refreshed_before_expiry",
    "CommitmentNotFound": "test_register_without_commitment",
    "CommitmentTooNew": "test_commitment_age_window",
    "CommitmentTooOld": "test_commitment_age_window",
    "BadPublicKeyLength": "test_public_key_must_be_64_bytes",
    "BadSignature": "test_malformed_signatures",
    "WrongSigner": "test_registration_signed_by_another_key",
    "KeyAlreadyUsed": "test_a_revoked_key_never_returns",
    "NotPending": "test_approve_names_key_version_and_registrant",
    "PendingExpired": "test_pending_registration_expires",
    "NumberInUse": "test_approved_number_gets_no_second_key",
    "NotApproved": "test_rotate_needs_approved",
    "NotActive": "test_revoke_and_reonboard",
    "KeyMismatch": "test_recovery_time_lock",
    "VersionMismatch": "test_approve_names_key_version_and_registrant",
    "RecoveryAlreadyPending": "test_recovery_time_lock",
    "NoRecoveryPending": "test_recovery_time_lock",
    "RecoveryNotReady": "test_recovery_time_lock",
}

ALICE, BOB, MALLORY, SPARE = (
    k.public_key.to_bytes() for k in (ALICE_KEY, BOB_KEY, MALLORY_KEY, SPARE_KEY)
)


def test_every_custom_error_is_covered() -> None:
    abi_errors = {e["name"] for e in load_artifact("KeyStore").abi if e["type"] == "error"}
    assert abi_errors == set(COVERED_ERRORS)
    assert set(COVERED_ERRORS.values()) <= set(globals())


def onboard(
    ks: KeyStoreClient, chain: Chain, ident: bytes, k: IdentityKey, a: Actors
) -> Registration:
    return register(ks, chain, ident, k, a.alice, approve_by=a.operator)


def test_bad_configuration(chain: Chain, actors: Actors) -> None:
    with reverts("BadConfiguration"):
        KeyStoreClient.deploy(chain, actors.operator, min_commitment_age=10, max_commitment_age=10)
    with reverts("BadConfiguration"):
        KeyStoreClient.deploy(chain, actors.operator, recovery_delay=0)
    with reverts("BadConfiguration"):
        KeyStoreClient.deploy(chain, actors.operator, pending_ttl=0)
    with reverts("BadConfiguration"):  # the TTL is added to a 64-bit time: it must fit
        KeyStoreClient.deploy(chain, actors.operator, pending_ttl=1 << 63)
    KeyStoreClient.deploy(chain, actors.operator, pending_ttl=(1 << 63) - 1)  # the largest


def test_register_approve_lookup(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice, secret=b"\x01" * 32)
    assert reg.record_version == 0
    committed = ks.commit(reg.commitment, actors.alice)
    assert committed.events == (ev.Committed(reg.commitment),)
    assert ks.commitment_time(reg.commitment) == committed.timestamp
    chain.increase_time(MIN_AGE)
    registered = ks.register(reg, actors.alice)
    kh = key_hash(ALICE)
    assert registered.events == (ev.Registered(ALICE_ID, kh, 0, address_bytes(actors.alice)),)
    assert ks.commitment_time(reg.commitment) == 0  # consumed
    # The pending registration lives beside the record: the record is untouched.
    assert ks.record(ALICE_ID) == Record(Status.NONE, 0, None)
    pending = ks.pending_key(kh)
    assert pending is not None and pending.registered_at == registered.timestamp
    assert pending.is_for(ALICE_ID, 0, address_bytes(actors.alice))
    assert ks.key_used(kh)
    with reverts("NotApproved"):
        ks.lookup(ALICE_ID)  # pending keys are not served
    approved = ks.approve(ALICE_ID, ALICE, 0, actors.operator, registrant=actors.alice)
    assert approved.events == (ev.Approved(ALICE_ID, 1, kh),)
    assert ks.lookup(ALICE_ID) == (ALICE, 1)
    assert ks.events(committed.block_number) == [
        *committed.events,
        *registered.events,
        *approved.events,
    ]


def test_eip712_domain_and_types_match_solidity(ks: KeyStoreClient, chain: Chain) -> None:
    # The contract's own constants are an independent statement of the typed data.
    assert bytes(ks.call("domainSeparator")) == domain_separator(chain.chain_id, ks.address)
    for name in ("Register", "Rotate", "RotateTo", "Revoke", "Recovery", "Veto"):
        constant = {"RotateTo": "ROTATE_TO_TYPE"}.get(name, name.upper() + "_TYPE")
        assert bytes(ks.call(constant)) == type_hash(name), type_string(name, ())


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
    assert not ks.key_used(key_hash(ALICE))


def test_front_running_fails(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    """Mallory sees Alice's register in the mempool and replays its arguments as her own."""
    reg = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    ks.commit(reg.commitment, actors.alice)
    chain.increase_time(MIN_AGE)
    # The commitment binds Alice's address: Mallory has none for these arguments.
    with reverts("CommitmentNotFound"):
        ks.register(reg, actors.mallory)
    # Committing them under her own address (after seeing them) does not help either: the
    # Register signature names Alice as the registrant.
    mine = ks.registration(ALICE_ID, ALICE_KEY, actors.mallory, secret=reg.secret)
    stolen = Registration(
        reg.identifier, reg.public_key, reg.secret, reg.signature, mine.commitment, 0
    )
    ks.commit(stolen.commitment, actors.mallory)
    chain.increase_time(MIN_AGE)
    with reverts("WrongSigner"):
        ks.register(stolen, actors.mallory)
    assert ks.register(reg, actors.alice).events[0] == ev.Registered(
        ALICE_ID, key_hash(ALICE), 0, address_bytes(actors.alice)
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
        0,
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
    sig = ks.registration_signature(ALICE_ID, ALICE_KEY, actors.alice, 0)
    bad = {
        "short": sig[:64],
        "v29": sig[:64] + b"\x1d",
        "high_s": high_s(sig),
        "zero_r": bytes(32) + sig[32:],
    }[flaw]
    reg = _committed(ks, chain, actors.alice, ALICE, bad)
    with reverts("BadSignature"):
        ks.register(reg, actors.alice)


def ecrecover(digest: bytes, signature: bytes) -> bytes:
    """The key the EVM's ECREC recovers (any s below n, v in {27, 28}), as 64 bytes."""
    r, s = (int.from_bytes(signature[i : i + 32], "big") for i in (0, 32))
    return recover_point(digest, r, s, signature[64] - 27)


def test_the_malleated_twin_recovers_the_signer_but_is_refused(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    # The twin passes ecrecover (same address): only the contract's low-s bound refuses it.
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    sig = ks.revocation_signature(ALICE_ID, ALICE_KEY, 1)
    digest = revoke_digest(ks.chain_id, ks.address, ALICE_ID, 1)
    assert ecrecover(digest, high_s(sig)) == ecrecover(digest, sig) == ALICE
    with reverts("BadSignature"):
        ks.revoke(ALICE_ID, high_s(sig), actors.alice)


def test_the_largest_low_s_is_accepted(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    # s = n // 2 (the contract's HALF_ORDER) is still low: the bound is inclusive.
    digest = revoke_digest(ks.chain_id, ks.address, ALICE_ID, 1)
    holder, sig = key_signing_with_s(digest, SECP256K1_N // 2)
    onboard(ks, chain, ALICE_ID, holder, actors)
    assert ks.revoke(ALICE_ID, sig, actors.alice).events == (ev.Revoked(ALICE_ID, 2),)


def test_registration_signed_by_another_key(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """Mallory registers Alice's public key (to claim calls for it) without Alice's secret."""
    sig = ks.registration_signature(ALICE_ID, MALLORY_KEY, actors.mallory, 0)
    reg = _committed(ks, chain, actors.mallory, ALICE, sig)
    with reverts("WrongSigner"):
        ks.register(reg, actors.mallory)


def test_register_signature_names_the_record_version(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    # Registered for version 0: an approval naming version 1 finds nothing pending.
    reg = register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    with reverts("NotPending"):
        ks.approve(ALICE_ID, ALICE, 1, actors.operator, registrant=actors.alice)
    assert reg.record_version == 0


def test_approved_number_gets_no_second_key(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    # A registration for an approved number is accepted (it blocks nobody) but never approved.
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.mallory)
    with reverts("NumberInUse"):
        ks.approve(ALICE_ID, MALLORY, 1, actors.operator, registrant=actors.mallory)
    assert ks.lookup(ALICE_ID) == (ALICE, 1)


def test_approve_names_key_version_and_registrant(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    with reverts("NotPending"):
        ks.approve(ALICE_ID, ALICE, 0, actors.operator, registrant=actors.alice)
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    # A squatter's registration for the same number does not replace Alice's.
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.mallory)
    with reverts("NotPending"):  # Alice's key, but another registrant named
        ks.approve(ALICE_ID, ALICE, 0, actors.operator, registrant=actors.mallory)
    with reverts("NotPending"):  # a version the registration does not name
        ks.approve(ALICE_ID, ALICE, 1, actors.operator, registrant=actors.alice)
    ks.approve(ALICE_ID, ALICE, 0, actors.operator, registrant=actors.alice)
    assert ks.lookup(ALICE_ID) == (ALICE, 1)
    # A registration signed for a version the record is not at is never approved.
    bob_reg = ks.registration(BOB_ID, BOB_KEY, actors.bob, record_version=5)
    ks.commit(bob_reg.commitment, actors.bob)
    chain.increase_time(MIN_AGE)
    ks.register(bob_reg, actors.bob)
    with reverts("VersionMismatch"):
        ks.approve(BOB_ID, BOB, 5, actors.operator, registrant=actors.bob)


def test_pending_registration_expires(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.mallory)
    chain.increase_time(TTL + 1)
    with reverts("PendingExpired"):
        ks.approve(ALICE_ID, MALLORY, 0, actors.operator, registrant=actors.mallory)
    # Nobody held the number meanwhile: Alice registers and is approved.
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    assert ks.lookup(ALICE_ID) == (ALICE, 1)


def test_operator_drops_a_pending_registration(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.mallory)
    kh = key_hash(MALLORY)
    assert ks.drop_pending(kh, actors.operator).events == (ev.PendingDropped(kh),)
    with reverts("NotPending"):
        ks.drop_pending(kh, actors.operator)
    with reverts("KeyAlreadyUsed"):  # dropped keys stay spent
        ks.approve(ALICE_ID, MALLORY, 0, actors.operator, registrant=actors.mallory)


def test_only_operator(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    reg = register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    with reverts("NotOperator"):
        ks.approve(ALICE_ID, reg.public_key, 0, actors.mallory, registrant=actors.alice)
    with reverts("NotOperator"):
        ks.drop_pending(key_hash(reg.public_key), actors.mallory)
    with reverts("NotOperator"):
        ks.operator_revoke(ALICE_ID, actors.mallory)
    with reverts("NotOperator"):
        ks.announce_recovery(
            ALICE_ID, SPARE, ks.recovery_signature(ALICE_ID, SPARE_KEY, 1), actors.mallory
        )
    with reverts("NotOperator"):
        ks.execute_recovery(ALICE_ID, SPARE, actors.mallory)
    with reverts("NotOperator"):
        ks.propose_operator(actors.mallory, actors.mallory)
    assert ks.operator == actors.operator


def test_operator_transfer_takes_two_steps(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    with reverts("NotProposedOperator"):
        ks.accept_operator(actors.bob)
    proposed = ks.propose_operator(actors.bob, actors.operator)
    assert proposed.events == (
        ev.OperatorProposed(address_bytes(actors.operator), address_bytes(actors.bob)),
    )
    assert ks.operator == actors.operator  # nothing moves before the acceptance
    with reverts("NotProposedOperator"):
        ks.accept_operator(actors.mallory)
    accepted = ks.accept_operator(actors.bob)
    assert accepted.events == (
        ev.OperatorTransferred(address_bytes(actors.operator), address_bytes(actors.bob)),
    )
    assert ks.operator == actors.bob
    with reverts("NotOperator"):
        ks.operator_revoke(ALICE_ID, actors.operator)
    with reverts("NotProposedOperator"):  # the proposal is consumed
        ks.accept_operator(actors.bob)


def test_the_zero_address_is_never_the_proposed_operator(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    # With no proposal pending, pendingOperator is 0.  No transaction is signed by address 0,
    # but a node simulates a call without a sender as coming from it: the answer must still
    # be NotProposedOperator, not a successful hand-over to nobody.
    zero = "0x" + "00" * 20
    chain.w3.eth.send_transaction({"from": actors.operator, "to": zero, "value": 10**18})
    accept = ks.contract.functions.acceptOperator()
    with reverts("NotProposedOperator"):
        try:
            accept.call({"from": zero, "gas": 100_000})
        except Exception as exc:
            raise normalise_revert(exc, ks.errors) or exc from exc


def rotate(
    ks: KeyStoreClient, ident: bytes, cur: IdentityKey, new: IdentityKey, sender: str
) -> Any:
    version = ks.record(ident).version
    pub = new.public_key.to_bytes()
    return ks.rotate(
        ident,
        pub,
        ks.rotation_signature(ident, cur, pub, version),
        ks.rotate_to_signature(ident, new, version),
        sender,
    )


def test_rotate(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    consent = ks.rotation_signature(ALICE_ID, ALICE_KEY, BOB, 1)
    to = ks.rotate_to_signature(ALICE_ID, BOB_KEY, 1)
    with reverts("WrongSigner"):  # consent by someone else than the current key
        ks.rotate(
            ALICE_ID, BOB, ks.rotation_signature(ALICE_ID, MALLORY_KEY, BOB, 1), to, actors.alice
        )
    with reverts("WrongSigner"):  # the new key's consent swapped for the current key's
        ks.rotate(ALICE_ID, BOB, consent, consent, actors.alice)
    result = ks.rotate(ALICE_ID, BOB, consent, to, actors.mallory)  # anyone may carry it
    assert result.events == (ev.Rotated(ALICE_ID, 2, BOB),)
    assert ks.lookup(ALICE_ID) == (BOB, 2)
    # Rolling back to the rotated-out key: it has entered the store once already.
    with reverts("KeyAlreadyUsed"):
        rotate(ks, ALICE_ID, BOB_KEY, ALICE_KEY, actors.alice)


def test_rotate_needs_approved(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    with reverts("NotApproved"):
        rotate(ks, ALICE_ID, ALICE_KEY, BOB_KEY, actors.alice)


def test_revoke_and_reonboard(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    with reverts("WrongSigner"):
        ks.revoke(ALICE_ID, ks.revocation_signature(ALICE_ID, MALLORY_KEY, 1), actors.mallory)
    sig = ks.revocation_signature(ALICE_ID, ALICE_KEY, 1)
    # Anyone may carry the signed revocation to the chain.
    assert ks.revoke(ALICE_ID, sig, actors.bob).events == (ev.Revoked(ALICE_ID, 2),)
    assert ks.record(ALICE_ID) == Record(Status.REVOKED, 2, None)
    with reverts("NotApproved"):
        ks.lookup(ALICE_ID)
    with reverts("NotActive"):
        ks.revoke(ALICE_ID, sig, actors.alice)
    with reverts("NotApproved"):
        ks.operator_revoke(ALICE_ID, actors.operator)
    # The subscriber re-onboards with a new key (claim 2).
    onboard(ks, chain, ALICE_ID, BOB_KEY, actors)
    assert ks.lookup(ALICE_ID) == (BOB, 3)
    # The revocation signed at version 1 does not revoke version 3.
    with reverts("WrongSigner"):
        ks.revoke(ALICE_ID, sig, actors.mallory)


def test_a_revoked_key_never_returns(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    """stolen_key_reuse: the thief holds sk(alice) and registers it again after revocation."""
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    ks.revoke(ALICE_ID, ks.revocation_signature(ALICE_ID, ALICE_KEY, 1), actors.alice)
    for ident in (ALICE_ID, BOB_ID):  # for no number
        reg = ks.registration(ident, ALICE_KEY, actors.mallory)
        ks.commit(reg.commitment, actors.mallory)
        chain.increase_time(MIN_AGE)
        with reverts("KeyAlreadyUsed"):
            ks.register(reg, actors.mallory)
    assert ks.record(ALICE_ID).status is Status.REVOKED


def test_kill_switch_suspends_and_keeps_the_veto(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """operator_bypass: the operator's kill switch is availability, not impersonation."""
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    assert ks.operator_revoke(ALICE_ID, actors.operator).events == (ev.Suspended(ALICE_ID, 2),)
    assert ks.record(ALICE_ID) == Record(Status.SUSPENDED, 2, ALICE)
    with reverts("NotApproved"):
        ks.lookup(ALICE_ID)
    # The operator's own key, registered and approved at once: refused.
    register(ks, chain, ALICE_ID, MALLORY_KEY, actors.operator)
    with reverts("NumberInUse"):
        ks.approve(ALICE_ID, MALLORY, 2, actors.operator, registrant=actors.operator)
    # Recovery is the only way, and the suspended key vetoes it.
    consent = ks.recovery_signature(ALICE_ID, SPARE_KEY, 1)
    ks.announce_recovery(ALICE_ID, SPARE, consent, actors.operator)
    veto = ks.cancel_signature(ALICE_ID, ALICE_KEY, key_hash(SPARE), 1)
    assert ks.cancel_recovery(ALICE_ID, veto, actors.bob).events == (
        ev.RecoveryCancelled(ALICE_ID, 2),
    )
    # The holder may still revoke the suspended key (then re-onboard).
    sig = ks.revocation_signature(ALICE_ID, ALICE_KEY, 2)
    assert ks.revoke(ALICE_ID, sig, actors.alice).events == (ev.Revoked(ALICE_ID, 3),)


def test_recovery_time_lock(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    consent = ks.recovery_signature(ALICE_ID, SPARE_KEY, 1)
    with reverts("NoRecoveryPending"):
        ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    with reverts("NotActive"):
        ks.announce_recovery(BOB_ID, SPARE, consent, actors.operator)
    with reverts("WrongSigner"):  # a consent for another serial
        ks.announce_recovery(
            ALICE_ID, SPARE, ks.recovery_signature(ALICE_ID, SPARE_KEY, 2), actors.operator
        )
    announced = ks.announce_recovery(ALICE_ID, SPARE, consent, actors.operator)
    deadline = announced.timestamp + DELAY
    assert announced.events == (ev.RecoveryAnnounced(ALICE_ID, 1, SPARE, deadline, 1),)
    assert ks.recovery(ALICE_ID) == (key_hash(SPARE), deadline, 1)
    with reverts("RecoveryAlreadyPending"):
        ks.announce_recovery(ALICE_ID, SPARE, consent, actors.operator)
    with reverts("RecoveryNotReady"):
        ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    # The subscriber, who still has its key, vetoes; anyone may carry the veto.
    veto = ks.cancel_signature(ALICE_ID, ALICE_KEY, key_hash(SPARE), 1)
    with reverts("WrongSigner"):
        ks.cancel_recovery(
            ALICE_ID, ks.cancel_signature(ALICE_ID, SPARE_KEY, key_hash(SPARE), 1), actors.bob
        )
    assert ks.cancel_recovery(ALICE_ID, veto, actors.bob).events == (
        ev.RecoveryCancelled(ALICE_ID, 1),
    )
    with reverts("NoRecoveryPending"):
        ks.cancel_recovery(ALICE_ID, veto, actors.bob)
    # The first consent names serial 1: it does not announce a second recovery.
    with reverts("WrongSigner"):
        ks.announce_recovery(ALICE_ID, SPARE, consent, actors.operator)
    again = ks.announce_recovery(
        ALICE_ID, SPARE, ks.recovery_signature(ALICE_ID, SPARE_KEY, 2), actors.operator
    )
    with reverts("WrongSigner"):  # the old veto names the old serial
        ks.cancel_recovery(ALICE_ID, veto, actors.mallory)
    chain.increase_time(DELAY)
    with reverts("KeyMismatch"):
        ks.execute_recovery(ALICE_ID, MALLORY, actors.operator)
    executed = ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    assert again.timestamp + DELAY <= executed.timestamp
    assert executed.events == (ev.RecoveryExecuted(ALICE_ID, 2, SPARE),)
    assert ks.lookup(ALICE_ID) == (SPARE, 2)
    assert ks.recovery(ALICE_ID) == (bytes(32), 0, 0)
    assert ks.key_used(key_hash(SPARE))


def test_recovery_of_a_suspended_number_after_the_delay(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    ks.operator_revoke(ALICE_ID, actors.operator)
    ks.announce_recovery(
        ALICE_ID, SPARE, ks.recovery_signature(ALICE_ID, SPARE_KEY, 1), actors.operator
    )
    chain.increase_time(DELAY)
    ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    assert ks.lookup(ALICE_ID) == (SPARE, 3)


def test_rotation_and_revocation_void_a_pending_recovery(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
    ks.announce_recovery(
        ALICE_ID, SPARE, ks.recovery_signature(ALICE_ID, SPARE_KEY, 1), actors.operator
    )
    rotated = rotate(ks, ALICE_ID, ALICE_KEY, BOB_KEY, actors.alice)
    assert rotated.events == (ev.RecoveryCancelled(ALICE_ID, 2), ev.Rotated(ALICE_ID, 2, BOB))
    other = key(7)
    ks.announce_recovery(
        ALICE_ID,
        other.public_key.to_bytes(),
        ks.recovery_signature(ALICE_ID, other, 2),
        actors.operator,
    )
    revoked = ks.revoke(ALICE_ID, ks.revocation_signature(ALICE_ID, BOB_KEY, 2), actors.alice)
    assert revoked.events == (ev.RecoveryCancelled(ALICE_ID, 3), ev.Revoked(ALICE_ID, 3))
    assert ks.recovery(ALICE_ID) == (bytes(32), 0, 0)


def test_no_phone_number_or_secret_on_chain(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """Nothing the chain records (calldata, logs, storage read back) carries the number."""
    number = b"+33612345678"
    start = chain.latest_block()["number"] + 1
    onboard(ks, chain, ALICE_ID, ALICE_KEY, actors)
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
    """commit + register (EIP-712 Register) + approve within 200k gas (issue target)."""
    operator, alice = embedded_chain.accounts[0], embedded_chain.accounts[1]
    ks = KeyStoreClient.deploy(
        embedded_chain, operator, min_commitment_age=MIN_AGE, max_commitment_age=MAX_AGE
    )
    reg = ks.registration(ALICE_ID, ALICE_KEY, alice, secret=b"\x01" * 32)
    total = ks.commit(reg.commitment, alice).gas_used
    embedded_chain.increase_time(MIN_AGE)
    total += ks.register(reg, alice).gas_used
    total += ks.approve(ALICE_ID, reg.public_key, 0, operator, registrant=alice).gas_used
    assert total <= 200_000


def test_dropping_an_approved_keys_registration_changes_nothing_but_its_word(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    # the registration word outlives the approval (the life-cycle table's dropPending row
    # says so): dropping it spends the key as USED, the record keeps its approved key
    reg = register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice)
    ks.approve(ALICE_ID, reg.public_key, 0, actors.operator, registrant=actors.alice)
    kh = key_hash(reg.public_key)
    assert ks.drop_pending(kh, actors.operator).events == (ev.PendingDropped(kh),)
    assert ks.lookup(ALICE_ID) == (reg.public_key, 1)
    assert ks.key_used(kh)
    with reverts("NotPending"):  # now USED: nothing left to drop
        ks.drop_pending(kh, actors.operator)


@pytest.mark.parametrize("chain", ["embedded"], indirect=True)  # places blocks to the second
def test_every_deadline_holds_to_the_second(
    ks: KeyStoreClient, chain: Chain, actors: Actors
) -> None:
    """Each time bound of the contract on both sides of its last second: an off-by-one at a
    deadline (``<`` for ``<=``) is a check weakened by one second, which no coarse step of
    the clock notices."""

    def at(t: int) -> None:  # the next transaction is mined at block time t
        chain.tester.time_travel(t)  # type: ignore[attr-defined]

    a = ks.registration(ALICE_ID, ALICE_KEY, actors.alice)
    b = ks.registration(BOB_ID, BOB_KEY, actors.bob)
    c = ks.registration(ALICE_ID, MALLORY_KEY, actors.mallory)
    ta = ks.commit(a.commitment, actors.alice).timestamp
    tb = ks.commit(b.commitment, actors.bob).timestamp
    tc = ks.commit(c.commitment, actors.mallory).timestamp
    at(ta + MIN_AGE - 1)
    with reverts("CommitmentTooNew"):
        ks.register(a, actors.alice)
    at(ta + MIN_AGE)
    ra = ks.register(a, actors.alice).timestamp  # old enough at exactly the minimum age
    at(tb + MAX_AGE)
    with reverts("UnexpiredCommitmentExists"):  # still unexpired in its last second
        ks.commit(b.commitment, actors.mallory)
    rb = ks.register(b, actors.bob).timestamp  # and still young enough to reveal
    at(tc + MAX_AGE + 1)
    with reverts("CommitmentTooOld"):
        ks.register(c, actors.mallory)
    ks.commit(c.commitment, actors.mallory)  # expired: may be committed afresh
    at(ra + TTL)
    ks.approve(ALICE_ID, ALICE, 0, actors.operator, registrant=actors.alice)  # last second
    at(rb + TTL + 1)
    with reverts("PendingExpired"):
        ks.approve(BOB_ID, BOB, 0, actors.operator, registrant=actors.bob)
    consent = ks.recovery_signature(ALICE_ID, SPARE_KEY, 1)
    ready = ks.announce_recovery(ALICE_ID, SPARE, consent, actors.operator).timestamp + DELAY
    at(ready - 1)
    with reverts("RecoveryNotReady"):
        ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    at(ready)
    ks.execute_recovery(ALICE_ID, SPARE, actors.operator)
    assert ks.lookup(ALICE_ID)[0] == SPARE
