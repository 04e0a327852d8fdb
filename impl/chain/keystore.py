"""Client of the hardened ``KeyStore`` contract (contracts/KeyStore.sol).

One method per contract function, plus the off-chain halves a subscriber needs: building a
registration (commitment, EIP-712 ``Register`` signature) and signing the rotation,
revocation, recovery-consent and veto typed data with its
:class:`~ethvoip.impl.crypto.IdentityKey`, and a light-client look-up verified against a
trusted block hash (:mod:`.proofs`).

Reverts arrive as :class:`~ethvoip.spec.errors.ContractRevert` whose ``reason`` is the
contract's custom error name (``"CommitmentTooNew"``, ``"WrongSigner"``, ...).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from web3 import Web3

from ethvoip.impl.chain import messages
from ethvoip.impl.chain.backend import Chain
from ethvoip.impl.chain.contract import ContractClient, TxResult, address_bytes
from ethvoip.impl.chain.proofs import LookupProof, RecordLayout, VerifiedCache, VerifiedRecord
from ethvoip.impl.crypto import IdentityKey, Rng, keccak256

#: Defaults: ENS's one minute minimum commitment age, one day maximum, two days of recovery
#: delay, a week for the operator to approve a pending registration.
MIN_COMMITMENT_AGE = 60
MAX_COMMITMENT_AGE = 86_400
RECOVERY_DELAY = 172_800
PENDING_TTL = 604_800
#: ``keys[keyHash]`` of a key that has entered the store.
USED = 1
REGISTERED_TOPIC = keccak256(b"Registered(bytes32,bytes32,uint64,address)")


class Status(IntEnum):
    NONE = 0
    PENDING = 1
    APPROVED = 2
    REVOKED = 3
    SUSPENDED = 4


@dataclass(frozen=True)
class Record:
    """``records[identifier]``: the key is None once cleared (never registered, revoked)."""

    status: Status
    version: int
    public_key: bytes | None


@dataclass(frozen=True)
class Registration:
    """Everything a subscriber sends for one registration (commit, then register)."""

    identifier: bytes
    public_key: bytes
    secret: bytes
    signature: bytes
    commitment: bytes
    record_version: int


@dataclass(frozen=True)
class PendingKey:
    """``keys[keyHash]`` of a key with a pending registration."""

    registered_at: int
    binding: int  # messages.pending_binding(identifier, recordVersion, registrant)

    @property
    def word(self) -> int:
        """The storage word ``keys[keyHash]`` this was read from."""
        return (self.registered_at << messages.BINDING_BITS) | self.binding

    def is_for(self, ident: bytes, record_version: int, registrant: bytes) -> bool:
        return self.binding == messages.pending_binding(ident, record_version, registrant)


class KeyStoreClient(ContractClient):
    ARTIFACT = "KeyStore"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        operator: str,
        *,
        min_commitment_age: int = MIN_COMMITMENT_AGE,
        max_commitment_age: int = MAX_COMMITMENT_AGE,
        recovery_delay: int = RECOVERY_DELAY,
        pending_ttl: int = PENDING_TTL,
    ) -> KeyStoreClient:
        """Deploy a KeyStore whose operator is ``operator`` (the sender of the deployment)."""
        address = cls._deploy(
            chain, operator, min_commitment_age, max_commitment_age, recovery_delay, pending_ttl
        )
        return cls(chain, address)

    # ------------------------------------------------------------ off-chain halves

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def registration(
        self,
        ident: bytes,
        key: IdentityKey,
        sender: str,
        *,
        record_version: int | None = None,
        secret: bytes | None = None,
        rng: Rng | None = None,
    ) -> Registration:
        """Build a registration of ``key`` under ``ident``, to be sent by ``sender``, for the
        record's version ``record_version`` (default: the record's version now)."""
        import os

        secret = secret if secret is not None else (rng or os.urandom)(32)
        version = self.record(ident).version if record_version is None else record_version
        public_key = key.public_key.to_bytes()
        who = address_bytes(sender)
        return Registration(
            ident,
            public_key,
            secret,
            self.registration_signature(ident, key, sender, version),
            messages.commitment(ident, public_key, who, secret),
            version,
        )

    def registration_signature(
        self, ident: bytes, key: IdentityKey, sender: str, record_version: int
    ) -> bytes:
        """``key``'s EIP-712 ``Register`` consent: ``sender`` registers it for ``ident``."""
        digest = messages.register_digest(
            self.chain_id,
            self.address,
            ident,
            key.public_key.to_bytes(),
            address_bytes(sender),
            record_version,
        )
        return key.sign_digest_recoverable(digest)

    def rotation_signature(
        self, ident: bytes, current: IdentityKey, new_public_key: bytes, version: int
    ) -> bytes:
        """The current key's ``Rotate`` consent to hand ``ident`` (at ``version``) over."""
        digest = messages.rotate_digest(self.chain_id, self.address, ident, new_public_key, version)
        return current.sign_digest_recoverable(digest)

    def rotate_to_signature(self, ident: bytes, new: IdentityKey, version: int) -> bytes:
        """The new key's ``RotateTo`` consent to take ``ident`` (at ``version``) over."""
        digest = messages.rotate_to_digest(
            self.chain_id, self.address, ident, new.public_key.to_bytes(), version
        )
        return new.sign_digest_recoverable(digest)

    def revocation_signature(self, ident: bytes, current: IdentityKey, version: int) -> bytes:
        digest = messages.revoke_digest(self.chain_id, self.address, ident, version)
        return current.sign_digest_recoverable(digest)

    def recovery_signature(self, ident: bytes, new: IdentityKey, serial: int) -> bytes:
        """The recovered key's ``Recovery`` consent to announcement ``serial``."""
        digest = messages.recovery_digest(
            self.chain_id, self.address, ident, new.public_key.to_bytes(), serial
        )
        return new.sign_digest_recoverable(digest)

    def cancel_signature(
        self, ident: bytes, current: IdentityKey, key_hash: bytes, serial: int
    ) -> bytes:
        """The current key's ``Veto`` of recovery announcement ``serial``."""
        digest = messages.cancel_recovery_digest(
            self.chain_id, self.address, ident, key_hash, serial
        )
        return current.sign_digest_recoverable(digest)

    # ------------------------------------------------------------ transactions

    def commit(self, commitment: bytes, sender: str) -> TxResult:
        return self.send("commit", sender, commitment)

    def register(self, reg: Registration, sender: str) -> TxResult:
        return self.send(
            "register",
            sender,
            reg.identifier,
            reg.public_key,
            reg.secret,
            reg.record_version,
            reg.signature,
        )

    def approve(
        self,
        ident: bytes,
        public_key: bytes,
        record_version: int,
        sender: str,
        *,
        registrant: bytes | str | None = None,
    ) -> TxResult:
        """Approve the registration of ``public_key`` for ``ident`` at ``record_version`` by
        ``registrant`` (default: whoever registered it last, from the ``Registered`` log)."""
        if registrant is None:
            registrant = self.registrant_of(public_key)
        who = address_bytes(registrant) if isinstance(registrant, str) else registrant
        return self.send(
            "approve",
            sender,
            ident,
            public_key[:32],
            public_key[32:],
            record_version,
            Web3.to_checksum_address(who),
        )

    def registrant_of(self, public_key: bytes) -> bytes:
        """The sender of the latest ``Registered`` event of ``public_key`` (zero if none)."""
        from ethvoip.impl.chain.events import Registered, decode_event

        query: Any = {
            "address": Web3.to_checksum_address(self.address),
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [
                "0x" + REGISTERED_TOPIC.hex(),
                None,
                "0x" + messages.key_hash(public_key).hex(),
            ],
        }
        found = bytes(20)
        for log in self.chain.w3.eth.get_logs(query):
            event = decode_event(
                self.ARTIFACT, [bytes(t) for t in log["topics"]], bytes(log["data"])
            )
            if isinstance(event, Registered):
                found = event.registrant
        return found

    def drop_pending(self, key_hash: bytes, sender: str) -> TxResult:
        return self.send("dropPending", sender, key_hash)

    def propose_operator(self, proposed: str, sender: str) -> TxResult:
        return self.send("proposeOperator", sender, proposed)

    def accept_operator(self, sender: str) -> TxResult:
        return self.send("acceptOperator", sender)

    def rotate(
        self,
        ident: bytes,
        new_public_key: bytes,
        current_signature: bytes,
        new_signature: bytes,
        sender: str,
    ) -> TxResult:
        return self.send("rotate", sender, ident, new_public_key, current_signature, new_signature)

    def revoke(self, ident: bytes, signature: bytes, sender: str) -> TxResult:
        return self.send("revoke", sender, ident, signature)

    def operator_revoke(self, ident: bytes, sender: str) -> TxResult:
        return self.send("operatorRevoke", sender, ident)

    def announce_recovery(
        self, ident: bytes, new_public_key: bytes, signature: bytes, sender: str
    ) -> TxResult:
        return self.send("announceRecovery", sender, ident, new_public_key, signature)

    def cancel_recovery(self, ident: bytes, signature: bytes, sender: str) -> TxResult:
        return self.send("cancelRecovery", sender, ident, signature)

    def execute_recovery(self, ident: bytes, new_public_key: bytes, sender: str) -> TxResult:
        return self.send("executeRecovery", sender, ident, new_public_key)

    # ------------------------------------------------------------ reads

    def lookup(self, ident: bytes) -> tuple[bytes, int]:
        """The approved key (64 bytes) and its version; ``ContractRevert("NotApproved")`` else."""
        key, version = self.call("lookup", ident)
        return bytes(key), int(version)

    def record(self, ident: bytes, block: int | str = "latest") -> Record:
        x, y, version, status = self.call("records", ident, block=block)
        key = bytes(x) + bytes(y)
        return Record(Status(status), int(version), None if key == bytes(64) else key)

    def commitment_time(self, commitment: bytes) -> int:
        """When ``commitment`` was made (block timestamp), 0 if never or consumed."""
        return int(self.call("commitments", commitment))

    def key_used(self, key_hash: bytes) -> bool:
        """Whether the key has entered the store (it never can again)."""
        return bool(self.call("keyUsed", key_hash))

    def pending_key(self, key_hash: bytes) -> PendingKey | None:
        """The registration word of a key (pending until approved, expired or dropped);
        None if the key was never registered, or rotated or recovered to, or dropped."""
        word = int.from_bytes(bytes(self.call("keys", key_hash)), "big")
        if word in (0, USED):
            return None
        bits = messages.BINDING_BITS
        return PendingKey(word >> bits, word & ((1 << bits) - 1))

    def recovery(self, ident: bytes) -> tuple[bytes, int, int]:
        """(key hash, executableAt, serial) of the pending recovery; all zero when none."""
        key_hash, executable_at, serial = self.call("recoveries", ident)
        return bytes(key_hash), int(executable_at), int(serial)

    @property
    def operator(self) -> str:
        return str(self.call("operator"))

    @property
    def pending_operator(self) -> str:
        return str(self.call("pendingOperator"))

    # ------------------------------------------------------------ light client

    @functools.cached_property
    def layout(self) -> RecordLayout:
        return RecordLayout.from_storage_layout(self.artifact.storage_layout)

    @functools.cached_property
    def proven(self) -> VerifiedCache:
        """Headers and account states this client has verified (see :class:`VerifiedCache`)."""
        return VerifiedCache()

    def lookup_proof(self, ident: bytes, block_hash: bytes) -> LookupProof:
        """Ask the node for what a light client needs to verify ``ident`` at ``block_hash``."""
        header_rlp, account = self.chain.header_and_proof(
            self.address, self.layout.slots(ident), block_hash
        )
        return LookupProof(header_rlp, account)

    def verified_lookup(self, ident: bytes, trusted_hash: bytes) -> VerifiedRecord:
        """``records[ident]`` at the trusted block, proven (raises ``ProofError`` otherwise).

        The first look-up at a checkpoint fetches its header with the proof (one round trip)
        and remembers the verified header; later ones fetch only the ``eth_getProof``.
        """
        slots = self.layout.slots(ident)
        header = self.proven.header(trusted_hash)
        if header is None:
            header_rlp, account = self.chain.header_and_proof(self.address, slots, trusted_hash)
            header = self.proven.verify_header(trusted_hash, header_rlp)
        else:
            account = self.chain.get_proof(self.address, slots, trusted_hash)
        return self.proven.verify_lookup(header, self.address, ident, self.layout, account)
