"""The wire encoding of every handshake message: versioned, tagged, length-prefixed, strict.

A message is a *record*: a header and a fixed sequence of fields given by the record's
schema::

    record = "EV" | version (1 byte) | tag (1 byte) | body length (4 bytes, big-endian) | body
    body   = field*            (exactly as many as the schema for ``tag`` lists)
    field  = length (2 bytes, big-endian) | value

Decoding is strict and total: a wrong magic, an unknown version or tag, a tag the caller did
not expect, a body length that is not exactly what follows, a field count or size other than
the schema's, a name that is not UTF-8, or trailing bytes all raise :class:`DecodeError`;
nothing else escapes.  Encoding checks the same rules and raises :class:`LocalProtocolError`
(building a bad record is our bug, not the peer's).

Ciphertexts and signatures are plain ``bytes`` fields; what they contain is again a record
(``*_BODY`` tags for plaintexts, ``*_SIGNED`` tags for the bytes a signature covers), so every
layer is decoded by the same strict code.  The tag of the outer record goes into the AEAD
associated data (:func:`aad`), so a ciphertext cannot be moved to another message slot.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ethvoip.spec.errors import DecodeError, LocalProtocolError

MAGIC = b"EV"
VERSION = 1
HEADER_SIZE = 8  # magic 2, version 1, tag 1, body length 4
MAX_BODY = 64 * 1024  # nothing in a handshake comes close; refuse before allocating
NAME_MAX = 64  # an agent name: a phone number, a SIP URI user part, a service name


class Tag(enum.IntEnum):
    """The type of a record.  Values are wire constants: never renumber, only append."""

    # psk_handshake (paper III.C): outer messages carry one ECIES ciphertext
    PSK_1 = 0x11
    PSK_1_BODY = 0x12  # N1, A
    PSK_2 = 0x13
    PSK_2_BODY_PAPER = 0x14  # N1, N2
    PSK_2_BODY_HARDENED = 0x15  # N1, N2, B
    PSK_3 = 0x16
    PSK_3_BODY = 0x17  # N2
    PSK_4 = 0x18
    PSK_4_BODY = 0x19  # Ks, signature, N2
    PSK_4_SIGNED = 0x1A  # hardened: what A's signature covers (psk, Ks, A, B, N1, N2)
    # mikey_key_transport (paper III.D.2)
    MIKEY_INVITE = 0x21  # A, B
    MIKEY_K = 0x22  # paper: a=k: ECIES ciphertext
    MIKEY_K_BODY = 0x23  # K
    MIKEY_I_MESSAGE = 0x24  # hardened: T, RAND, IDi, IDr, PKE, KEMAC, SIGNi
    MIKEY_ENV_BODY = 0x25  # Kenv (inside PKE)
    MIKEY_KEMAC_BODY = 0x26  # K (inside KEMAC)
    MIKEY_SIGNED = 0x27  # what SIGNi covers
    # sts (paper Fig. 7)
    STS_1 = 0x31  # A, B, g^x
    STS_2 = 0x32  # g^y, AEAD ciphertext
    STS_3 = 0x33  # AEAD ciphertext
    STS_SIG_PAPER = 0x34  # signature (inside the ciphertext)
    STS_SIG_HARDENED = 0x35  # own name, signature (inside the ciphertext)
    STS_SIGNED_PAPER = 0x36  # own half-key, peer's half-key
    STS_SIGNED_HARDENED = 0x37  # A, B, g^x, g^y (the role is in the signature's domain tag)


class Kind(enum.Enum):
    BYTES = "bytes"
    NAME = "name"  # UTF-8 text, 1..NAME_MAX bytes


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a schema: exact ``size`` if given, else between ``min_size`` and ``max_size``."""

    name: str
    size: int | None = None
    min_size: int = 1
    max_size: int = 4096
    kind: Kind = Kind.BYTES

    def check(self, value: bytes) -> str | None:
        """Why ``value`` does not fit this field, or ``None`` if it does."""
        n = len(value)
        if self.size is not None and n != self.size:
            return f"field {self.name} must be {self.size} bytes, got {n}"
        if self.size is None and not self.min_size <= n <= self.max_size:
            return f"field {self.name} must be {self.min_size}..{self.max_size} bytes, got {n}"
        if self.kind is Kind.NAME:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                return f"field {self.name} is not UTF-8"
            if not text.isprintable():
                return f"field {self.name} holds non-printable characters"
        return None


def _nonce(name: str) -> Field:
    return Field(name, size=32)


def _name(name: str) -> Field:
    return Field(name, min_size=1, max_size=NAME_MAX, kind=Kind.NAME)


_CT = Field("ct", min_size=1, max_size=2048)
_SIG = Field("sig", size=64)
_GROUP = 32  # an X25519 public value
#: MIKEY's I_MESSAGE up to SIGNi: what SIGNi signs, and the message without its signature
_MIKEY_SIGNED = (
    Field("T", size=8),
    Field("RAND", size=16),
    _name("IDi"),
    _name("IDr"),
    Field("PKE", min_size=1, max_size=2048),
    Field("KEMAC", min_size=1, max_size=2048),
)

SCHEMAS: Mapping[Tag, tuple[Field, ...]] = MappingProxyType(
    {
        Tag.PSK_1: (_CT,),
        Tag.PSK_1_BODY: (_nonce("N1"), _name("A")),
        Tag.PSK_2: (_CT,),
        Tag.PSK_2_BODY_PAPER: (_nonce("N1"), _nonce("N2")),
        Tag.PSK_2_BODY_HARDENED: (_nonce("N1"), _nonce("N2"), _name("B")),
        Tag.PSK_3: (_CT,),
        Tag.PSK_3_BODY: (_nonce("N2"),),
        Tag.PSK_4: (_CT,),
        Tag.PSK_4_BODY: (Field("Ks", size=32), _SIG, _nonce("N2")),
        Tag.PSK_4_SIGNED: (
            Field("Ks", size=32),
            _name("A"),
            _name("B"),
            _nonce("N1"),
            _nonce("N2"),
        ),
        Tag.MIKEY_INVITE: (_name("A"), _name("B")),
        Tag.MIKEY_K: (_CT,),
        Tag.MIKEY_K_BODY: (Field("K", size=32),),
        Tag.MIKEY_I_MESSAGE: (*_MIKEY_SIGNED, _SIG),
        Tag.MIKEY_ENV_BODY: (Field("Kenv", size=32),),
        Tag.MIKEY_KEMAC_BODY: (Field("K", size=32),),
        Tag.MIKEY_SIGNED: _MIKEY_SIGNED,
        Tag.STS_1: (_name("A"), _name("B"), Field("GX", size=_GROUP)),
        Tag.STS_2: (Field("GY", size=_GROUP), _CT),
        Tag.STS_3: (_CT,),
        Tag.STS_SIG_PAPER: (_SIG,),
        Tag.STS_SIG_HARDENED: (_name("ID"), _SIG),
        Tag.STS_SIGNED_PAPER: (Field("own", size=_GROUP), Field("peer", size=_GROUP)),
        Tag.STS_SIGNED_HARDENED: (
            _name("A"),
            _name("B"),
            Field("GX", size=_GROUP),
            Field("GY", size=_GROUP),
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Record:
    """A decoded (or to-be-encoded) record: its tag and its field values in schema order."""

    tag: Tag
    values: tuple[bytes, ...]

    def __getitem__(self, name: str) -> bytes:
        for f, v in zip(SCHEMAS[self.tag], self.values, strict=True):
            if f.name == name:
                return v
        raise KeyError(name)

    def text(self, name: str) -> str:
        """A NAME field as text (already checked to be UTF-8 when the record was built)."""
        return self[name].decode("utf-8")

    def encode(self) -> bytes:
        return encode(self.tag, *self.values)


def _as_bytes(v: bytes | str) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def encode(tag: Tag, *values: bytes | str) -> bytes:
    """Encode a record; ``str`` values are UTF-8 encoded.  Bad values: LocalProtocolError."""
    schema = SCHEMAS.get(tag)
    if schema is None:
        raise LocalProtocolError(f"no schema for tag {tag!r}")
    if len(values) != len(schema):
        raise LocalProtocolError(f"{tag.name} takes {len(schema)} fields, got {len(values)}")
    body = bytearray()
    for f, v in zip(schema, values, strict=True):
        raw = _as_bytes(v)
        why = f.check(raw)
        if why is not None:
            raise LocalProtocolError(f"{tag.name}: {why}")
        body += len(raw).to_bytes(2, "big") + raw
    return MAGIC + bytes([VERSION, tag]) + len(body).to_bytes(4, "big") + bytes(body)


def decode(data: bytes, expect: Tag | Collection[Tag] | None = None) -> Record:
    """Decode exactly one record from ``data``; anything off raises :class:`DecodeError`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise DecodeError(f"record shorter than its {HEADER_SIZE}-byte header")
    if data[:2] != MAGIC:
        raise DecodeError("bad magic: not an ethvoip handshake record")
    if data[2] != VERSION:
        raise DecodeError(f"unsupported wire version {data[2]} (this side speaks {VERSION})")
    try:
        tag = Tag(data[3])
    except ValueError:
        raise DecodeError(f"unknown record tag 0x{data[3]:02x}") from None
    if expect is not None:
        allowed = {expect} if isinstance(expect, Tag) else set(expect)
        if tag not in allowed:
            want = ", ".join(sorted(t.name for t in allowed))
            raise DecodeError(f"got a {tag.name} record where {want} was expected")
    length = int.from_bytes(data[4:8], "big")
    if length > MAX_BODY:
        raise DecodeError(f"body length {length} exceeds the limit {MAX_BODY}")
    if len(data) - HEADER_SIZE != length:
        raise DecodeError(
            f"{tag.name}: body length says {length}, {len(data) - HEADER_SIZE} bytes follow"
        )
    values: list[bytes] = []
    pos = HEADER_SIZE
    for f in SCHEMAS[tag]:
        if pos + 2 > len(data):
            raise DecodeError(f"{tag.name}: truncated before field {f.name}")
        n = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + n > len(data):
            raise DecodeError(f"{tag.name}: field {f.name} runs past the end")
        value = data[pos : pos + n]
        why = f.check(value)
        if why is not None:
            raise DecodeError(f"{tag.name}: {why}")
        values.append(value)
        pos += n
    if pos != len(data):
        raise DecodeError(f"{tag.name}: {len(data) - pos} trailing bytes")
    return Record(tag, tuple(values))


def aad(tag: Tag) -> bytes:
    """Associated data for a ciphertext carried in a ``tag`` record (binds it to its slot)."""
    return MAGIC + bytes([VERSION, tag])
