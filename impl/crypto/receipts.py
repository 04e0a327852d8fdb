"""RSA PKCS#1 v1.5 / SHA-256 signatures on app-store purchase receipts (what Google Play
signs in-app purchase data with)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ethvoip.spec.errors import CryptoError, SignatureInvalid


def load_rsa_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo); anything else raises CryptoError."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise CryptoError("the key is not an RSA key")
    return key


def rsa_receipt_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """RSA PKCS#1 v1.5 signature with SHA-256 over ``data`` (RFC 8017 section 8.2)."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def rsa_receipt_verify(key: rsa.RSAPublicKey, data: bytes, signature: bytes) -> None:
    """Check a :func:`rsa_receipt_sign` signature; a bad one raises :class:`CryptoError`."""
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureInvalid("RSA signature does not verify under this key") from exc
