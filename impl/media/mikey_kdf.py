"""MIKEY key derivation (RFC 3830 section 4.1): the PRF built from P_SHA1, and its labels.

``prf`` is RFC 3830 section 4.1.2.  Two uses of it matter here:

* section 4.1.3, keys from the TGK (the SRTP master key and salt):
  ``label = constant || cs_id || csb_id || RAND``;
* section 4.1.4, keys from the envelope key (public-key mode) or a pre-shared key, which
  protect the KEMAC payload itself: ``label = constant || 0xFF || csb_id || RAND``.

RFC 3830 publishes no test vectors for this PRF; ``tests/media/test_mikey_kdf.py`` checks it
against a second derivation written independently (see there).
"""

from __future__ import annotations

from ethvoip.impl.crypto import hmac_sha1
from ethvoip.spec.errors import CryptoError

from .srtp_kdf import KeySet, derive_key_set

# Section 4.1.3: constants for keys derived from a TGK (nine-digit chunks of e's expansion).
TEK_CONST = 0x2AD01C64
TEK_AUTH_CONST = 0x1B5C7973
TEK_ENCR_CONST = 0x15798CEF
TEK_SALT_CONST = 0x39A2C14B
# Section 4.1.4: constants for keys derived from the envelope key / pre-shared key.
ENV_ENCR_CONST = 0x150533E1
ENV_AUTH_CONST = 0x2D22AC75
ENV_SALT_CONST = 0x29B88916

_SLICE = 32  # the PRF splits its input key into 256-bit pieces
_HMAC_LEN = 20  # SHA-1 output, 160 bits


def p_sha1(s: bytes, label: bytes, m: int) -> bytes:
    """``P(s, label, m)``: m HMAC-SHA1 blocks chained through ``A_i = HMAC(s, A_{i-1})``."""
    out = bytearray()
    a = label
    for _ in range(m):
        a = hmac_sha1(s, a)
        out += hmac_sha1(s, a + label)
    return bytes(out)


def prf(inkey: bytes, label: bytes, outkey_len: int) -> bytes:
    """RFC 3830 PRF: XOR of ``P(s_i, label, m)`` over the 256-bit pieces of ``inkey``.

    ``outkey_len`` is in bytes (every key MIKEY derives for SRTP is a whole number of bytes).
    """
    if not inkey:
        raise CryptoError("MIKEY PRF: empty input key")
    if outkey_len <= 0:
        raise CryptoError("MIKEY PRF: output length must be positive")
    m = -(-outkey_len // _HMAC_LEN)
    acc = bytearray(m * _HMAC_LEN)
    for start in range(0, len(inkey), _SLICE):
        block = p_sha1(inkey[start : start + _SLICE], label, m)
        for i, b in enumerate(block):
            acc[i] ^= b
    return bytes(acc[:outkey_len])


def tgk_label(constant: int, cs_id: int, csb_id: int, rand: bytes) -> bytes:
    """Section 4.1.3 label: ``constant || cs_id || csb_id || RAND``."""
    return constant.to_bytes(4, "big") + bytes([cs_id]) + csb_id.to_bytes(4, "big") + rand


def envelope_label(constant: int, csb_id: int, rand: bytes) -> bytes:
    """Section 4.1.4 label: ``constant || 0xFF || csb_id || RAND`` (0xFF: no one CS)."""
    return tgk_label(constant, 0xFF, csb_id, rand)


def derive_envelope_keys(env_key: bytes, csb_id: int, rand: bytes) -> KeySet:
    """The KEMAC encryption, authentication and salting keys from the envelope key: the
    AES-CM-128 key for the encrypted key data, the HMAC-SHA-1-160 key for the KEMAC MAC, and
    the 112-bit salt for the AES-CM IV (section 4.2.3)."""
    return derive_key_set(
        lambda constant, length: prf(env_key, envelope_label(constant, csb_id, rand), length),
        ENV_ENCR_CONST,
        ENV_AUTH_CONST,
        ENV_SALT_CONST,
    )


def derive_srtp_master(
    tgk: bytes, cs_id: int, csb_id: int, rand: bytes, key_len: int = 16, salt_len: int = 14
) -> tuple[bytes, bytes]:
    """SRTP master key and master salt for crypto session ``cs_id`` (section 4.1.3, 4.2.7)."""
    key = prf(tgk, tgk_label(TEK_CONST, cs_id, csb_id, rand), key_len)
    salt = prf(tgk, tgk_label(TEK_SALT_CONST, cs_id, csb_id, rand), salt_len)
    return key, salt
