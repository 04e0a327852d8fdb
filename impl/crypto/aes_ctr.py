"""AES in counter mode, unauthenticated: the AES-CM of SRTP (RFC 3711 section 4.1.1) and of
MIKEY's KEMAC key data (RFC 3830 section 4.2.3), whose protocols add their own MAC."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """``data`` XOR the AES keystream from the 128-bit counter ``iv`` (incremented mod 2**128)."""
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(data) + enc.finalize()
