"""Symmetric authenticated encryption: AES-256-GCM with a random nonce sent in front."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
