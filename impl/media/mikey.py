"""MIKEY (RFC 3830) wire codec: the common header and the payloads public-key mode uses.

Sans-IO and strict.  A message is a :class:`Header` followed by a chain of payloads, each
naming the type of the next one (``next payload``); SIGN has no such field and must be last.
:func:`encode_message` fills every ``next payload`` field from the order of the tuple it is
given, so a caller cannot build an inconsistent chain.  :func:`decode_message` rejects
anything outside RFC 3830 section 6 as implemented here: unknown or unsupported payload types,
bad lengths, a reserved value, trailing bytes.

Supported payloads: HDR (6.1, CS ID map type SRTP-ID), KEMAC (6.2), PKE (6.4), SIGN (6.5),
T (6.6), ID (6.7), SP (6.10, SRTP parameters), RAND (6.11), and the Key data sub-payload
(6.13) carried inside KEMAC.  Not supported (DecodeError): DH, CERT, CHASH, V, ERR, General
Extension.  The public-key exchange built on top of this lives in :mod:`.mikey_pk`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from ethvoip.spec.errors import DecodeError, LocalProtocolError

from ._wire import Reader

VERSION = 1


class DataType(IntEnum):
    """HDR ``data type`` (section 6.1)."""

    PSK_INIT = 0
    PSK_VERIFY = 1
    PK_INIT = 2
    PK_VERIFY = 3
    DH_INIT = 4
    DH_RESP = 5
    ERROR = 6


class PayloadType(IntEnum):
    """``next payload`` values (section 6.1, table 6.1.c)."""

    LAST = 0
    KEMAC = 1
    PKE = 2
    DH = 3
    SIGN = 4
    T = 5
    ID = 6
    CERT = 7
    CHASH = 8
    V = 9
    SP = 10
    RAND = 11
    ERR = 12
    KEY_DATA = 20
    GENERAL_EXT = 21


class TsType(IntEnum):
    """T payload ``TS type`` (section 6.6)."""

    NTP_UTC = 0
    NTP = 1
    COUNTER = 2


class IdType(IntEnum):
    """ID payload ``ID type`` (section 6.7)."""

    NAI = 0
    URI = 1


class EncrAlg(IntEnum):
    """KEMAC ``Encr alg`` (section 6.2)."""

    NULL = 0
    AES_CM_128 = 1
    AES_KW_128 = 2


class MacAlg(IntEnum):
    """KEMAC ``MAC alg`` (section 6.2); the value fixes the MAC length."""

    NULL = 0
    HMAC_SHA1_160 = 1


MAC_LEN = {MacAlg.NULL: 0, MacAlg.HMAC_SHA1_160: 20}


class KeyType(IntEnum):
    """Key data sub-payload ``Type`` (section 6.13)."""

    TGK = 0
    TGK_SALT = 1
    TEK = 2
    TEK_SALT = 3


class KvType(IntEnum):
    """Key data sub-payload ``KV`` (key validity, section 6.13)."""

    NULL = 0
    SPI = 1
    INTERVAL = 2


class ProtType(IntEnum):
    """SP payload ``Prot type`` (section 6.10)."""

    SRTP = 0


class SrtpParam(IntEnum):
    """SRTP policy parameter types (section 6.10.1)."""

    ENCR_ALG = 0
    ENCR_KEY_LEN = 1
    AUTH_ALG = 2
    AUTH_KEY_LEN = 3
    SALT_KEY_LEN = 4
    PRF = 5
    KEY_DERIVATION_RATE = 6
    SRTP_ENCR = 7
    SRTCP_ENCR = 8
    FEC_ORDER = 9
    SRTP_AUTH = 10
    AUTH_TAG_LEN = 11
    PREFIX_LEN = 12


# SIGN ``S type`` values.  RFC 3830 defines 0 (RSA/PKCS#1 v1.5) and 1 (RSA/PSS); IANA later
# registered 2 (ECCSI, RFC 6509).  Our identity keys are secp256k1, which no registered type
# covers, so ethvoip uses 15, the top of the 4-bit space, far from the assigned values (see
# docs/media.rst, "Deviations").
SIGN_RSA_PKCS1 = 0
SIGN_RSA_PSS = 1
SIGN_ECDSA_SECP256K1 = 15


def _enum(cls: type[IntEnum], value: int, what: str) -> IntEnum:
    try:
        return cls(value)
    except ValueError:
        raise DecodeError(f"MIKEY: unknown {what} {value}") from None


# --- payloads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CryptoSession:
    """One SRTP-ID entry of the HDR's CS ID map (section 6.1.1)."""

    policy_no: int
    ssrc: int
    roc: int


@dataclass(frozen=True)
class Header:
    """The common header (HDR).  ``next payload`` is derived when encoding."""

    data_type: DataType
    csb_id: int
    crypto_sessions: tuple[CryptoSession, ...]
    v_flag: bool = False
    prf_func: int = 0  # MIKEY-1, the only PRF RFC 3830 defines


@dataclass(frozen=True)
class Timestamp:
    """T payload.  NTP values are the 64-bit NTP format; COUNTER is 32 bits."""

    ts_type: TsType
    value: int


@dataclass(frozen=True)
class Rand:
    """RAND payload: fresh randomness mixed into every derived key."""

    value: bytes


@dataclass(frozen=True)
class Identity:
    """ID payload (IDi / IDr are told apart by position in the message)."""

    id_type: IdType
    data: bytes


@dataclass(frozen=True)
class SecurityPolicy:
    """SP payload: a policy number and its (type, value) parameters."""

    policy_no: int
    prot_type: ProtType
    params: tuple[tuple[int, bytes], ...]

    def param(self, ptype: int) -> bytes | None:
        return next((v for t, v in self.params if t == ptype), None)


@dataclass(frozen=True)
class Kemac:
    """KEMAC payload: encrypted Key data sub-payloads plus a MAC (section 6.2)."""

    encr_alg: EncrAlg
    encr_data: bytes
    mac_alg: MacAlg
    mac: bytes


@dataclass(frozen=True)
class Pke:
    """PKE payload: the envelope key encrypted to the responder (section 6.4)."""

    cache: int  # C: 0 no cache, 1 cache, 2 cache for this CSB
    data: bytes


@dataclass(frozen=True)
class Sign:
    """SIGN payload: always last, no ``next payload`` field (section 6.5)."""

    s_type: int
    signature: bytes


@dataclass(frozen=True)
class Verification:
    """V payload (section 6.9): the MAC of a verification message (R_MESSAGE)."""

    mac_alg: MacAlg
    mac: bytes


@dataclass(frozen=True)
class KeyData:
    """Key data sub-payload (section 6.13), found inside a KEMAC's (decrypted) data."""

    key_type: KeyType
    key: bytes
    salt: bytes | None = None
    kv_type: KvType = KvType.NULL
    kv_data: tuple[bytes, ...] = field(default=())  # (SPI,) or (valid from, valid to)


Payload = Timestamp | Rand | Identity | SecurityPolicy | Kemac | Pke | Sign | Verification


@dataclass(frozen=True)
class MikeyMessage:
    header: Header
    payloads: tuple[Payload, ...]

    def of(self, kind: type[Payload]) -> list[Payload]:
        return [p for p in self.payloads if isinstance(p, kind)]


_TYPE_OF: dict[type, PayloadType] = {
    Timestamp: PayloadType.T,
    Rand: PayloadType.RAND,
    Identity: PayloadType.ID,
    SecurityPolicy: PayloadType.SP,
    Kemac: PayloadType.KEMAC,
    Pke: PayloadType.PKE,
    Sign: PayloadType.SIGN,
    Verification: PayloadType.V,
}


# --- encoding -----------------------------------------------------------------------------


def _u(value: int, nbytes: int, what: str) -> bytes:
    if not 0 <= value < 1 << (8 * nbytes):
        raise LocalProtocolError(f"MIKEY: {what} {value} does not fit in {nbytes} bytes")
    return value.to_bytes(nbytes, "big")


def _ts_len(ts_type: TsType) -> int:
    return 4 if ts_type is TsType.COUNTER else 8


def encode_header(h: Header, next_payload: int) -> bytes:
    if not 0 <= h.prf_func < 128:
        raise LocalProtocolError("MIKEY: PRF func is 7 bits")
    out = bytearray([VERSION, h.data_type, next_payload, (0x80 if h.v_flag else 0) | h.prf_func])
    out += _u(h.csb_id, 4, "CSB ID")
    out += _u(len(h.crypto_sessions), 1, "#CS") + b"\x00"  # CS ID map type 0: SRTP-ID
    for cs in h.crypto_sessions:
        out += _u(cs.policy_no, 1, "policy no") + _u(cs.ssrc, 4, "SSRC") + _u(cs.roc, 4, "ROC")
    return bytes(out)


def encode_payload(p: Payload, next_payload: int) -> bytes:
    """One payload's bytes, with ``next_payload`` in its first byte (SIGN has none)."""
    nxt = bytes([next_payload])
    if isinstance(p, Timestamp):
        return nxt + bytes([p.ts_type]) + _u(p.value, _ts_len(p.ts_type), "TS value")
    if isinstance(p, Rand):
        if not p.value:
            raise LocalProtocolError("MIKEY: empty RAND")
        return nxt + _u(len(p.value), 1, "RAND len") + p.value
    if isinstance(p, Identity):
        return nxt + bytes([p.id_type]) + _u(len(p.data), 2, "ID len") + p.data
    if isinstance(p, SecurityPolicy):
        params = b"".join(
            _u(t, 1, "param type") + _u(len(v), 1, "param len") + v for t, v in p.params
        )
        head = _u(p.policy_no, 1, "policy no") + bytes([p.prot_type])
        return nxt + head + _u(len(params), 2, "param length") + params
    if isinstance(p, Kemac):
        if len(p.mac) != MAC_LEN[p.mac_alg]:
            raise LocalProtocolError("MIKEY: MAC length does not match MAC alg")
        return (
            nxt
            + bytes([p.encr_alg])
            + _u(len(p.encr_data), 2, "encr data len")
            + p.encr_data
            + bytes([p.mac_alg])
            + p.mac
        )
    if isinstance(p, Verification):
        if len(p.mac) != MAC_LEN[p.mac_alg]:
            raise LocalProtocolError("MIKEY: V MAC length does not match MAC alg")
        return nxt + bytes([p.mac_alg]) + p.mac
    if isinstance(p, Pke):
        if not 0 <= p.cache <= 2:
            raise LocalProtocolError("MIKEY: PKE C is 0, 1 or 2")
        return nxt + _u((p.cache << 14) | _u14(len(p.data)), 2, "PKE") + p.data
    if isinstance(p, Sign):
        if next_payload != PayloadType.LAST:
            raise LocalProtocolError("MIKEY: SIGN must be the last payload")
        return _u((p.s_type << 12) | _u12(len(p.signature)), 2, "SIGN") + p.signature
    raise LocalProtocolError(f"not a MIKEY payload: {p!r}")


def _u14(n: int) -> int:
    if n >= 1 << 14:
        raise LocalProtocolError("MIKEY: PKE data longer than 14-bit length")
    return n


def _u12(n: int) -> int:
    if n >= 1 << 12:
        raise LocalProtocolError("MIKEY: signature longer than 12-bit length")
    return n


def encode_pieces(msg: MikeyMessage) -> list[bytes]:
    """The encoded header and each payload, separately (joined they are the message).

    Every ``next payload`` field is derived from the payload order.  Callers that MAC or sign
    a prefix of the message use the pieces to find where a field starts.
    """
    if any(isinstance(p, Sign) for p in msg.payloads[:-1]):
        raise LocalProtocolError("MIKEY: SIGN must be the last payload")
    kinds = [int(_TYPE_OF[type(p)]) for p in msg.payloads]
    nexts = [*kinds[1:], int(PayloadType.LAST)]
    first = kinds[0] if kinds else int(PayloadType.LAST)
    pieces = [encode_header(msg.header, first)]
    pieces += [encode_payload(p, n) for p, n in zip(msg.payloads, nexts, strict=False)]
    return pieces


def encode_message(msg: MikeyMessage) -> bytes:
    """Encode a message, deriving every ``next payload`` field from the payload order."""
    return b"".join(encode_pieces(msg))


def encode_key_data(items: Iterable[KeyData]) -> bytes:
    """The plaintext of a KEMAC: a chain of Key data sub-payloads."""
    items = list(items)
    out = bytearray()
    for i, k in enumerate(items):
        nxt = PayloadType.KEY_DATA if i + 1 < len(items) else PayloadType.LAST
        has_salt = k.key_type in (KeyType.TGK_SALT, KeyType.TEK_SALT)
        if has_salt != (k.salt is not None):
            raise LocalProtocolError("MIKEY: a salt goes with exactly the *+SALT key types")
        out += bytes([nxt, (k.key_type << 4) | k.kv_type]) + _u(len(k.key), 2, "key len") + k.key
        if k.salt is not None:
            out += _u(len(k.salt), 2, "salt len") + k.salt
        want = {KvType.NULL: 0, KvType.SPI: 1, KvType.INTERVAL: 2}[k.kv_type]
        if len(k.kv_data) != want:
            raise LocalProtocolError("MIKEY: KV data does not match KV type")
        for part in k.kv_data:
            out += _u(len(part), 1, "KV len") + part
    return bytes(out)


# --- decoding -----------------------------------------------------------------------------


def _decode_header(r: Reader) -> tuple[Header, int]:
    version = r.u8("version")
    if version != VERSION:
        raise DecodeError(f"MIKEY: unsupported version {version}")
    data_type = DataType(_enum(DataType, r.u8("data type"), "data type"))
    nxt = r.u8("next payload")
    vp = r.u8("V/PRF")
    if vp & 0x7F != 0:
        raise DecodeError(f"MIKEY: unknown PRF func {vp & 0x7F}")
    csb_id = r.u32("CSB ID")
    n_cs = r.u8("#CS")
    map_type = r.u8("CS ID map type")
    if map_type != 0:
        raise DecodeError(f"MIKEY: unsupported CS ID map type {map_type}")
    sessions = tuple(
        CryptoSession(r.u8("policy no"), r.u32("SSRC"), r.u32("ROC")) for _ in range(n_cs)
    )
    return Header(data_type, csb_id, sessions, v_flag=bool(vp & 0x80)), nxt


def _decode_payload(kind: PayloadType, r: Reader) -> tuple[Payload, int]:
    if kind is PayloadType.SIGN:
        word = r.u16("SIGN header")
        return Sign(word >> 12, r.take(word & 0x0FFF, "signature")), PayloadType.LAST
    nxt = r.u8("next payload")
    p: Payload
    if kind is PayloadType.T:
        ts_type = TsType(_enum(TsType, r.u8("TS type"), "TS type"))
        p = Timestamp(ts_type, int.from_bytes(r.take(_ts_len(ts_type), "TS value"), "big"))
    elif kind is PayloadType.RAND:
        n = r.u8("RAND len")
        if n == 0:
            raise DecodeError("MIKEY: empty RAND")
        p = Rand(r.take(n, "RAND"))
    elif kind is PayloadType.ID:
        id_type = IdType(_enum(IdType, r.u8("ID type"), "ID type"))
        p = Identity(id_type, r.take(r.u16("ID len"), "ID data"))
    elif kind is PayloadType.SP:
        policy_no = r.u8("policy no")
        prot = ProtType(_enum(ProtType, r.u8("prot type"), "protocol type"))
        pr = Reader(r.take(r.u16("policy param length"), "policy params"), "MIKEY SP")
        params = []
        while pr.remaining:
            ptype = pr.u8("param type")
            params.append((ptype, pr.take(pr.u8("param len"), "param value")))
        p = SecurityPolicy(policy_no, prot, tuple(params))
    elif kind is PayloadType.KEMAC:
        encr = EncrAlg(_enum(EncrAlg, r.u8("encr alg"), "encr alg"))
        data = r.take(r.u16("encr data len"), "encr data")
        mac_alg = MacAlg(_enum(MacAlg, r.u8("MAC alg"), "MAC alg"))
        p = Kemac(encr, data, mac_alg, r.take(MAC_LEN[mac_alg], "MAC"))
    elif kind is PayloadType.V:
        mac_alg = MacAlg(_enum(MacAlg, r.u8("MAC alg"), "MAC alg"))
        p = Verification(mac_alg, r.take(MAC_LEN[mac_alg], "verification MAC"))
    elif kind is PayloadType.PKE:
        word = r.u16("PKE header")
        if word >> 14 == 3:
            raise DecodeError("MIKEY: reserved PKE cache value 3")
        p = Pke(word >> 14, r.take(word & 0x3FFF, "PKE data"))
    else:
        raise DecodeError(f"MIKEY: unsupported payload type {kind.name}")
    return p, nxt


def decode_message(data: bytes) -> MikeyMessage:
    """Decode a whole MIKEY message; raises :class:`DecodeError` on anything malformed."""
    r = Reader(data, "MIKEY")
    header, nxt = _decode_header(r)
    payloads: list[Payload] = []
    while nxt != PayloadType.LAST:
        kind = PayloadType(_enum(PayloadType, nxt, "payload type"))
        if kind is PayloadType.KEY_DATA:
            raise DecodeError("MIKEY: Key data sub-payload outside a KEMAC")
        p, nxt = _decode_payload(kind, r)
        payloads.append(p)
    r.done()
    return MikeyMessage(header, tuple(payloads))


def decode_strict(data: bytes, data_type: DataType, what: str) -> MikeyMessage:
    """Decode a message that must be of ``data_type`` and encoded the one canonical way (a
    re-encoded twin would be a second message with the same signature or MAC); ``what``
    names the message in the error."""
    return require_strict(decode_message(data), data, data_type, what)


def require_strict(msg: MikeyMessage, data: bytes, data_type: DataType, what: str) -> MikeyMessage:
    """:func:`decode_strict`'s checks on ``msg``, already decoded from ``data``."""
    if encode_message(msg) != bytes(data):
        raise DecodeError(f"MIKEY: non-canonical {what}")
    if msg.header.data_type is not data_type:
        raise DecodeError(f"MIKEY: data type {msg.header.data_type.name}, want {data_type.name}")
    return msg


def decode_key_data(data: bytes) -> tuple[KeyData, ...]:
    """Decode a KEMAC's plaintext: one or more Key data sub-payloads, nothing else."""
    r = Reader(data, "MIKEY key data")
    out = []
    nxt: int = PayloadType.KEY_DATA
    while nxt != PayloadType.LAST:
        if nxt != PayloadType.KEY_DATA:
            raise DecodeError(f"MIKEY: payload {nxt} inside KEMAC key data")
        nxt = r.u8("next payload")
        tk = r.u8("type/KV")
        key_type = KeyType(_enum(KeyType, tk >> 4, "key data type"))
        kv_type = KvType(_enum(KvType, tk & 0x0F, "KV type"))
        key = r.take(r.u16("key data len"), "key data")
        salt = None
        if key_type in (KeyType.TGK_SALT, KeyType.TEK_SALT):
            salt = r.take(r.u16("salt len"), "salt data")
        n_kv = {KvType.NULL: 0, KvType.SPI: 1, KvType.INTERVAL: 2}[kv_type]
        kv = tuple(r.take(r.u8("KV len"), "KV data") for _ in range(n_kv))
        out.append(KeyData(key_type, key, salt, kv_type, kv))
    r.done()
    return tuple(out)


# --- the SRTP policy we offer ---------------------------------------------------------------


def srtp_policy_aes_cm_128_hmac_sha1_80(policy_no: int = 0) -> SecurityPolicy:
    """SP payload for AES_CM_128_HMAC_SHA1_80 (RFC 3830 section 6.10.1 parameter types)."""
    one = b"\x01"
    return SecurityPolicy(
        policy_no,
        ProtType.SRTP,
        (
            (SrtpParam.ENCR_ALG, one),  # AES-CM
            (SrtpParam.ENCR_KEY_LEN, bytes([16])),
            (SrtpParam.AUTH_ALG, one),  # HMAC-SHA-1
            (SrtpParam.AUTH_KEY_LEN, bytes([20])),
            (SrtpParam.SALT_KEY_LEN, bytes([14])),
            (SrtpParam.PRF, b"\x00"),  # AES-CM PRF
            (SrtpParam.SRTP_ENCR, one),
            (SrtpParam.SRTCP_ENCR, one),
            (SrtpParam.SRTP_AUTH, one),
            (SrtpParam.AUTH_TAG_LEN, bytes([10])),
        ),
    )
