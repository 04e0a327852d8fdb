"""A concrete Dolev-Yao network adversary for the handshakes (attack reproductions, replays).

The intruder sits on the network between role machines: it sees every record, may drop,
reorder or replay them, and may build new ones, but its cryptography is limited to what it
holds, exactly as in the model: it decrypts only with identity keys in its keyring, encrypts
to any public key (public keys are public), and signs only with keys it holds.  Whatever it
opens goes into :attr:`Intruder.learned` so a test can ask "does the intruder know Ks?".
"""

from __future__ import annotations

from collections.abc import Mapping

from ethvoip.impl import wire
from ethvoip.impl.crypto import (
    DEFAULT_RNG,
    IdentityKey,
    IdentityPublicKey,
    Rng,
    decrypt_with,
    encrypt_to,
)
from ethvoip.impl.wire import Record, Tag
from ethvoip.spec.errors import CryptoError, LocalProtocolError


class Intruder:
    """The network adversary with the identity keys ``keys`` (by agent name)."""

    def __init__(self, keys: Mapping[str, IdentityKey], rng: Rng = DEFAULT_RNG) -> None:
        self.keys = dict(keys)
        self.rng = rng
        self.learned: set[bytes] = set()

    def _key(self, name: str) -> IdentityKey:
        try:
            return self.keys[name]
        except KeyError:
            raise LocalProtocolError(f"the intruder holds no private key of {name!r}") from None

    def open(self, data: bytes, outer: Tag, inner: Tag, *, as_: str, field: str = "ct") -> Record:
        """Decrypt the ECIES ``field`` of an ``outer`` record with ``as_``'s key (if held)."""
        ct = wire.decode(data, outer)[field]
        body = wire.decode(decrypt_with(self._key(as_), ct, aad=wire.aad(outer)), inner)
        self.learned.update(body.values)
        return body

    def seal(self, outer: Tag, inner: bytes, to: IdentityPublicKey) -> bytes:
        """An ``outer`` record carrying ``inner`` encrypted to ``to`` (anyone can do this)."""
        return wire.encode(outer, encrypt_to(to, inner, aad=wire.aad(outer), rng=self.rng))

    def reseal(
        self, data: bytes, outer: Tag, inner: Tag, *, as_: str, to: IdentityPublicKey
    ) -> bytes:
        """Open a message meant for ``as_`` and re-encrypt the same plaintext to ``to``."""
        return self.seal(outer, self.open(data, outer, inner, as_=as_).encode(), to)

    def sign(self, as_: str, tag: bytes, message: bytes) -> bytes:
        """A signature by ``as_``: only possible with a key the intruder holds."""
        return self._key(as_).sign(tag, message)

    def try_open(self, data: bytes, outer: Tag, inner: Tag) -> Record | None:
        """Try every held key; ``None`` when none opens it (the Dolev-Yao "cannot decrypt")."""
        for name in self.keys:
            try:
                return self.open(data, outer, inner, as_=name)
            except CryptoError:
                continue
        return None
