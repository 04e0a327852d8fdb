"""The key store as the handshakes see it, backed by the KeyStore contract on a chain.

:class:`ChainDirectory` implements the handshakes' ``Directory`` (``lookup(name) ->
IdentityPublicKey``): the name is an E.164 number, hashed with the operator's salt into the
contract's identifier.  With ``verify=True`` (the default) the record is read the way a
light client reads it: the node hands over the block header and an EIP-1186 proof, and
:func:`ethvoip.impl.chain.verify_lookup` checks both against a trusted block hash, so a node
that lies about a key is caught (``ProofError``).  Only an approved key is returned; any
other status is a :class:`ChainError`, so a subscriber the operator has not approved (or has
revoked) cannot take part in a handshake.

Which block hash is trusted is injected (``trusted_hash``); by default it is the node's
latest block, i.e. the light client trusts the head it synced, read afresh on every look-up
(:mod:`.head`: one small JSON-RPC request, the header included, so a new head needs no
second request for it).

Cache: a key proven against block hash ``h`` is remembered for ``h`` (``cache=True``, the
default).  That is sound because the proof's answer is a function of the state root that
``h`` commits to: asking again at the same ``h`` can only give the same record.  So a second
look-up in the same block costs one round trip (the head) instead of a proof transfer and a
Merkle-Patricia check; when the head moves, the cache is emptied and the next look-up is
proven afresh.  A key is therefore never served from a block older than the head the node
reported during that very look-up: a revocation is seen from the block that contains it,
exactly as without the cache.

Round trips on a JSON-RPC node with the default trust: one per look-up, a batch of the head
and the proof at ``latest``.  At a head already proven the proof is not used; at a new head
it is verified against that head's header (re-encoded from the same answer, so no request for
the header); if a block came in between the two answers, the proof does not verify and is
asked again by hash.

Every look-up is timed (:attr:`ChainDirectory.timings`, seconds) for the call-setup
breakdown; the clock is injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ethvoip.impl.chain import KeyStoreClient, identifier
from ethvoip.impl.chain.proofs import APPROVED, VerifiedRecord
from ethvoip.impl.crypto import IdentityPublicKey
from ethvoip.spec.errors import ChainError, ProofError

from .head import read_head


class ChainDirectory:
    """``lookup(number)`` on a :class:`KeyStoreClient`, proven against a trusted block."""

    def __init__(
        self,
        keystore: KeyStoreClient,
        salt: bytes,
        *,
        verify: bool = True,
        trusted_hash: Callable[[], bytes] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        cache: bool = True,
    ) -> None:
        self.keystore = keystore
        self.salt = salt
        self.verify = verify
        self._trusted = trusted_hash  # None: the node's head (see the module docstring)
        self._clock = clock
        self._lock = threading.Lock()  # one chain client may be shared with worker threads
        self.timings: list[tuple[str, float]] = []
        self.cache = cache
        self._cached_at: bytes | None = None  # the block hash the cached keys were proven at
        self._cached: dict[str, IdentityPublicKey] = {}
        self.proofs_checked = 0

    def lookup(self, name: str) -> IdentityPublicKey:
        start = self._clock()
        try:
            with self._lock:
                if not self.verify:
                    raw = self.keystore.lookup(identifier(name, self.salt))[0]
                    return IdentityPublicKey.from_bytes(raw)
                if self._trusted is None:
                    return self._at_head(name)
                trusted = self._trusted()
                key = self._recall(trusted, name)
                if key is None:
                    ident = identifier(name, self.salt)
                    key = self._keep(trusted, name, self.keystore.verified_lookup(ident, trusted))
                return key
        finally:
            self.timings.append((name, self._clock() - start))

    def _recall(self, block_hash: bytes, name: str) -> IdentityPublicKey | None:
        """The key proven for ``name`` at ``block_hash``; a new block empties the cache."""
        if block_hash != self._cached_at:
            self._cached_at, self._cached = block_hash, {}
        return self._cached.get(name) if self.cache else None

    def _at_head(self, name: str) -> IdentityPublicKey:
        ks = self.keystore
        ident = identifier(name, self.salt)
        head = read_head(ks.chain, ks.address, ks.layout.slots(ident))
        key = self._recall(head.block_hash, name)
        if key is not None:
            return key
        header = ks.proven.header(head.block_hash) or ks.proven.verify_header(
            head.block_hash, head.header_rlp()
        )
        rec: VerifiedRecord | None
        try:
            rec = ks.proven.verify_lookup(header, ks.address, ident, ks.layout, head.proof())
        except ProofError:
            rec = None  # e.g. a block came in between the batch's two answers
        if rec is None:  # the proof at exactly this head, by hash (verified just the same)
            rec = ks.verified_lookup(ident, head.block_hash)
        return self._keep(head.block_hash, name, rec)

    def _keep(self, block_hash: bytes, name: str, rec: VerifiedRecord) -> IdentityPublicKey:
        """The approved key of a verified record (cached for ``block_hash``), or ChainError."""
        self.proofs_checked += 1
        if rec.status != APPROVED or rec.public_key is None:
            raise ChainError(f"no approved key for {name} (status {rec.status})")
        key = IdentityPublicKey.from_bytes(rec.public_key)
        if self.cache:
            self._recall(block_hash, name)  # (re)keys the cache to this block
            self._cached[name] = key
        return key
