"""MIKEY wire codec: hand-assembled bytes from the RFC 3830 section 6 diagrams, round trips,
rejection of malformed input, and fuzzing (every failure must be a DecodeError)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.media import mikey as m
from ethvoip.spec.errors import DecodeError, LocalProtocolError

# Assembled by hand from the RFC 3830 section 6 field diagrams (not from our encoder).
HAND = bytes.fromhex(
    # HDR 6.1: version 1, data type 2 (PK init), next 5 (T), V=0 PRF=0, CSB ID,
    # #CS 1, map type 0 (SRTP-ID), policy 0, SSRC, ROC
    "01 02 05 00  12345678  01 00  00 deadbeef 00000001"
    # T 6.6: next 11 (RAND), NTP-UTC, 64-bit value
    " 0b 00 e1d2c3b4a5968778"
    # RAND 6.11: next 6 (ID), len 16
    " 06 10 000102030405060708090a0b0c0d0e0f"
    # ID 6.7: next 10 (SP), URI, len 5 "sip:a"
    " 0a 01 0005 7369703a61"
    # SP 6.10: next 1 (KEMAC), policy 0, SRTP, param len 6: (0,1,01) (1,1,10)
    " 01 00 00 0006 00 01 01 01 01 10"
    # KEMAC 6.2: next 2 (PKE), encr AES-CM-128, len 3, data, MAC alg HMAC-SHA-1-160, MAC
    " 02 01 0003 aabbcc 01 " + "11" * 20 +
    # PKE 6.4: next 4 (SIGN), C=1 len 4 -> 0x4004
    " 04 4004 01020304"
    # SIGN 6.5: type 15, len 3 -> 0xf003
    " f003 fafbfc"
)


def test_decode_hand_built_message() -> None:
    msg = m.decode_message(HAND)
    h = msg.header
    assert (h.data_type, h.csb_id, h.v_flag) == (m.DataType.PK_INIT, 0x12345678, False)
    assert h.crypto_sessions == (m.CryptoSession(0, 0xDEADBEEF, 1),)
    t, rand, ident, sp, kemac, pke, sign = msg.payloads
    assert t == m.Timestamp(m.TsType.NTP_UTC, 0xE1D2C3B4A5968778)
    assert rand == m.Rand(bytes(range(16)))
    assert ident == m.Identity(m.IdType.URI, b"sip:a")
    assert sp == m.SecurityPolicy(0, m.ProtType.SRTP, ((0, b"\x01"), (1, b"\x10")))
    assert kemac == m.Kemac(
        m.EncrAlg.AES_CM_128, b"\xaa\xbb\xcc", m.MacAlg.HMAC_SHA1_160, b"\x11" * 20
    )
    assert pke == m.Pke(1, b"\x01\x02\x03\x04")
    assert sign == m.Sign(15, b"\xfa\xfb\xfc")
    assert m.encode_message(msg) == HAND


def test_key_data_hand_built() -> None:
    # 6.13: next 20, TGK+SALT / KV SPI, key len 2, key, salt len 1, salt, SPI len 1, SPI;
    # then next 0, TEK / KV interval, key len 1, key, VF len 1, VF, VT len 2, VT.
    raw = bytes.fromhex("14 11 0002 aaaa 0001 bb 01 cc 00 22 0001 dd 01 01 02 0203")
    items = m.decode_key_data(raw)
    assert items == (
        m.KeyData(m.KeyType.TGK_SALT, b"\xaa\xaa", b"\xbb", m.KvType.SPI, (b"\xcc",)),
        m.KeyData(m.KeyType.TEK, b"\xdd", None, m.KvType.INTERVAL, (b"\x01", b"\x02\x03")),
    )
    assert m.encode_key_data(items) == raw


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda b: b"\x02" + b[1:], "version"),
        (lambda b: b[:1] + b"\x07" + b[2:], "data type"),
        (lambda b: b[:3] + b"\x01" + b[4:], "PRF"),
        (lambda b: b[:9] + b"\x01" + b[10:], "CS ID map type"),
        (lambda b: b[:2] + b"\x03" + b[3:], "unsupported payload (DH)"),
        (lambda b: b[:2] + b"\x63" + b[3:], "unknown payload"),
        (lambda b: b[:2] + b"\x14" + b[3:], "key data outside KEMAC"),
        (lambda b: b + b"\x00", "trailing byte"),
        (lambda b: b[:-1], "truncated signature"),
    ],
)
def test_rejects(mutate: object, why: str) -> None:
    with pytest.raises(DecodeError):
        m.decode_message(mutate(HAND))  # type: ignore[operator]


def test_rejects_empty_rand_and_reserved_pke_cache() -> None:
    hdr = bytes.fromhex("01 02 0b 00 00000000 00 00")
    with pytest.raises(DecodeError):
        m.decode_message(hdr + bytes.fromhex("00 00"))  # RAND len 0
    hdr = bytes.fromhex("01 02 02 00 00000000 00 00")
    with pytest.raises(DecodeError):
        m.decode_message(hdr + bytes.fromhex("00 c001 00"))  # C = 3


def test_encoder_refuses_inconsistent_values() -> None:
    h = m.Header(m.DataType.PK_INIT, 1, ())
    with pytest.raises(LocalProtocolError):
        m.encode_message(m.MikeyMessage(h, (m.Sign(0, b""), m.Rand(b"x"))))
    with pytest.raises(LocalProtocolError):
        m.encode_message(
            m.MikeyMessage(h, (m.Kemac(m.EncrAlg.NULL, b"", m.MacAlg.HMAC_SHA1_160, b""),))
        )
    with pytest.raises(LocalProtocolError):
        m.encode_message(m.MikeyMessage(m.Header(m.DataType.PK_INIT, 1 << 32, ()), ()))
    with pytest.raises(LocalProtocolError):
        m.encode_key_data([m.KeyData(m.KeyType.TGK_SALT, b"k")])  # salt missing


# --- properties -----------------------------------------------------------------------------

u8 = st.integers(0, 255)
u32 = st.integers(0, 2**32 - 1)
blob = st.binary(max_size=40)
payloads = st.one_of(
    st.builds(m.Timestamp, st.just(m.TsType.NTP_UTC), st.integers(0, 2**64 - 1)),
    st.builds(m.Timestamp, st.just(m.TsType.COUNTER), u32),
    st.builds(m.Rand, st.binary(min_size=1, max_size=40)),
    st.builds(m.Identity, st.sampled_from(m.IdType), blob),
    st.builds(
        m.SecurityPolicy,
        u8,
        st.just(m.ProtType.SRTP),
        st.lists(st.tuples(u8, st.binary(max_size=4)), max_size=5).map(tuple),
    ),
    st.builds(m.Kemac, st.sampled_from(m.EncrAlg), blob, st.just(m.MacAlg.NULL), st.just(b"")),
    st.builds(
        m.Kemac,
        st.sampled_from(m.EncrAlg),
        blob,
        st.just(m.MacAlg.HMAC_SHA1_160),
        st.binary(min_size=20, max_size=20),
    ),
    st.builds(m.Pke, st.integers(0, 2), blob),
)
headers = st.builds(
    m.Header,
    st.sampled_from(m.DataType),
    u32,
    st.lists(st.builds(m.CryptoSession, u8, u32, u32), max_size=3).map(tuple),
    st.booleans(),
)
messages = st.builds(
    m.MikeyMessage,
    headers,
    st.tuples(
        st.lists(payloads, max_size=6),
        st.one_of(st.none(), st.builds(m.Sign, st.integers(0, 15), blob)),
    ).map(lambda t: tuple(t[0]) + ((t[1],) if t[1] else ())),
)


@given(messages)
def test_round_trip(msg: m.MikeyMessage) -> None:
    assert m.decode_message(m.encode_message(msg)) == msg


@given(st.binary(max_size=120))
def test_fuzz_decode_message(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        m.decode_message(data)


@given(messages, st.data())
def test_fuzz_mutated_messages(msg: m.MikeyMessage, data: st.DataObject) -> None:
    raw = bytearray(m.encode_message(msg))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    try:
        again = m.decode_message(bytes(raw))
    except DecodeError:
        return
    assert m.encode_message(again) == bytes(raw)  # whatever decodes re-encodes exactly


@given(st.binary(max_size=60))
def test_fuzz_decode_key_data(data: bytes) -> None:
    try:
        items = m.decode_key_data(data)
    except DecodeError:
        return
    assert m.encode_key_data(items) == data


# --- the encoder refuses what it cannot write faithfully (each guard on its boundary) ------

_H = m.Header(m.DataType.PK_INIT, 1, ())
_LAST = int(m.PayloadType.LAST)


@pytest.mark.parametrize("prf", [-1, 128])
def test_the_encoder_refuses_a_prf_func_outside_7_bits(prf: int) -> None:
    m.encode_header(m.Header(m.DataType.PK_INIT, 1, (), prf_func=127), _LAST)
    with pytest.raises(LocalProtocolError, match="PRF"):
        m.encode_header(m.Header(m.DataType.PK_INIT, 1, (), prf_func=prf), _LAST)


def test_the_encoder_refuses_an_empty_rand() -> None:
    with pytest.raises(LocalProtocolError, match="empty RAND"):
        m.encode_payload(m.Rand(b""), _LAST)


@pytest.mark.parametrize("kind", [m.Kemac, m.Verification])
def test_the_encoder_refuses_a_mac_of_another_length_than_its_alg(kind: type) -> None:
    short = b"\x00" * 19  # HMAC-SHA-1-160 is 20 bytes
    p = (
        m.Kemac(m.EncrAlg.AES_CM_128, b"", m.MacAlg.HMAC_SHA1_160, short)
        if kind is m.Kemac
        else m.Verification(m.MacAlg.HMAC_SHA1_160, short)
    )
    with pytest.raises(LocalProtocolError, match="MAC length"):
        m.encode_payload(p, _LAST)


def test_the_encoder_refuses_a_pke_cache_flag_above_2() -> None:
    m.encode_payload(m.Pke(2, b"x"), _LAST)
    with pytest.raises(LocalProtocolError, match="PKE C"):
        m.encode_payload(m.Pke(3, b"x"), _LAST)


def test_the_encoder_refuses_pke_data_longer_than_14_bits() -> None:
    m.encode_payload(m.Pke(0, bytes((1 << 14) - 1)), _LAST)
    with pytest.raises(LocalProtocolError, match="14-bit"):
        m.encode_payload(m.Pke(0, bytes(1 << 14)), _LAST)


def test_the_encoder_refuses_a_signature_longer_than_12_bits() -> None:
    m.encode_payload(m.Sign(15, bytes((1 << 12) - 1)), _LAST)
    with pytest.raises(LocalProtocolError, match="12-bit"):
        m.encode_payload(m.Sign(15, bytes(1 << 12)), _LAST)


def test_the_encoder_refuses_a_sign_payload_that_is_not_last() -> None:
    sign = m.Sign(15, b"sig")
    with pytest.raises(LocalProtocolError, match="last"):
        m.encode_payload(sign, int(m.PayloadType.RAND))
    with pytest.raises(LocalProtocolError, match="last"):
        m.encode_pieces(m.MikeyMessage(_H, (sign, m.Rand(b"r"))))


def test_the_encoder_refuses_kv_data_that_does_not_match_its_kv_type() -> None:
    ok = m.KeyData(m.KeyType.TGK, b"k", kv_type=m.KvType.SPI, kv_data=(b"s",))
    m.encode_key_data([ok])
    bad = m.KeyData(m.KeyType.TGK, b"k", kv_type=m.KvType.SPI, kv_data=())
    with pytest.raises(LocalProtocolError, match="KV data"):
        m.encode_key_data([bad])


def test_a_key_data_sub_payload_is_refused_outside_a_kemac() -> None:
    # A header whose next payload is KEY_DATA (21): only a KEMAC's plaintext may hold one.
    raw = bytearray(m.encode_message(m.MikeyMessage(_H, ())))
    raw[2] = int(m.PayloadType.KEY_DATA)
    with pytest.raises(DecodeError, match="outside a KEMAC"):
        m.decode_message(bytes(raw))


def test_key_data_chained_to_another_payload_type_is_refused() -> None:
    # Two sub-payloads whose first names RAND (11), not KEY_DATA, as the next one.
    one = m.encode_key_data([m.KeyData(m.KeyType.TGK, b"k"), m.KeyData(m.KeyType.TGK, b"j")])
    assert len(m.decode_key_data(one)) == 2
    bad = bytes([int(m.PayloadType.RAND)]) + one[1:]
    with pytest.raises(DecodeError, match="inside KEMAC"):
        m.decode_key_data(bad)
