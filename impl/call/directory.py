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
latest block, i.e. the light client trusts the head it synced.

Cache: a key proven against block hash ``h`` is remembered for ``h`` (``cache=True``, the
default).  That is sound because the proof's answer is a function of the state root that
``h`` commits to: asking again at the same ``h`` can only give the same record.  So a second
look-up in the same block costs one round trip (the trusted hash) instead of a proof
transfer and a Merkle-Patricia check; when the trusted hash moves, the cache is emptied and
the next look-up is proven afresh (a revocation is seen from the block that contains it).

Every look-up is timed (:attr:`ChainDirectory.timings`, seconds) for the call-setup
breakdown; the clock is injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ethvoip.impl.chain import KeyStoreClient, identifier
from ethvoip.impl.chain.proofs import APPROVED
from ethvoip.impl.crypto import IdentityPublicKey
from ethvoip.spec.errors import ChainError


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
        self._trusted = trusted_hash or self._latest_hash
        self._clock = clock
        self._lock = threading.Lock()  # one chain client may be shared with worker threads
        self.timings: list[tuple[str, float]] = []
        self.cache = cache
        self._cached_at: bytes | None = None  # the block hash the cached keys were proven at
        self._cached: dict[str, IdentityPublicKey] = {}
        self.proofs_checked = 0

    def _latest_hash(self) -> bytes:
        return bytes(self.keystore.chain.latest_block()["hash"])

    def lookup(self, name: str) -> IdentityPublicKey:
        start = self._clock()
        try:
            with self._lock:
                if not self.verify:
                    raw = self.keystore.lookup(identifier(name, self.salt))[0]
                    return IdentityPublicKey.from_bytes(raw)
                trusted = self._trusted()
                if trusted != self._cached_at:
                    self._cached_at, self._cached = trusted, {}
                key = self._cached.get(name) if self.cache else None
                if key is None:
                    key = self._proven(name, trusted)
                    if self.cache:
                        self._cached[name] = key
                return key
        finally:
            self.timings.append((name, self._clock() - start))

    def _proven(self, name: str, trusted: bytes) -> IdentityPublicKey:
        rec = self.keystore.verified_lookup(identifier(name, self.salt), trusted)
        self.proofs_checked += 1
        if rec.status != APPROVED or rec.public_key is None:
            raise ChainError(f"no approved key for {name} (status {rec.status})")
        return IdentityPublicKey.from_bytes(rec.public_key)
