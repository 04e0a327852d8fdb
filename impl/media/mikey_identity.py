"""The PKE and SIGN callables of :mod:`.mikey_pk`, made from ethvoip's secp256k1 identity keys.

RFC 3830 public-key mode names RSA; ethvoip subscribers hold secp256k1 keys (their Ethereum
accounts), so the envelope key is sealed with :func:`ethvoip.impl.crypto.encrypt_to` (ECIES:
ephemeral ECDH, HKDF-SHA256, AES-256-GCM) and the initiator signs with
:meth:`IdentityKey.sign` (ECDSA-SHA256, 64 bytes ``r || s``, low ``s``).  Both use a domain
tag of their own so that neither can be replayed into another ethvoip protocol.
"""

from __future__ import annotations

from collections.abc import Callable

from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, Rng, decrypt_with, encrypt_to

from .mikey_pk import DecryptEnvelope, EncryptEnvelope, SignFn, VerifyFn

PKE_AAD = b"ethvoip/mikey/PKE/v1"
SIGN_TAG = b"ethvoip/mikey/SIGNi/v1"
SIG_LEN = 64  # r || s


def ecies_envelope(responder: IdentityPublicKey, rng: Rng | None = None) -> EncryptEnvelope:
    """PKE for the initiator: seal the envelope key to the responder's identity key."""
    return lambda env_key: encrypt_to(responder, env_key, PKE_AAD, rng)


def ecies_open(own_key: IdentityKey) -> DecryptEnvelope:
    """PKE for the responder: open the envelope key with its own identity key."""
    return lambda data: decrypt_with(own_key, data, PKE_AAD)


def ecdsa_signer(own_key: IdentityKey) -> SignFn:
    """SIGNi for the initiator (:data:`SIG_LEN` bytes)."""
    return lambda data: own_key.sign(SIGN_TAG, data)


def ecdsa_verifier(lookup: Callable[[bytes | None], IdentityPublicKey]) -> VerifyFn:
    """SIGNi check for the responder: ``lookup(IDi)`` returns the initiator's public key
    (from the key store); it raises if the identity is unknown."""

    def verify(id_i: bytes | None, data: bytes, signature: bytes) -> bool:
        lookup(id_i).verify(SIGN_TAG, data, signature)  # raises CryptoError if bad
        return True

    return verify
