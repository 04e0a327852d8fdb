"""Pure-Python reference models of both key-store contracts.

Each model is the contract's specification written a second time, independently of Solidity:
same state, same checks in the same order (so the same custom error wins when several apply),
same events.  The hypothesis state machines in tests/chain/test_stateful.py drive a model and
a deployed contract with the same random calls and require identical state, identical
accept/reject (and error name) and identical events after every step.

Every method either raises :class:`~ethvoip.spec.errors.ContractRevert` and changes nothing,
or applies the call and returns the events it emits.  ``sender`` is a 20-byte address and
``now`` the block timestamp (time is injected: the models never read a clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from eth_abi.abi import encode

from ethvoip.impl.chain import events as ev
from ethvoip.impl.chain import messages
from ethvoip.impl.chain.abi import contract_revert
from ethvoip.impl.crypto import keccak256, recover_signer
from ethvoip.spec.errors import ContractRevert, CryptoError, DecodeError

NONE, PENDING, APPROVED, REVOKED, SUSPENDED = 0, 1, 2, 3, 4
USED = 1  # keys[keyHash] of a key rotated to, recovered to or dropped
_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_BINDING_MASK = (1 << messages.BINDING_BITS) - 1


def _revert(name: str) -> ContractRevert:
    return contract_revert(name)


@dataclass(frozen=True)
class ModelRecord:
    public_key: bytes = bytes(64)
    version: int = 0
    status: int = NONE


@dataclass(frozen=True)
class ModelRecovery:
    key_hash: bytes
    executable_at: int
    serial: int


@dataclass
class KeyStoreModel:
    """The hardened KeyStore (contracts/KeyStore.sol)."""

    operator: bytes
    chain_id: int
    address: bytes
    min_commitment_age: int
    max_commitment_age: int
    recovery_delay: int
    pending_ttl: int
    records: dict[bytes, ModelRecord] = field(default_factory=dict)
    commitments: dict[bytes, int] = field(default_factory=dict)
    recoveries: dict[bytes, ModelRecovery] = field(default_factory=dict)
    recovery_count: int = 0
    keys: dict[bytes, int] = field(default_factory=dict)  # keyHash -> word (see the contract)
    pending_operator: bytes = bytes(20)

    def __post_init__(self) -> None:
        if (
            self.min_commitment_age >= self.max_commitment_age
            or self.recovery_delay == 0
            or self.pending_ttl == 0
            or self.pending_ttl >= 1 << 63
        ):
            raise _revert("BadConfiguration")

    # -------------------------------------------------------------- checks

    def _only_operator(self, sender: bytes) -> None:
        if sender != self.operator:
            raise _revert("NotOperator")

    @staticmethod
    def _split_key(public_key: bytes) -> None:
        if len(public_key) != 64:
            raise _revert("BadPublicKeyLength")

    @staticmethod
    def _check_signer(digest: bytes, signature: bytes, public_key: bytes) -> None:
        if len(signature) != 65:
            raise _revert("BadSignature")
        s, v = int.from_bytes(signature[32:64], "big"), signature[64]
        if s > _HALF_ORDER or v not in (27, 28):
            raise _revert("BadSignature")
        try:
            recovered = recover_signer(digest, signature)
        except (CryptoError, DecodeError):  # what ecrecover answers with address 0
            raise _revert("BadSignature") from None
        if recovered != keccak256(public_key)[-20:]:
            raise _revert("WrongSigner")

    def _record(self, ident: bytes) -> ModelRecord:
        return self.records.get(ident, ModelRecord())

    def _fresh_key(self, public_key: bytes) -> bytes:
        kh = keccak256(public_key)
        if self.keys.get(kh, 0) != 0:
            raise _revert("KeyAlreadyUsed")
        return kh

    def key_used(self, key_hash: bytes) -> bool:
        return self.keys.get(key_hash, 0) != 0

    def _clear_recovery(self, ident: bytes, version: int) -> list[ev.Event]:
        if ident in self.recoveries:
            del self.recoveries[ident]
            return [ev.RecoveryCancelled(ident, version)]
        return []

    # -------------------------------------------------------------- calls

    def commit(self, sender: bytes, now: int, commitment: bytes) -> list[ev.Event]:
        if self.commitments.get(commitment, 0) + self.max_commitment_age >= now:
            raise _revert("UnexpiredCommitmentExists")
        self.commitments[commitment] = now
        return [ev.Committed(commitment)]

    def register(
        self,
        sender: bytes,
        now: int,
        ident: bytes,
        public_key: bytes,
        secret: bytes,
        record_version: int,
        signature: bytes,
    ) -> list[ev.Event]:
        c = keccak256(
            encode(["bytes32", "bytes", "address", "bytes32"], [ident, public_key, sender, secret])
        )
        at = self.commitments.get(c, 0)
        if at == 0:
            raise _revert("CommitmentNotFound")
        if at + self.min_commitment_age > now:
            raise _revert("CommitmentTooNew")
        if at + self.max_commitment_age < now:
            raise _revert("CommitmentTooOld")
        self._split_key(public_key)
        kh = self._fresh_key(public_key)
        digest = messages.register_digest(
            self.chain_id, self.address, ident, public_key, sender, record_version
        )
        self._check_signer(digest, signature, public_key)
        del self.commitments[c]
        binding = messages.pending_binding(ident, record_version, sender)
        self.keys[kh] = (now << messages.BINDING_BITS) | binding
        return [ev.Registered(ident, kh, record_version, sender)]

    def approve(
        self,
        sender: bytes,
        now: int,
        ident: bytes,
        x: bytes,
        y: bytes,
        record_version: int,
        registrant: bytes,
    ) -> list[ev.Event]:
        self._only_operator(sender)
        public_key = x + y
        kh = keccak256(public_key)
        entry = self.keys.get(kh, 0)
        if entry == USED:
            raise _revert("KeyAlreadyUsed")
        if entry == 0 or (entry & _BINDING_MASK) != messages.pending_binding(
            ident, record_version, registrant
        ):
            raise _revert("NotPending")
        if (entry >> messages.BINDING_BITS) + self.pending_ttl < now:
            raise _revert("PendingExpired")
        rec = self._record(ident)
        if rec.status not in (NONE, REVOKED):
            raise _revert("NumberInUse")
        if rec.version != record_version:
            raise _revert("VersionMismatch")
        self.records[ident] = ModelRecord(public_key, record_version + 1, APPROVED)
        return [ev.Approved(ident, record_version + 1, kh)]

    def drop_pending(self, sender: bytes, now: int, key_hash: bytes) -> list[ev.Event]:
        self._only_operator(sender)
        if self.keys.get(key_hash, 0) in (0, USED):
            raise _revert("NotPending")
        self.keys[key_hash] = USED
        return [ev.PendingDropped(key_hash)]

    def rotate(
        self,
        sender: bytes,
        now: int,
        ident: bytes,
        new_key: bytes,
        current_sig: bytes,
        new_sig: bytes,
    ) -> list[ev.Event]:
        rec = self._record(ident)
        if rec.status != APPROVED:
            raise _revert("NotApproved")
        self._split_key(new_key)
        kh = self._fresh_key(new_key)
        v = rec.version
        c, a = self.chain_id, self.address
        self._check_signer(
            messages.rotate_digest(c, a, ident, new_key, v), current_sig, rec.public_key
        )
        self._check_signer(messages.rotate_to_digest(c, a, ident, new_key, v), new_sig, new_key)
        self.records[ident] = ModelRecord(new_key, v + 1, APPROVED)
        self.keys[kh] = USED
        return [*self._clear_recovery(ident, v + 1), ev.Rotated(ident, v + 1, new_key)]

    def revoke(self, sender: bytes, now: int, ident: bytes, signature: bytes) -> list[ev.Event]:
        rec = self._record(ident)
        if rec.status not in (APPROVED, SUSPENDED):
            raise _revert("NotActive")
        digest = messages.revoke_digest(self.chain_id, self.address, ident, rec.version)
        self._check_signer(digest, signature, rec.public_key)
        self.records[ident] = ModelRecord(bytes(64), rec.version + 1, REVOKED)
        return [
            *self._clear_recovery(ident, rec.version + 1),
            ev.Revoked(ident, rec.version + 1),
        ]

    def operator_revoke(self, sender: bytes, now: int, ident: bytes) -> list[ev.Event]:
        self._only_operator(sender)
        rec = self._record(ident)
        if rec.status != APPROVED:
            raise _revert("NotApproved")
        self.records[ident] = replace(rec, version=rec.version + 1, status=SUSPENDED)
        return [ev.Suspended(ident, rec.version + 1)]

    def announce_recovery(
        self, sender: bytes, now: int, ident: bytes, new_key: bytes, signature: bytes
    ) -> list[ev.Event]:
        self._only_operator(sender)
        rec = self._record(ident)
        if rec.status not in (APPROVED, SUSPENDED):
            raise _revert("NotActive")
        if ident in self.recoveries:
            raise _revert("RecoveryAlreadyPending")
        self._split_key(new_key)
        kh = self._fresh_key(new_key)
        serial = self.recovery_count + 1
        digest = messages.recovery_digest(self.chain_id, self.address, ident, new_key, serial)
        self._check_signer(digest, signature, new_key)
        at = now + self.recovery_delay
        self.recovery_count = serial
        self.recoveries[ident] = ModelRecovery(kh, at, serial)
        return [ev.RecoveryAnnounced(ident, rec.version, new_key, at, serial)]

    def cancel_recovery(
        self, sender: bytes, now: int, ident: bytes, signature: bytes
    ) -> list[ev.Event]:
        pending = self.recoveries.get(ident)
        if pending is None:
            raise _revert("NoRecoveryPending")
        rec = self._record(ident)
        digest = messages.cancel_recovery_digest(
            self.chain_id, self.address, ident, pending.key_hash, pending.serial
        )
        self._check_signer(digest, signature, rec.public_key)
        return self._clear_recovery(ident, rec.version)

    def execute_recovery(
        self, sender: bytes, now: int, ident: bytes, new_key: bytes
    ) -> list[ev.Event]:
        self._only_operator(sender)
        pending = self.recoveries.get(ident)
        if pending is None:
            raise _revert("NoRecoveryPending")
        if now < pending.executable_at:
            raise _revert("RecoveryNotReady")
        self._split_key(new_key)
        if keccak256(new_key) != pending.key_hash:
            raise _revert("KeyMismatch")
        kh = self._fresh_key(new_key)
        rec = self._record(ident)
        del self.recoveries[ident]
        self.records[ident] = ModelRecord(new_key, rec.version + 1, APPROVED)
        self.keys[kh] = USED
        return [ev.RecoveryExecuted(ident, rec.version + 1, new_key)]

    def propose_operator(self, sender: bytes, now: int, proposed: bytes) -> list[ev.Event]:
        self._only_operator(sender)
        self.pending_operator = proposed
        return [ev.OperatorProposed(sender, proposed)]

    def accept_operator(self, sender: bytes, now: int) -> list[ev.Event]:
        if sender != self.pending_operator or sender == bytes(20):
            raise _revert("NotProposedOperator")
        previous, self.operator = self.operator, sender
        self.pending_operator = bytes(20)
        return [ev.OperatorTransferred(previous, sender)]

    def lookup(self, ident: bytes) -> tuple[bytes, int]:
        rec = self._record(ident)
        if rec.status != APPROVED:
            raise _revert("NotApproved")
        return rec.public_key, rec.version


@dataclass(frozen=True)
class PaperEntry:
    phone_number: str = ""
    public_key: bytes = b""
    receipt: str = ""
    exists: bool = False


@dataclass
class PaperModel:
    """The paper's contract (contracts/KeyStorePaper.sol)."""

    creator: bytes
    pending: dict[str, PaperEntry] = field(default_factory=dict)
    approved: dict[str, PaperEntry] = field(default_factory=dict)
    receipt_of: dict[str, str] = field(default_factory=dict)

    def add_client(
        self, sender: bytes, now: int, phone_number: str, public_key: bytes, receipt: str
    ) -> list[ev.Event]:
        if receipt in self.pending or receipt in self.approved:
            raise _revert("ReceiptAlreadyUsed")
        self.pending[receipt] = PaperEntry(phone_number, public_key, receipt, True)
        return [ev.ClientAdded(phone_number, public_key, receipt, sender)]

    def approve_client(
        self, sender: bytes, now: int, phone_number: str, receipt: str
    ) -> list[ev.Event]:
        if sender != self.creator:
            raise _revert("NotCreator")
        entry = self.pending.get(receipt)
        if entry is None:
            raise _revert("NotPending")
        if entry.phone_number != phone_number:
            raise _revert("PhoneNumberMismatch")
        self.approved[receipt] = entry
        self.receipt_of[phone_number] = receipt
        del self.pending[receipt]
        return [ev.ClientApproved(phone_number, entry.public_key, receipt)]

    def get_client(self, phone_number: str) -> bytes:
        entry = self.approved.get(self.receipt_of.get(phone_number, ""))
        if entry is None:
            raise _revert("UnknownClient")
        return entry.public_key
