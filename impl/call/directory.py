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
latest block, i.e. the light client trusts the head it synced.  Every look-up is timed
(:attr:`ChainDirectory.timings`, seconds) for the call-setup breakdown; the clock is injected.
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
    ) -> None:
        self.keystore = keystore
        self.salt = salt
        self.verify = verify
        self._trusted = trusted_hash or self._latest_hash
        self._clock = clock
        self._lock = threading.Lock()  # one chain client may be shared with worker threads
        self.timings: list[tuple[str, float]] = []

    def _latest_hash(self) -> bytes:
        return bytes(self.keystore.chain.latest_block()["hash"])

    def lookup(self, name: str) -> IdentityPublicKey:
        start = self._clock()
        try:
            with self._lock:
                ident = identifier(name, self.salt)
                if self.verify:
                    rec = self.keystore.verified_lookup(ident, self._trusted())
                    if rec.status != APPROVED or rec.public_key is None:
                        raise ChainError(f"no approved key for {name} (status {rec.status})")
                    raw = rec.public_key
                else:
                    raw = self.keystore.lookup(ident)[0]
            return IdentityPublicKey.from_bytes(raw)
        finally:
            self.timings.append((name, self._clock() - start))
