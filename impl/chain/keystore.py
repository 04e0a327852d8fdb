"""Client of the hardened ``KeyStore`` contract (contracts/KeyStore.sol).

One method per contract function, plus the off-chain halves a subscriber needs: building a
registration (commitment, proof of possession) and signing rotation, revocation and
recovery-cancellation digests with its :class:`~ethvoip.impl.crypto.IdentityKey`, and a
light-client look-up verified against a trusted block hash (:mod:`.proofs`).

Reverts arrive as :class:`~ethvoip.spec.errors.ContractRevert` whose ``reason`` is the
contract's custom error name (``"CommitmentTooNew"``, ``"WrongSigner"``, ...).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

from ethvoip.impl.chain import messages
from ethvoip.impl.chain.backend import Chain
from ethvoip.impl.chain.contract import ContractClient, TxResult, address_bytes
from ethvoip.impl.chain.proofs import LookupProof, RecordLayout, VerifiedCache, VerifiedRecord
from ethvoip.impl.crypto import IdentityKey, Rng

#: Defaults: ENS's one minute minimum commitment age, one day maximum, two days of recovery delay.
MIN_COMMITMENT_AGE = 60
MAX_COMMITMENT_AGE = 86_400
RECOVERY_DELAY = 172_800


class Status(IntEnum):
    NONE = 0
    PENDING = 1
    APPROVED = 2
    REVOKED = 3


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
    ) -> KeyStoreClient:
        """Deploy a KeyStore whose operator is ``operator`` (the sender of the deployment)."""
        address = cls._deploy(
            chain, operator, min_commitment_age, max_commitment_age, recovery_delay
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
        secret: bytes | None = None,
        rng: Rng | None = None,
    ) -> Registration:
        """Build a registration of ``key`` under ``ident``, to be sent by ``sender``."""
        import os

        secret = secret if secret is not None else (rng or os.urandom)(32)
        public_key = key.public_key.to_bytes()
        who = address_bytes(sender)
        digest = messages.possession_digest(self.chain_id, self.address, ident, who)
        return Registration(
            ident,
            public_key,
            secret,
            key.sign_digest_recoverable(digest),
            messages.commitment(ident, public_key, who, secret),
        )

    def possession_signature(self, ident: bytes, key: IdentityKey, sender: str) -> bytes:
        """``key``'s proof of possession for ``ident`` when ``sender`` submits."""
        digest = messages.possession_digest(
            self.chain_id, self.address, ident, address_bytes(sender)
        )
        return key.sign_digest_recoverable(digest)

    def rotation_signature(
        self, ident: bytes, current: IdentityKey, new_public_key: bytes, version: int
    ) -> bytes:
        """The current key's consent to hand ``ident`` to ``new_public_key`` as ``version``."""
        digest = messages.rotate_digest(self.chain_id, self.address, ident, new_public_key, version)
        return current.sign_digest_recoverable(digest)

    def revocation_signature(self, ident: bytes, current: IdentityKey, version: int) -> bytes:
        digest = messages.revoke_digest(self.chain_id, self.address, ident, version)
        return current.sign_digest_recoverable(digest)

    def cancel_signature(
        self, ident: bytes, current: IdentityKey, key_hash: bytes, serial: int
    ) -> bytes:
        digest = messages.cancel_recovery_digest(
            self.chain_id, self.address, ident, key_hash, serial
        )
        return current.sign_digest_recoverable(digest)

    # ------------------------------------------------------------ transactions

    def commit(self, commitment: bytes, sender: str) -> TxResult:
        return self.send("commit", sender, commitment)

    def register(self, reg: Registration, sender: str) -> TxResult:
        return self.send(
            "register", sender, reg.identifier, reg.public_key, reg.secret, reg.signature
        )

    def approve(self, ident: bytes, key_hash: bytes, version: int, sender: str) -> TxResult:
        return self.send("approve", sender, ident, key_hash, version)

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

    def recovery(self, ident: bytes) -> tuple[bytes, int, int]:
        """(key hash, executableAt, serial) of the pending recovery; all zero when none."""
        key_hash, executable_at, serial = self.call("recoveries", ident)
        return bytes(key_hash), int(executable_at), int(serial)

    @property
    def operator(self) -> str:
        return str(self.call("operator"))

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
