"""X25519 ephemeral Diffie-Hellman (RFC 7748), for Station-to-Station."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import x25519

from ethvoip.impl.crypto.hashes import ct_equal
from ethvoip.impl.crypto.rng import DEFAULT_RNG, Rng, take
from ethvoip.impl.crypto.sizes import DH_PUBLIC_SIZE, check_len
from ethvoip.spec.errors import KeyInvalid


class DhKey:
    """An ephemeral X25519 key pair for one Diffie-Hellman exchange (RFC 7748)."""

    __slots__ = ("_key", "public_bytes")

    def __init__(self, key: x25519.X25519PrivateKey) -> None:
        self._key = key
        self.public_bytes: bytes = key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls, rng: Rng | None = None) -> DhKey:
        return cls.from_private_bytes(take(rng or DEFAULT_RNG, 32))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> DhKey:
        check_len("X25519 private key", data, 32)
        return cls(x25519.X25519PrivateKey.from_private_bytes(bytes(data)))

    def private_bytes(self) -> bytes:
        return self._key.private_bytes_raw()

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with ``peer_public``; a low-order peer value raises CryptoError."""
        check_len("X25519 public key", peer_public, DH_PUBLIC_SIZE)
        try:
            peer = x25519.X25519PublicKey.from_public_bytes(bytes(peer_public))
            shared = self._key.exchange(peer)
        except ValueError as exc:  # OpenSSL refuses an all-zero result (low-order point)
            raise KeyInvalid("X25519 exchange with a low-order point") from exc
        if ct_equal(shared, bytes(32)):  # pragma: no cover - OpenSSL already refuses it
            raise KeyInvalid("X25519 exchange produced the all-zero secret")
        return shared

    def __repr__(self) -> str:
        return f"DhKey(public={self.public_bytes.hex()})"
