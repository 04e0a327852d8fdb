"""Symmetric authenticated encryption: AES-256-GCM with a random nonce sent in front, and
AEADs whose caller supplies the nonce (TLS 1.3 records)."""

from __future__ import annotations

from typing import Literal, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ethvoip.impl.crypto.rng import DEFAULT_RNG, Rng, take
from ethvoip.impl.crypto.sizes import AEAD_KEY_SIZE, AEAD_NONCE_SIZE, AEAD_TAG_SIZE, check_len
from ethvoip.spec.errors import DecryptFailed


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"", rng: Rng | None = None) -> bytes:
    """AES-256-GCM with a random 96-bit nonce: returns ``nonce || ciphertext || tag``."""
    check_len("AEAD key", key, AEAD_KEY_SIZE)
    nonce = take(rng or DEFAULT_RNG, AEAD_NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`aead_encrypt`; any tampering or wrong key raises :class:`CryptoError`."""
    check_len("AEAD key", key, AEAD_KEY_SIZE)
    if len(blob) < AEAD_NONCE_SIZE + AEAD_TAG_SIZE:
        raise DecryptFailed("AEAD ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:AEAD_NONCE_SIZE], blob[AEAD_NONCE_SIZE:], aad)
    except InvalidTag as exc:
        raise DecryptFailed("AEAD authentication failed") from exc


AeadName: TypeAlias = Literal["aes-gcm", "chacha20-poly1305"]
_AEADS: dict[AeadName, type[AESGCM] | type[ChaCha20Poly1305]] = {
    "aes-gcm": AESGCM,  # AES-128-GCM or AES-256-GCM, by the key's length
    "chacha20-poly1305": ChaCha20Poly1305,
}


class NonceAead:
    """An AEAD under one key with nonces the caller supplies and never repeats (a TLS 1.3
    record's nonce comes from its sequence number)."""

    __slots__ = ("_aead",)

    def __init__(self, algorithm: AeadName, key: bytes) -> None:
        self._aead = _AEADS[algorithm](key)

    def seal(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """``ciphertext || tag``."""
        return self._aead.encrypt(nonce, plaintext, aad)

    def open(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """The plaintext; a ciphertext that does not authenticate raises DecryptFailed."""
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise DecryptFailed("AEAD authentication failed") from exc
