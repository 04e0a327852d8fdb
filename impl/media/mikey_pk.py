"""MIKEY public-key mode (RFC 3830 section 3.2): build and open the initiator's I_MESSAGE.

    I_MESSAGE = HDR, T, RAND, [IDi], [IDr], {SP}, KEMAC, PKE, SIGNi

* PKE carries the envelope key ``env_key`` encrypted to the responder's public key;
* from ``env_key`` come (section 4.1.4) an AES-CM key + salt that encrypt the Key data
  sub-payload holding the TGK, and an HMAC-SHA-1-160 key for the KEMAC's MAC;
* SIGNi, the initiator's signature, covers the whole message up to the signature field.

The public-key operations are callables so that this module stays free of key handling:
``ethvoip`` identity keys are secp256k1 (ECIES for PKE, ECDSA for SIGN), where RFC 3830 names
RSA.  The message layout is unchanged; the SIGN ``S type`` is :data:`SIGN_ECDSA_SECP256K1`
and PKE data is whatever the ECIES callable produces (see docs/media.rst, "Deviations").

Checks on opening, in this order (cheap and unauthenticated first, nothing stored until all
pass): strict decode and canonical re-encoding (DecodeError); message shape (DecodeError);
signature (CryptoError); timestamp window and replay cache (ReplayError); envelope
decryption and MAC (CryptoError); the decrypted key data (DecodeError); the responder
identity, when the caller names one (RemoteProtocolError).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ethvoip.impl.crypto import aes_ctr, ct_equal, hmac_sha1, sha256
from ethvoip.spec.errors import (
    Check,
    CryptoRefused,
    DecodeError,
    EthVoipError,
    IdentityMismatch,
    LocalProtocolError,
    MacInvalid,
    SignatureInvalid,
)

from .mikey import (
    SIGN_ECDSA_SECP256K1,
    CryptoSession,
    DataType,
    EncrAlg,
    Header,
    Identity,
    IdType,
    Kemac,
    KeyData,
    KeyType,
    KvType,
    MacAlg,
    MikeyMessage,
    Payload,
    Pke,
    Rand,
    SecurityPolicy,
    Sign,
    Timestamp,
    TsType,
    decode_key_data,
    decode_message,
    encode_key_data,
    encode_message,
    encode_pieces,
    require_strict,
)
from .mikey_kdf import derive_envelope_keys, derive_srtp_master
from .mikey_replay import ReplayGuard, ntp_to_unix, unix_to_ntp
from .srtp_kdf import aes_cm_iv

MIN_RAND = 16  # RFC 3830 6.11: RAND SHOULD be at least 128 bits; we insist
MAC_FIELD = 20

EncryptEnvelope = Callable[[bytes], bytes]  # env_key -> PKE data (to the responder's key)
DecryptEnvelope = Callable[[bytes], bytes]  # PKE data -> env_key, raising on failure
SignFn = Callable[[bytes], bytes]  # signed bytes -> signature (exactly sig_len bytes)
VerifyFn = Callable[[bytes | None, bytes, bytes], bool]  # (IDi, signed bytes, signature)


@dataclass(frozen=True)
class KeyTransport:
    """What one I_MESSAGE carries, once opened (or before it is built)."""

    csb_id: int
    crypto_sessions: tuple[CryptoSession, ...]
    tgk: bytes
    rand: bytes
    ntp_time: int
    id_i: bytes | None
    id_r: bytes | None
    policies: tuple[SecurityPolicy, ...]

    def srtp_master(self, cs_id: int) -> tuple[bytes, bytes]:
        """SRTP (master key, master salt) for crypto session ``cs_id`` (1-based, section 4.1.3)."""
        if not 1 <= cs_id <= len(self.crypto_sessions):
            raise LocalProtocolError(f"no crypto session {cs_id} in this CSB")
        return derive_srtp_master(self.tgk, cs_id, self.csb_id, self.rand)


def _aes_cm(key: bytes, salt: bytes, csb_id: int, ntp_time: int, data: bytes) -> bytes:
    # Section 4.2.3: IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000, S the 112-bit salt.
    return aes_ctr(key, aes_cm_iv(salt, (csb_id << 64) | ntp_time), data)


def _mac_input(msg: MikeyMessage) -> bytes:
    """Bytes the KEMAC MAC covers: the message from HDR up to (not including) the MAC field.

    RFC 3830 section 5.2 has the MAC cover the message except the MAC field; in public-key
    mode PKE and SIGN follow the KEMAC, and SIGN already covers all of it, so we MAC what
    precedes the field (our reading; see docs/media.rst).
    """
    pieces = encode_pieces(msg)
    k = next(i for i, p in enumerate(msg.payloads) if isinstance(p, Kemac))
    return b"".join(pieces[: k + 2])[:-MAC_FIELD]


def build_i_message(
    *,
    tgk: bytes,
    env_key: bytes,
    rand: bytes,
    now: float,
    csb_id: int,
    crypto_sessions: tuple[CryptoSession, ...],
    encrypt_envelope: EncryptEnvelope,
    sign: SignFn,
    sig_len: int,
    id_i: bytes | None = None,
    id_r: bytes | None = None,
    policies: tuple[SecurityPolicy, ...] = (),
    s_type: int = SIGN_ECDSA_SECP256K1,
    v_flag: bool = False,
) -> bytes:
    """Build a signed I_MESSAGE transporting ``tgk``; ``rand`` and ``env_key`` must be fresh.

    ``v_flag`` asks the responder for a verification message (:mod:`.mikey_verify`)."""
    if len(rand) < MIN_RAND:
        raise LocalProtocolError(f"RAND must be at least {MIN_RAND} bytes")
    if id_r is not None and id_i is None:
        raise LocalProtocolError("IDr without IDi cannot be told apart from IDi")
    ntp_time = unix_to_ntp(now)
    keys = derive_envelope_keys(env_key, csb_id, rand)
    plain = encode_key_data([KeyData(KeyType.TGK, tgk)])
    encr = _aes_cm(keys.encr, keys.salt, csb_id, ntp_time, plain)
    header = Header(DataType.PK_INIT, csb_id, crypto_sessions, v_flag=v_flag)
    ids = tuple(Identity(IdType.URI, i) for i in (id_i, id_r) if i is not None)
    kemac = Kemac(EncrAlg.AES_CM_128, encr, MacAlg.HMAC_SHA1_160, bytes(MAC_FIELD))
    pke = Pke(0, encrypt_envelope(env_key))
    placeholder = Sign(s_type, bytes(sig_len))
    body: tuple[Payload, ...] = (
        Timestamp(TsType.NTP_UTC, ntp_time),
        Rand(rand),
        *ids,
        *policies,
        kemac,
        pke,
        placeholder,
    )
    mac = hmac_sha1(keys.auth, _mac_input(MikeyMessage(header, body)))
    body = tuple(Kemac(k.encr_alg, k.encr_data, k.mac_alg, mac) if k is kemac else k for k in body)
    unsigned = encode_message(MikeyMessage(header, body))[:-sig_len]
    signature = sign(unsigned)
    if len(signature) != sig_len:
        raise LocalProtocolError(f"signer returned {len(signature)} bytes, expected {sig_len}")
    return unsigned + signature


_SHAPE = "T RAND (ID (ID)?)? SP* KEMAC PKE SIGN"


def _shape(
    msg: MikeyMessage,
) -> tuple[Timestamp, Rand, list[Identity], list[SecurityPolicy], Kemac, Pke, Sign]:
    """Check the I_MESSAGE payload order (exactly ``_SHAPE``) and pull the payloads out."""
    ps = list(msg.payloads)
    bad = DecodeError(f"MIKEY: not an I_MESSAGE (want {_SHAPE})")
    if len(ps) < 5 or not isinstance(ps[0], Timestamp) or not isinstance(ps[1], Rand):
        raise bad
    sign, pke, kemac = ps[-1], ps[-2], ps[-3]
    if not (isinstance(sign, Sign) and isinstance(pke, Pke) and isinstance(kemac, Kemac)):
        raise bad
    middle = ps[2:-3]
    ids = [p for p in middle if isinstance(p, Identity)]
    sps = [p for p in middle if isinstance(p, SecurityPolicy)]
    if len(ids) > 2 or middle != [*ids, *sps]:
        raise bad
    return ps[0], ps[1], ids, sps, kemac, pke, sign


def _guarded(what: str, check: Check, fn: Callable[[], bytes]) -> bytes:
    """Run a plugged-in crypto callable; any failure it reports becomes a refusal by
    ``check`` (a CryptoError)."""
    try:
        return fn()
    except EthVoipError:
        raise
    except Exception as exc:  # a third-party primitive's own error type
        raise CryptoRefused(f"MIKEY: {what} failed: {exc}", check=check) from exc


def decode_i_message(
    msg: MikeyMessage, data: bytes, s_type: int = SIGN_ECDSA_SECP256K1
) -> tuple[Timestamp, Rand, list[Identity], list[SecurityPolicy], Kemac, Pke, Sign]:
    """The form checks of an I_MESSAGE before any crypto (``msg`` decoded from ``data``):
    canonical, PK_INIT, the payload order, NTP-UTC, RAND length, the suites; DecodeError."""
    require_strict(msg, data, DataType.PK_INIT, "encoding")
    t, rand, ids, sps, kemac, pke, sign = _shape(msg)
    if t.ts_type is not TsType.NTP_UTC:
        raise DecodeError("MIKEY: I_MESSAGE timestamp must be NTP-UTC")
    if len(rand.value) < MIN_RAND:
        raise DecodeError(f"MIKEY: RAND shorter than {MIN_RAND} bytes")
    if kemac.encr_alg is not EncrAlg.AES_CM_128 or kemac.mac_alg is not MacAlg.HMAC_SHA1_160:
        raise DecodeError("MIKEY: KEMAC must be AES-CM-128 with HMAC-SHA-1-160")
    if sign.s_type != s_type:
        raise DecodeError(f"MIKEY: signature type {sign.s_type}, want {s_type}")
    return t, rand, ids, sps, kemac, pke, sign


def open_i_message(
    data: bytes,
    *,
    now: float,
    replay: ReplayGuard,
    decrypt_envelope: DecryptEnvelope,
    verify: VerifyFn,
    expected_id_r: bytes | None = None,
    s_type: int = SIGN_ECDSA_SECP256K1,
) -> KeyTransport:
    """Authenticate, check freshness of, and decrypt an I_MESSAGE; return what it carries."""
    msg = decode_message(data)
    t, rand, ids, sps, kemac, pke, sign = decode_i_message(msg, bytes(data), s_type)
    id_i = ids[0].data if ids else None
    id_r = ids[1].data if len(ids) > 1 else None

    signed = bytes(data[: len(data) - len(sign.signature)])
    ok = _guarded(
        "signature check",
        Check.SIGNATURE,
        lambda: b"\x01" if verify(id_i, signed, sign.signature) else b"",
    )
    if not ok:
        raise SignatureInvalid("MIKEY: bad initiator signature")

    # Keyed on the signed bytes, not the whole message: a re-encoded (malleated) ECDSA
    # signature over the same bytes must still hit the cache.
    digest = sha256(signed)
    msg_time = ntp_to_unix(t.value)
    sender = id_i or b""  # per sender identity: one sender cannot fill another's share
    replay.check(msg_time, digest, now, sender)

    env_key = _guarded("envelope decryption", Check.DECRYPT, lambda: decrypt_envelope(pke.data))
    keys = derive_envelope_keys(env_key, msg.header.csb_id, rand.value)
    want = hmac_sha1(keys.auth, _mac_input(msg))
    if not ct_equal(want, kemac.mac):
        raise MacInvalid("MIKEY: KEMAC MAC does not verify")
    plain = _aes_cm(keys.encr, keys.salt, msg.header.csb_id, t.value, kemac.encr_data)
    items = decode_key_data(plain)
    if (
        len(items) != 1
        or items[0].key_type is not KeyType.TGK
        or items[0].kv_type is not KvType.NULL
    ):
        raise DecodeError("MIKEY: KEMAC must carry exactly one TGK")
    if not items[0].key:
        raise DecodeError("MIKEY: empty TGK")
    if expected_id_r is not None and id_r != expected_id_r:
        raise IdentityMismatch("MIKEY: I_MESSAGE is addressed to another responder")

    replay.commit(msg_time, digest, now, sender)
    return KeyTransport(
        csb_id=msg.header.csb_id,
        crypto_sessions=msg.header.crypto_sessions,
        tgk=items[0].key,
        rand=rand.value,
        ntp_time=t.value,
        id_i=id_i,
        id_r=id_r,
        policies=tuple(sps),
    )
