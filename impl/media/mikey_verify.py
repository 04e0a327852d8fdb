"""MIKEY verification message (R_MESSAGE, RFC 3830 section 3.2): mutual authentication.

In public-key mode the I_MESSAGE authenticates the initiator (SIGNi); when its HDR sets the V
flag, the responder answers ``R_MESSAGE = HDR, T, [IDr], V``, and V's MAC proves it opened the
envelope key, so it holds the responder's private key (RFC 3830 section 3.2).

* HDR: data type 3 (public-key verification message), the I_MESSAGE's CSB ID and crypto
  session map, V flag 0, PRF MIKEY-1;
* T: the responder's NTP-UTC time; IDr: the responder's URI;
* V (section 6.9): MAC alg HMAC-SHA-1-160 and the 160-bit MAC, keyed with the ``auth_key``
  derived from the envelope key with the I_MESSAGE's CSB ID and RAND (section 4.1.4, the
  same key as the KEMAC's MAC);
* MAC input (section 5.2, our reading): the R_MESSAGE up to, not including, the MAC field,
  then the identities (values, not payloads) IDi and IDr, then the initiator's timestamp
  (the 8-byte NTP value of the I_MESSAGE's T), so the answer is bound to that offer.

The initiator refuses an R_MESSAGE that is not canonical, not of this CSB, names another
responder, is outside the freshness window, or whose MAC does not verify (constant time).
Independent check: tshark dissects what :func:`build_r_message` writes
(``tests/media/test_tshark.py``); the MAC itself has no public vector (RFC 3830 gives none).
"""

from __future__ import annotations

from ethvoip.impl.crypto import ct_equal, hmac_sha1
from ethvoip.spec.errors import Check, CryptoRefused, DecodeError, MacInvalid, Stale

from .mikey import (
    CryptoSession,
    DataType,
    Header,
    Identity,
    IdType,
    MacAlg,
    MikeyMessage,
    Timestamp,
    TsType,
    Verification,
    decode_strict,
    encode_message,
)
from .mikey_kdf import derive_envelope_keys
from .mikey_replay import ntp_to_unix, unix_to_ntp

V_MAC_LEN = 20


def _mac(auth_key: bytes, unsigned: bytes, id_i: bytes, id_r: bytes, t_i: int) -> bytes:
    data = unsigned + id_i + id_r + t_i.to_bytes(8, "big")
    return hmac_sha1(auth_key, data)


def build_r_message(
    *,
    env_key: bytes,
    csb_id: int,
    rand: bytes,
    crypto_sessions: tuple[CryptoSession, ...],
    id_i: bytes,
    id_r: bytes,
    t_i: int,
    now: float,
) -> bytes:
    """The responder's R_MESSAGE for the I_MESSAGE with these values (see the docstring)."""
    auth_key = derive_envelope_keys(env_key, csb_id, rand).auth
    header = Header(DataType.PK_VERIFY, csb_id, crypto_sessions)
    body = (
        Timestamp(TsType.NTP_UTC, unix_to_ntp(now)),
        Identity(IdType.URI, id_r),
        Verification(MacAlg.HMAC_SHA1_160, bytes(V_MAC_LEN)),
    )
    unsigned = encode_message(MikeyMessage(header, body))[:-V_MAC_LEN]
    return unsigned + _mac(auth_key, unsigned, id_i, id_r, t_i)


def verify_r_message(
    data: bytes,
    *,
    env_key: bytes,
    csb_id: int,
    rand: bytes,
    id_i: bytes,
    id_r: bytes,
    t_i: int,
    now: float,
    window: float,
) -> None:
    """Check an R_MESSAGE against the initiator's own values; raise a typed error if bad."""
    msg = decode_strict(data, DataType.PK_VERIFY, "R_MESSAGE")
    ps = list(msg.payloads)
    if not (
        len(ps) in (2, 3)
        and isinstance(ps[0], Timestamp)
        and isinstance(ps[-1], Verification)
        and all(isinstance(p, Identity) for p in ps[1:-1])
    ):
        raise DecodeError("MIKEY: not an R_MESSAGE (want T [IDr] V)")
    t, v = ps[0], ps[-1]
    assert isinstance(t, Timestamp) and isinstance(v, Verification)
    if msg.header.csb_id != csb_id:
        raise CryptoRefused(
            "MIKEY: R_MESSAGE for another crypto session bundle", check=Check.NONCE_MATCH
        )
    if len(ps) == 3 and isinstance(ps[1], Identity) and ps[1].data != id_r:
        raise CryptoRefused(
            "MIKEY: R_MESSAGE names another responder", check=Check.IDENTITY_BINDING
        )
    if t.ts_type is not TsType.NTP_UTC or abs(ntp_to_unix(t.value) - now) > window:
        raise Stale("MIKEY: R_MESSAGE timestamp outside the window")
    if v.mac_alg is not MacAlg.HMAC_SHA1_160:
        raise DecodeError("MIKEY: R_MESSAGE MAC must be HMAC-SHA-1-160")
    auth_key = derive_envelope_keys(env_key, csb_id, rand).auth
    want = _mac(auth_key, bytes(data[:-V_MAC_LEN]), id_i, id_r, t_i)
    if not ct_equal(want, v.mac):
        raise MacInvalid("MIKEY: R_MESSAGE MAC does not verify")
