"""SRTP key derivation and AES-CM (RFC 3711 sections 4.1.1 and 4.3), and the key set SRTP and
MIKEY both derive.

libsrtp does the real packet work (:mod:`.srtp`); the session keys derived here are compared
with the RFC 3711 Appendix B.3 vectors, and a packet libsrtp protected is re-derived byte for
byte from them in ``tests/media/test_srtp.py``, so that what libsrtp does is checked from the
outside.  Key derivation rate 0 (derive once) is what AES_CM_128_HMAC_SHA1_80 uses in
SDP/MIKEY by default; other rates are supported for the vectors.

MIKEY (:mod:`.mikey_kdf`, :mod:`.mikey_pk`) reuses two pieces, as RFC 3830 does: AES-CM with
its salted IV (section 4.2.3 of RFC 3830 encrypts the KEMAC key data "as in SRTP"), and the
:class:`KeySet` of an encryption key, an authentication key and a salt, one labelled PRF call
each (:func:`derive_key_set`): SRTP's PRF is AES-CM under the master key, MIKEY's is P-SHA1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ethvoip.impl.crypto import aes_ctr
from ethvoip.spec.errors import LocalProtocolError

# Section 4.3.2 / 4.3.3 labels.
LABEL_RTP_ENCR, LABEL_RTP_AUTH, LABEL_RTP_SALT = 0, 1, 2
LABEL_RTCP_ENCR, LABEL_RTCP_AUTH, LABEL_RTCP_SALT = 3, 4, 5

MASTER_KEY_LEN, MASTER_SALT_LEN = 16, 14
SESSION_ENCR_LEN = 16  # AES-CM-128 key
SESSION_AUTH_LEN = 20  # HMAC-SHA1 key, 160 bits
SESSION_SALT_LEN = 14  # 112-bit salt

Label = TypeVar("Label")


def aes_cm(key: bytes, iv: bytes, nbytes: int) -> bytes:
    """AES in counter mode from a 128-bit IV, incremented mod 2**128 (section 4.1.1)."""
    if len(iv) != 16:
        raise LocalProtocolError("AES-CM IV is 128 bits")
    return aes_ctr(key, iv, bytes(nbytes))


def aes_cm_iv(salt: bytes, x: int) -> bytes:
    """The 128-bit AES-CM IV ``(salt XOR x) * 2^16`` of a 112-bit ``salt`` (section 4.1.1).

    Both sizes are refused rather than padded or truncated: a wrong-sized salt (SRTP's
    master salt, MIKEY's KEMAC salt) would silently give another IV, and an ``x`` wider than
    112 bits would spill into the block counter."""
    if len(salt) != MASTER_SALT_LEN:
        raise LocalProtocolError(f"AES-CM salt is 112 bits, not {8 * len(salt)}")
    if not 0 <= x < 1 << 112:
        raise LocalProtocolError("AES-CM IV input wider than 112 bits")
    return ((int.from_bytes(salt, "big") ^ x) << 16).to_bytes(16, "big")


def derive(
    master_key: bytes, master_salt: bytes, label: int, length: int, index: int = 0, kdr: int = 0
) -> bytes:
    """Section 4.3.1: ``x = (label || index DIV kdr) XOR master_salt``; keystream at ``x*2^16``."""
    if len(master_key) != MASTER_KEY_LEN or len(master_salt) != MASTER_SALT_LEN:
        raise LocalProtocolError("SRTP master key/salt must be 16/14 bytes")
    r = 0 if kdr == 0 else index // kdr
    key_id = (label << 48) | (r & (1 << 48) - 1)  # 8-bit label || 48-bit r
    return aes_cm(master_key, aes_cm_iv(master_salt, key_id), length)


@dataclass(frozen=True)
class KeySet:
    """An encryption key, an authentication key and a salt: one direction's SRTP or SRTCP
    session keys, or the keys that protect a MIKEY KEMAC payload."""

    encr: bytes
    auth: bytes
    salt: bytes


def derive_key_set(
    prf: Callable[[Label, int], bytes], encr: Label, auth: Label, salt: Label
) -> KeySet:
    """The three keys, each ``prf(its label, its length)``: AES-CM-128, HMAC-SHA1, 112 bits."""
    return KeySet(
        encr=prf(encr, SESSION_ENCR_LEN),
        auth=prf(auth, SESSION_AUTH_LEN),
        salt=prf(salt, SESSION_SALT_LEN),
    )


def session_keys(master_key: bytes, master_salt: bytes, rtcp: bool = False) -> KeySet:
    base = LABEL_RTCP_ENCR if rtcp else LABEL_RTP_ENCR
    return derive_key_set(
        lambda label, length: derive(master_key, master_salt, label, length),
        base,
        base + 1,
        base + 2,
    )


def packet_iv(session_salt: bytes, ssrc: int, index: int) -> bytes:
    """Section 4.1.1: ``IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16)``."""
    return aes_cm_iv(session_salt, (ssrc << 48) ^ index)
