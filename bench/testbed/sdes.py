"""SDP Security Descriptions (RFC 4568): the ``a=crypto:`` attribute, strictly.

The baseline secure call of the benchmark (certificate TLS for SIP, SRTP keys in the SDP in
clear inside it) carries its keys this way, as deployed SIP phones do.  Grammar (section 9.1
and the SRTP key-info of section 6.1)::

    crypto       = tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param)
    tag          = 1*9DIGIT
    key-params   = key-param *(";" key-param)
    key-param    = "inline:" key-salt ["|" lifetime] ["|" mki]
    lifetime     = ["2^"] 1*DIGIT          ; at most 2^48 packets for SRTP
    mki          = mki-value ":" mki-length ; length 1..128 bytes

Strict means: the suite must be one whose key and salt lengths we know, ``key-salt`` must be
canonical base64 of exactly that many bytes, a lifetime above 2^48 or an MKI value that does
not fit its length is refused, two or more keys must all carry an MKI (section 6.1), and a
session parameter must be one that RFC 4568 section 6.3 defines, with a valid value.  Every
refusal is a :class:`DecodeError`.  :func:`encode_crypto` writes single spaces; decoding and
re-encoding a value we wrote gives the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ethvoip.impl.call.keying import SDES_ATTRIBUTE
from ethvoip.spec.errors import (
    Check,
    DecodeError,
    LocalProtocolError,
    PeerRefused,
)

ATTRIBUTE = SDES_ATTRIBUTE  # where keying puts the value in the SDP
# suite -> key || salt length (RFC 4568 section 6.2)
SUITES = {
    "AES_CM_128_HMAC_SHA1_80": 30,
    "AES_CM_128_HMAC_SHA1_32": 30,
    "F8_128_HMAC_SHA1_80": 30,
}
MAX_LIFETIME = 1 << 48
_DIGITS = re.compile(r"[0-9]{1,20}")
_FLAGS = {"UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP"}
_FEC_ORDER = {"FEC_SRTP", "SRTP_FEC"}


@dataclass(frozen=True)
class KeyParam:
    """One ``inline:`` key: master key || salt, optional lifetime text and MKI."""

    key_salt: bytes
    lifetime: str | None = None  # as written: "2^20" or "1048576"
    mki: tuple[int, int] | None = None  # (value, length in bytes)

    @property
    def lifetime_packets(self) -> int | None:
        if self.lifetime is None:
            return None
        if self.lifetime.startswith("2^"):
            return 1 << int(self.lifetime[2:])
        return int(self.lifetime)


@dataclass(frozen=True)
class CryptoAttribute:
    """The value of one ``a=crypto:`` line."""

    tag: int
    suite: str
    keys: tuple[KeyParam, ...]
    session_params: tuple[str, ...] = ()


def _number(text: str, what: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise DecodeError(f"SDES: {what} must be decimal digits, got {text!r}")
    return int(text)


def _lifetime(text: str) -> str:
    exponent = text[2:] if text.startswith("2^") else None
    value = (
        1 << _number(exponent, "lifetime") if exponent is not None else _number(text, "lifetime")
    )
    if not 0 < value <= MAX_LIFETIME:
        raise DecodeError(f"SDES: lifetime {text} outside 1..2^48 packets")
    return text


def _mki(text: str) -> tuple[int, int]:
    value, sep, length = text.partition(":")
    if not sep or len(length) > 3:
        raise DecodeError(f"SDES: MKI {text!r} is not value:length")
    v, n = _number(value, "MKI value"), _number(length, "MKI length")
    if not 1 <= n <= 128 or v >= 1 << (8 * n):
        raise DecodeError(f"SDES: MKI value {v} does not fit {n} bytes (1..128)")
    return v, n


def _key_param(text: str, key_len: int) -> KeyParam:
    method, sep, info = text.partition(":")
    if method != "inline" or not sep:
        raise DecodeError(f"SDES: key method must be inline, got {method!r}")
    parts = info.split("|")
    if len(parts) > 3:
        raise DecodeError("SDES: too many '|' fields in the key")
    try:
        key_salt = base64.b64decode(parts[0], validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError("SDES: key-salt is not base64") from None
    if len(key_salt) != key_len or base64.b64encode(key_salt).decode() != parts[0]:
        raise DecodeError(f"SDES: key-salt must be canonical base64 of {key_len} bytes")
    lifetime, mki = None, None
    rest = parts[1:]
    if rest and ":" not in rest[0]:
        lifetime = _lifetime(rest.pop(0))
    if rest:
        mki = _mki(rest.pop(0))
    if rest:
        raise DecodeError("SDES: a lifetime after the MKI")
    return KeyParam(key_salt, lifetime, mki)


def _session_param(p: str) -> str:
    name, eq, value = p.partition("=")
    ok = (
        (not eq and p in _FLAGS)
        or (name == "KDR" and eq and _DIGITS.fullmatch(value) and int(value) <= 24)
        or (name == "FEC_ORDER" and value in _FEC_ORDER)
        or (name == "WSH" and eq and _DIGITS.fullmatch(value) and int(value) >= 64)
        or (name == "FEC_KEY" and eq and bool(value))
    )
    if not ok:
        raise DecodeError(f"SDES: unknown or malformed session parameter {p!r}")
    return p


def decode_crypto(value: str) -> CryptoAttribute:
    """Parse the value of an ``a=crypto:`` attribute (without ``crypto:``)."""
    if any(not (0x21 <= ord(c) <= 0x7E or c in " \t") for c in value):
        raise DecodeError("SDES: characters outside visible ASCII")
    fields = value.split()
    if len(fields) < 3 or value != value.strip():
        raise DecodeError("SDES: want tag, crypto-suite and key-params")
    tag_text, suite, key_text, *session = fields
    if not re.fullmatch(r"[0-9]{1,9}", tag_text):
        raise DecodeError(f"SDES: tag must be 1 to 9 digits, got {tag_text!r}")
    key_len = SUITES.get(suite)
    if key_len is None:
        raise DecodeError(f"SDES: unsupported crypto-suite {suite!r}")
    keys = tuple(_key_param(k, key_len) for k in key_text.split(";"))
    if len(keys) > 1 and any(k.mki is None for k in keys):
        raise DecodeError("SDES: several keys need an MKI each")
    return CryptoAttribute(int(tag_text), suite, keys, tuple(_session_param(p) for p in session))


def encode_crypto(attr: CryptoAttribute) -> str:
    """The attribute value, single-spaced (checked by decoding it back)."""
    keys = []
    for k in attr.keys:
        text = "inline:" + base64.b64encode(k.key_salt).decode()
        if k.lifetime is not None:
            text += "|" + k.lifetime
        if k.mki is not None:
            text += f"|{k.mki[0]}:{k.mki[1]}"
        keys.append(text)
    value = " ".join([str(attr.tag), attr.suite, ";".join(keys), *attr.session_params])
    try:
        decode_crypto(value)
    except DecodeError as exc:
        raise LocalProtocolError(f"refusing to encode an invalid crypto attribute: {exc}") from exc
    return value


def offer(key_salt: bytes, tag: int = 1) -> str:
    """The one-key AES_CM_128_HMAC_SHA1_80 attribute value this project sends."""
    return encode_crypto(CryptoAttribute(tag, "AES_CM_128_HMAC_SHA1_80", (KeyParam(key_salt),)))


def srtp_master(attr: CryptoAttribute) -> bytes:
    """The 30-byte SRTP master key || salt to use, refusing what our SRTP does not do."""
    if attr.suite != "AES_CM_128_HMAC_SHA1_80":
        raise PeerRefused(
            f"SDES: we only run AES_CM_128_HMAC_SHA1_80, not {attr.suite}",
            check=Check.ALGORITHM,
        )
    if len(attr.keys) != 1 or attr.keys[0].mki is not None or attr.session_params:
        raise PeerRefused(
            "SDES: MKI and session parameters are not supported", check=Check.ALGORITHM
        )
    return attr.keys[0].key_salt
