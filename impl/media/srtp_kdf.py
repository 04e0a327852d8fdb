"""SRTP key derivation and AES-CM keystream (RFC 3711 sections 4.1.1 and 4.3), in Python.

libsrtp does the real packet work (:mod:`.srtp`); this module exists so that what libsrtp
does can be checked from the outside: the session keys derived here are compared with the
RFC 3711 Appendix B.3 vectors, and a packet libsrtp protected is re-derived byte for byte
from them in ``tests/media/test_srtp.py``.  Key derivation rate 0 (derive once) is what
AES_CM_128_HMAC_SHA1_80 uses in SDP/MIKEY by default; other rates are supported for the
vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ethvoip.spec.errors import LocalProtocolError

# Section 4.3.2 / 4.3.3 labels.
LABEL_RTP_ENCR, LABEL_RTP_AUTH, LABEL_RTP_SALT = 0, 1, 2
LABEL_RTCP_ENCR, LABEL_RTCP_AUTH, LABEL_RTCP_SALT = 3, 4, 5

MASTER_KEY_LEN, MASTER_SALT_LEN = 16, 14
SESSION_AUTH_LEN = 20  # HMAC-SHA1 key, 160 bits


def aes_cm(key: bytes, iv: bytes, nbytes: int) -> bytes:
    """AES in counter mode from a 128-bit IV, incremented mod 2**128 (section 4.1.1)."""
    if len(iv) != 16:
        raise LocalProtocolError("AES-CM IV is 128 bits")
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(bytes(nbytes)) + enc.finalize()


def derive(
    master_key: bytes, master_salt: bytes, label: int, length: int, index: int = 0, kdr: int = 0
) -> bytes:
    """Section 4.3.1: ``x = (label || index DIV kdr) XOR master_salt``; keystream at ``x*2^16``."""
    if len(master_key) != MASTER_KEY_LEN or len(master_salt) != MASTER_SALT_LEN:
        raise LocalProtocolError("SRTP master key/salt must be 16/14 bytes")
    r = 0 if kdr == 0 else index // kdr
    key_id = (label << 48) | (r & (1 << 48) - 1)  # 8-bit label || 48-bit r
    x = key_id ^ int.from_bytes(master_salt, "big")
    return aes_cm(master_key, (x << 16).to_bytes(16, "big"), length)


@dataclass(frozen=True)
class SessionKeys:
    """One direction's session keys (SRTP or SRTCP)."""

    encr: bytes
    auth: bytes
    salt: bytes


def session_keys(master_key: bytes, master_salt: bytes, rtcp: bool = False) -> SessionKeys:
    base = LABEL_RTCP_ENCR if rtcp else LABEL_RTP_ENCR
    return SessionKeys(
        encr=derive(master_key, master_salt, base, 16),
        auth=derive(master_key, master_salt, base + 1, SESSION_AUTH_LEN),
        salt=derive(master_key, master_salt, base + 2, 14),
    )


def packet_iv(session_salt: bytes, ssrc: int, index: int) -> bytes:
    """Section 4.1.1: ``IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16)``."""
    iv = (int.from_bytes(session_salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    return iv.to_bytes(16, "big")
