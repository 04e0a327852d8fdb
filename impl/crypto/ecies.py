"""ECIES: encryption to an identity key (ephemeral secp256k1 ECDH, HKDF-SHA256 bound to
both public keys, AES-256-GCM with the nonce derived, not sent)."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ethvoip.impl.crypto.hashes import hkdf_sha256
from ethvoip.impl.crypto.identity import IdentityKey, IdentityPublicKey
from ethvoip.impl.crypto.rng import Rng
from ethvoip.impl.crypto.sizes import AEAD_TAG_SIZE, PUBLIC_KEY_SIZE
from ethvoip.spec.errors import DecodeError, DecryptFailed

_ECIES_INFO = b"ethvoip/ecies/v1\x00"
#: bytes ECIES adds to a plaintext: ephemeral public key and GCM tag (the nonce is derived)
ECIES_OVERHEAD = PUBLIC_KEY_SIZE + AEAD_TAG_SIZE


def _ecies_keys(shared: bytes, eph: bytes, recipient: bytes) -> tuple[bytes, bytes]:
    # Both public keys in the KDF info: a ciphertext is bound to who it was made for, so
    # it cannot be re-targeted by swapping the ephemeral key (KEM/DEM binding).
    okm = hkdf_sha256(shared, info=_ECIES_INFO + eph + recipient, length=44)
    return okm[:32], okm[32:]


def encrypt_to(
    recipient: IdentityPublicKey, plaintext: bytes, aad: bytes = b"", rng: Rng | None = None
) -> bytes:
    """ECIES: ``eph_pub(64) || AES-256-GCM(k, plaintext, aad)``; only ``recipient`` opens it.

    The key and nonce come from HKDF over a fresh ephemeral ECDH, so the nonce never repeats
    under one key and need not be sent.
    """
    eph = IdentityKey.generate(rng)
    eph_pub = eph.public_key.to_bytes()
    key, nonce = _ecies_keys(eph.exchange(recipient), eph_pub, recipient.to_bytes())
    return eph_pub + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt_with(key: IdentityKey, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """Open an :func:`encrypt_to` ciphertext; every failure raises :class:`CryptoError`."""
    if len(ciphertext) < ECIES_OVERHEAD:
        raise DecryptFailed("ECIES ciphertext too short")
    try:
        eph = IdentityPublicKey.from_bytes(ciphertext[:PUBLIC_KEY_SIZE])
    except DecodeError as exc:  # pragma: no cover - length checked above
        raise DecryptFailed(str(exc)) from exc
    k, nonce = _ecies_keys(key.exchange(eph), eph.to_bytes(), key.public_key.to_bytes())
    try:
        return AESGCM(k).decrypt(nonce, ciphertext[PUBLIC_KEY_SIZE:], aad)
    except InvalidTag as exc:
        raise DecryptFailed("ECIES decryption failed (wrong key or tampered)") from exc
