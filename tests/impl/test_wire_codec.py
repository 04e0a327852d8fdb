"""Tests of ethvoip.impl.wire: hand-built byte layouts, round trips, and strictness fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl import wire
from ethvoip.impl.wire import SCHEMAS, Record, Tag, decode, encode
from ethvoip.spec.errors import DecodeError, LocalProtocolError


def _value(f: wire.Field) -> st.SearchStrategy[bytes]:
    if f.kind is wire.Kind.NAME:
        return st.text(
            alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
        ).map(str.encode)
    if f.size is not None:
        return st.binary(min_size=f.size, max_size=f.size)
    return st.binary(min_size=f.min_size, max_size=min(f.max_size, 100))


records = st.sampled_from(list(Tag)).flatmap(
    lambda t: st.tuples(*(_value(f) for f in SCHEMAS[t])).map(lambda vs: Record(t, vs))
)


def test_layout_written_out_by_hand() -> None:
    # The layout of the module docstring, spelled out independently of the encoder.
    n1, name = bytes(range(32)), b"+96170412611"
    body = (32).to_bytes(2, "big") + n1 + len(name).to_bytes(2, "big") + name
    expected = b"EV" + bytes([1, 0x12]) + len(body).to_bytes(4, "big") + body
    assert encode(Tag.PSK_1_BODY, n1, "+96170412611") == expected
    rec = decode(expected, Tag.PSK_1_BODY)
    assert rec["N1"] == n1 and rec.text("A") == "+96170412611"


def test_every_tag_has_a_schema() -> None:
    assert set(SCHEMAS) == set(Tag)


@given(records)
def test_round_trip(rec: Record) -> None:
    assert decode(rec.encode(), rec.tag) == rec


@given(records, st.data())
def test_truncation_is_refused(rec: Record, data: st.DataObject) -> None:
    raw = rec.encode()
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(DecodeError):
        decode(raw[:cut])


@given(records, st.binary(min_size=1, max_size=16))
def test_extension_is_refused(rec: Record, extra: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(rec.encode() + extra)


@given(records, st.sampled_from(list(Tag)))
def test_unexpected_tag_is_refused(rec: Record, other: Tag) -> None:
    if other is rec.tag:
        return
    with pytest.raises(DecodeError):
        decode(rec.encode(), other)


@given(records, st.integers(0, 255))
def test_unknown_tag_or_version_is_refused(rec: Record, byte: int) -> None:
    raw = bytearray(rec.encode())
    raw[2] = byte
    if byte != wire.VERSION:
        with pytest.raises(DecodeError):
            decode(bytes(raw))
    raw = bytearray(rec.encode())
    raw[3] = byte
    if byte not in {t.value for t in Tag}:
        with pytest.raises(DecodeError):
            decode(bytes(raw))


@given(records, st.data())
def test_wrong_lengths_are_refused(rec: Record, data: st.DataObject) -> None:
    raw = bytearray(rec.encode())
    # change the body length, or the first field's length
    at = data.draw(st.sampled_from([4, 8]))
    width = 4 if at == 4 else 2
    old = int.from_bytes(raw[at : at + width], "big")
    new = data.draw(st.integers(0, 2 ** (8 * width) - 1).filter(lambda n: n != old))
    raw[at : at + width] = new.to_bytes(width, "big")
    with pytest.raises(DecodeError):
        decode(bytes(raw))


@given(records, st.data())
def test_bit_flips_decode_or_fail_cleanly(rec: Record, data: st.DataObject) -> None:
    raw = bytearray(rec.encode())
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    try:
        out = decode(bytes(raw))
    except DecodeError:
        return
    # a flip inside a value can still decode: then it must differ from the original
    assert out != rec
    assert out.encode() == bytes(raw)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_decode_error(blob: bytes) -> None:
    try:
        rec = decode(blob)
    except DecodeError:
        return
    assert rec.encode() == blob


def test_non_utf8_name_is_refused() -> None:
    good = encode(Tag.MIKEY_INVITE, "alice", "bob")
    bad = good.replace(b"alice", b"al\xffce")
    with pytest.raises(DecodeError):
        decode(bad)


def test_encoder_refuses_bad_values() -> None:
    with pytest.raises(LocalProtocolError):
        encode(Tag.PSK_3_BODY, b"short")
    with pytest.raises(LocalProtocolError):
        encode(Tag.PSK_3_BODY, bytes(32), bytes(32))
    with pytest.raises(LocalProtocolError):
        encode(Tag.MIKEY_INVITE, "a" * 65, "b")
    with pytest.raises(LocalProtocolError):
        encode(Tag.MIKEY_INVITE, "a\n", "b")
