"""RSA PKCS#1 v1.5 / SHA-256 signatures on app-store purchase receipts (what Google Play
signs in-app purchase data with)."""

from __future__ import annotations

from typing import TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ethvoip.spec.errors import CryptoError, SignatureInvalid

#: The key types, for annotations elsewhere (which then need not import pyca).
RsaPrivateKey: TypeAlias = rsa.RSAPrivateKey
RsaPublicKey: TypeAlias = rsa.RSAPublicKey


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


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A new 2048-bit RSA key with exponent 65537 (a test store's signing key)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_public_pem(key: rsa.RSAPublicKey) -> bytes:
    """``key`` as PEM (SubjectPublicKeyInfo), what :func:`load_rsa_public_key` reads."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rsa_private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM, what :func:`load_rsa_private_key` reads."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_rsa_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """An RSA private key from unencrypted PEM; a key of another type raises CryptoError.

    Bytes that are no PEM key at all raise pyca's ``ValueError``: this reads the operator's
    own key file at start-up, never input from the network.
    """
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoError("the key is not an RSA key")
    return key
