"""The key store as the handshakes see it, backed by the KeyStore contract on a chain.

:class:`ChainDirectory` implements the handshakes' ``Directory`` (``lookup(name) ->
IdentityPublicKey``): the name is an E.164 number, hashed with the operator's salt into the
contract's identifier.  Only an approved key is returned; any other status is a
:class:`ChainError`, so a subscriber the operator has not approved (or has revoked) cannot
take part in a handshake.

**Who chooses the block.**  A Merkle proof only shows what the state under some state root
holds; whoever picks the root picks the answer.  So the directory takes a
:class:`~ethvoip.impl.chain.trust.TrustPolicy` (checkpoint, quorum, sync committee: see
docs/lightclient.rst) and proves every look-up against the block the policy vouches for:
the node then only supplies the EIP-1186 proof, checked against that block's state root.
Each answer says which policy proved it at which block (:class:`Lookup`, :attr:`last`).

``policy=None`` is the **unverified** look-up: the proof is checked against the head the
queried node itself reports (:mod:`.head`), which catches a node that contradicts itself
and nothing else: a node that forges a header whose state root commits to a forged record
is believed.  Such a look-up is labelled :data:`~ethvoip.impl.chain.trust.UNVERIFIED`, in
:class:`Lookup`, in :attr:`ChainDirectory.label` and in a warning on the ``ethvoip.directory``
log, and never says "verified".

Cache: a key proven at block hash ``h`` is remembered for ``h`` (``cache=True``, the
default).  That is sound because the proof's answer is a function of the state root ``h``
commits to.  When the vouched-for block moves, the cache is emptied and the next look-up is
proven afresh, so a key is never served from a block older than the one the policy vouches
for during that very look-up.  Proven afresh means the header and the contract's account
branch; the record's storage branches are walked again only if the contract's storage root
(and code hash) changed: a record is a function of the storage root it was read under, and
that root was just proven under the new block's state root.  Most blocks do not touch the
KeyStore, so a look-up at a new block usually skips three storage walks.

Every look-up is timed (:attr:`ChainDirectory.timings`, seconds) for the call-setup
breakdown; the clock is injected.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ethvoip.impl.chain import KeyStoreClient, identifier
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.proofs import (
    APPROVED,
    AccountProof,
    AccountState,
    StorageProof,
    TrustedHeader,
    VerifiedRecord,
    read_record,
)
from ethvoip.impl.chain.trust import UNVERIFIED, TrustedBlock, TrustPolicy
from ethvoip.impl.crypto import IdentityPublicKey
from ethvoip.spec.errors import ChainError, ProofError

from .head import read_head

log = logging.getLogger("ethvoip.directory")


@dataclass(frozen=True)
class Lookup:
    """One look-up's answer and what vouches for it (``block`` None: unverified)."""

    name: str
    key: IdentityPublicKey
    block: TrustedBlock | None
    number: int  # the block the record was read at

    @property
    def verified(self) -> bool:
        return self.block is not None

    @property
    def label(self) -> str:
        """``verified by <policy> at block N (0x...)`` or ``unverified``."""
        if self.block is None:
            return f"{UNVERIFIED} (the node's own head, block {self.number})"
        b = self.block
        return f"verified by {b.policy} at block {b.number} (0x{b.block_hash.hex()[:12]}...)"


class ChainDirectory:
    """``lookup(number)`` on a :class:`KeyStoreClient`, proven at the block ``policy`` vouches
    for (``policy=None``: unverified, see the module docstring)."""

    def __init__(
        self,
        keystore: KeyStoreClient,
        salt: bytes,
        policy: TrustPolicy | None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        cache: bool = True,
    ) -> None:
        self.keystore = keystore
        self.salt = salt
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()  # one chain client may be shared with worker threads
        self.timings: list[tuple[str, float]] = []
        self.cache = cache
        self._cached_at: bytes | None = None  # the block hash the cached keys were proven at
        self._cached: dict[str, Lookup] = {}
        # identifier and storage slots of a name: functions of the name and the salt only
        self._where: dict[str, tuple[bytes, list[bytes]]] = {}
        # records read under one (storage root, code hash) of the contract, by name
        self._storage_at: tuple[bytes, bytes] | None = None
        self._records: dict[str, VerifiedRecord] = {}
        self.proofs_checked = 0  # look-ups proven at a block (header + account, storage if moved)
        self.last: Lookup | None = None

    @property
    def label(self) -> str:
        """What this directory's answers are: the policy's name, or ``unverified``."""
        return UNVERIFIED if self.policy is None else self.policy.name

    def lookup(self, name: str) -> IdentityPublicKey:
        """The approved key of ``name`` (the handshakes' ``Directory``); see :meth:`resolve`."""
        return self.resolve(name).key

    def resolve(self, name: str) -> Lookup:
        """The approved key of ``name`` and the block that vouches for it."""
        start = self._clock()
        try:
            with self._lock:
                if self.policy is None:
                    got = self._at_node_head(name)
                    log.warning("look-up of %s: %s", name, got.label)
                else:
                    got = self._at_trusted(name, self.policy)
                    log.info("look-up of %s: %s", name, got.label)
                self.last = got
                return got
        finally:
            self.timings.append((name, self._clock() - start))

    def _recall(self, block_hash: bytes, name: str) -> Lookup | None:
        """The look-up of ``name`` proven at ``block_hash``; a new block empties the cache."""
        if block_hash != self._cached_at:
            self._cached_at, self._cached = block_hash, {}
        return self._cached.get(name) if self.cache else None

    def _slots(self, name: str) -> tuple[bytes, list[bytes]]:
        """``name``'s identifier and the storage slots of its record."""
        where = self._where.get(name)
        if where is None:
            ident = identifier(name, self.salt)
            where = self._where[name] = (ident, self.keystore.layout.slots(ident))
        return where

    def _read(
        self,
        header: TrustedHeader,
        state: AccountState,
        name: str,
        ident: bytes,
        storage: Sequence[StorageProof],
    ) -> VerifiedRecord:
        """:func:`read_record`, unless ``name``'s record was read under this very storage
        root and code hash (proven under ``header``'s state root by the caller)."""
        at = (state.storage_root, state.code_hash)
        if at != self._storage_at:
            self._storage_at, self._records = at, {}
        known = self._records.get(name) if self.cache else None
        if known is not None:
            return dataclasses.replace(known, block_number=header.number)
        rec = read_record(header, state, ident, self.keystore.layout, storage)
        self._records[name] = rec
        return rec

    def _at_trusted(self, name: str, policy: TrustPolicy) -> Lookup:
        ks = self.keystore
        ident, slots = self._slots(name)
        early: AccountProof | None = None
        if isinstance(policy, CheckpointPolicy):  # the proof in the same batch as the head
            block, early = policy.trusted_block_with_proof(ks.address, slots)
        else:
            block = policy.trusted_block()
        got = self._recall(block.block_hash, name)
        if got is not None:
            return got
        header = TrustedHeader(block.block_hash, block.number, block.state_root)
        rec: VerifiedRecord | None = None
        if early is not None:
            try:
                state = ks.proven.verify_account(block.state_root, ks.address, early)
                rec = self._read(header, state, name, ident, early.storage)
            except ProofError:
                rec = None  # e.g. a block came in between the batch's two answers
        if rec is None:  # the proof at exactly this block, by hash (checked just the same)
            account = ks.chain.get_proof(ks.address, slots, block.block_hash)
            state = ks.proven.verify_account(block.state_root, ks.address, account)
            rec = self._read(header, state, name, ident, account.storage)
        return self._keep(block.block_hash, name, rec, block)

    def _at_node_head(self, name: str) -> Lookup:
        """UNVERIFIED: proven against the header the queried node calls its head."""
        ks = self.keystore
        ident = identifier(name, self.salt)
        head = read_head(ks.chain, ks.address, ks.layout.slots(ident))
        got = self._recall(head.block_hash, name)
        if got is not None:
            return got
        header = ks.proven.header(head.block_hash) or ks.proven.verify_header(
            head.block_hash, head.header_rlp()
        )
        rec: VerifiedRecord | None
        try:
            rec = ks.proven.verify_lookup(header, ks.address, ident, ks.layout, head.proof())
        except ProofError:
            rec = None  # e.g. a block came in between the batch's two answers
        if rec is None:  # the proof at exactly this head, by hash (checked just the same)
            rec = ks.verified_lookup(ident, head.block_hash)
        return self._keep(head.block_hash, name, rec, None)

    def _keep(
        self, block_hash: bytes, name: str, rec: VerifiedRecord, block: TrustedBlock | None
    ) -> Lookup:
        """The approved key of a checked record (cached for ``block_hash``), or ChainError."""
        self.proofs_checked += 1
        if rec.status != APPROVED or rec.public_key is None:
            raise ChainError(f"no approved key for {name} (status {rec.status})")
        got = Lookup(name, IdentityPublicKey.from_bytes(rec.public_key), block, rec.block_number)
        if self.cache:
            self._recall(block_hash, name)  # (re)keys the cache to this block
            self._cached[name] = got
        return got
