"""Hashes, MACs, key derivation and constant-time comparison (hashlib/hmac, pyca HKDF,
eth-hash)."""

from __future__ import annotations

import hashlib
import hmac
from typing import AnyStr, Literal, TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

# pysha3 (C) rather than eth_hash.auto (pycryptodome here): a quarter of the cost per
# short input, and a light-client look-up hashes a dozen times.  Same function.
from eth_hash.backends.pysha3 import keccak256 as _keccak

from ethvoip.spec.errors import CryptoError

HashName: TypeAlias = Literal["sha256", "sha384"]
#: output bytes of each hash :func:`hkdf_expand` takes
HASH_SIZES: dict[HashName, int] = {"sha256": 32, "sha384": 48}
_HASHES: dict[HashName, type[hashes.SHA256] | type[hashes.SHA384]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
}


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (not SHA3-256: the padding differs)."""
    return _keccak(data)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def md5(data: bytes) -> bytes:
    """MD5, only where a protocol still names it (SIP digest's HA1, RFC 2617): not for security."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def hmac_sha1(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-1 (160 bits): the MAC SRTP and MIKEY specify (RFC 3711, RFC 3830)."""
    return hmac.new(key, data, hashlib.sha1).digest()


def ct_equal(a: AnyStr, b: AnyStr) -> bool:
    """Compare secrets (MACs, keys, nonces) in time independent of where they differ (bytes,
    or text such as a hex digest).  Text is compared as UTF-8: ``hmac.compare_digest`` raises
    ``TypeError`` on non-ASCII ``str``, and the text here often comes from a peer (a SIP
    Digest ``response=``), which must get a refusal, never an exception out of the parser."""
    if isinstance(a, str) and isinstance(b, str):
        return hmac.compare_digest(a.encode(), b.encode())
    return hmac.compare_digest(a, b)


def hkdf_sha256(ikm: bytes, *, salt: bytes = b"", info: bytes = b"", length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869); an empty salt means HashLen zero bytes, as the RFC says."""
    if not 0 < length <= 255 * 32:
        raise CryptoError(f"HKDF output length {length} out of range")
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)


def hkdf_expand(hash_name: HashName, secret: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand alone (RFC 5869 section 2.3), for secrets already pseudorandom (TLS 1.3's
    traffic secrets, RFC 8446 section 7.1)."""
    return HKDFExpand(_HASHES[hash_name](), length, info).derive(secret)


def scrypt(secret: bytes, *, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    """scrypt (RFC 7914), memory bounded to 64 MiB (128 * r * n bytes must fit)."""
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=length)
