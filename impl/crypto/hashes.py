"""Hashes, MACs, HKDF and constant-time comparison (hashlib/hmac, pyca HKDF, eth-hash)."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_hash.auto import keccak

from ethvoip.spec.errors import CryptoError


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (not SHA3-256: the padding differs)."""
    return keccak(data)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def hmac_sha1(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-1 (160 bits): the MAC SRTP and MIKEY specify (RFC 3711, RFC 3830)."""
    return hmac.new(key, data, hashlib.sha1).digest()


def ct_equal(a: bytes, b: bytes) -> bool:
    """Compare secrets (MACs, keys, nonces) in time independent of where they differ."""
    return hmac.compare_digest(a, b)


def hkdf_sha256(ikm: bytes, *, salt: bytes = b"", info: bytes = b"", length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869); an empty salt means HashLen zero bytes, as the RFC says."""
    if not 0 < length <= 255 * 32:
        raise CryptoError(f"HKDF output length {length} out of range")
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)
