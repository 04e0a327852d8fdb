"""The byte lengths of keys, digests, signatures and ciphertext parts, and the one check
that a value has its length (a :class:`DecodeError`, never a library exception)."""

from __future__ import annotations

from ethvoip.spec.errors import DecodeError

PUBLIC_KEY_SIZE = 64
PRIVATE_KEY_SIZE = 32
DIGEST_SIZE = 32
SIGNATURE_SIZE = 64
RECOVERABLE_SIGNATURE_SIZE = 65
ADDRESS_SIZE = 20
AEAD_KEY_SIZE = 32
AEAD_NONCE_SIZE = 12
AEAD_TAG_SIZE = 16
DH_PUBLIC_SIZE = 32


def check_len(what: str, data: bytes, size: int) -> None:
    if not isinstance(data, bytes | bytearray) or len(data) != size:
        n = len(data) if isinstance(data, bytes | bytearray) else type(data).__name__
        raise DecodeError(f"{what} must be {size} bytes, got {n}")
