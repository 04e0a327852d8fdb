"""The paper's key transport as published (Fig. 8): ``a=k:<hex of the encrypted master key>``.

The caller encrypts the SRTP master key and salt (30 bytes, key || salt as in SDES) with the
callee's public key and puts the hex of the ciphertext in an SDP attribute named ``k``.  There
is no timestamp, no nonce, no identity and no signature: anyone who knows the callee's public
key can make a valid ``a=k:`` (the key-substitution attack of docs/attacks).  Kept because the
paper's system must work as described; the hardened variant is MIKEY (:mod:`.mikey_pk`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ethvoip.spec.errors import DecodeError, DecryptFailed, EthVoipError

ATTRIBUTE = "k"
MASTER_LEN = 30  # 16-byte AES-128 master key || 14-byte master salt
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


def encode_bare_key(master: bytes, encrypt: Callable[[bytes], bytes]) -> str:
    """Attribute value for ``a=k:``: upper-case hex, as the paper's capture shows."""
    return encrypt(master).hex().upper()


def decode_bare_key(
    value: str, decrypt: Callable[[bytes], bytes], expected_len: int = MASTER_LEN
) -> bytes:
    """Open an ``a=k:`` value; raises DecodeError (not hex, wrong length) or CryptoError."""
    if not _HEX.fullmatch(value):
        raise DecodeError("a=k: value is not an even-length hex string")
    try:
        master = decrypt(bytes.fromhex(value))
    except EthVoipError:
        raise
    except Exception as exc:  # the plugged-in primitive's own error type
        raise DecryptFailed(f"a=k: decryption failed: {exc}") from exc
    if len(master) != expected_len:
        raise DecodeError(f"a=k: key is {len(master)} bytes, want {expected_len}")
    return master
