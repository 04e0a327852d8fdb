"""Property tests: the SIP decoders either decode or raise DecodeError, never anything else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.sip.codec import (
    MAX_HEADER_BYTES,
    StreamDecoder,
    decode_datagram,
    encode,
)
from ethvoip.spec.errors import DecodeError

from .vectors import RFC4475_WELL_FORMED, rfc4475

SEEDS = [rfc4475(n) for n in RFC4475_WELL_FORMED]


def _decode_or_reject(data: bytes) -> None:
    try:
        msg = decode_datagram(data)
    except DecodeError:
        return
    # Whatever decodes must re-encode and decode to the same message.
    assert decode_datagram(encode(msg)) == msg


@settings(max_examples=150)
@given(st.sampled_from(SEEDS), st.data())
def test_truncation(seed: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(seed)))
    _decode_or_reject(seed[:cut])


@settings(max_examples=200)
@given(st.sampled_from(SEEDS), st.data())
def test_bit_flips(seed: bytes, data: st.DataObject) -> None:
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] ^= 1 << data.draw(st.integers(0, 7))
    _decode_or_reject(bytes(buf))


@settings(max_examples=100)
@given(st.binary(max_size=400))
def test_arbitrary_bytes(blob: bytes) -> None:
    _decode_or_reject(blob)


@settings(max_examples=100)
@given(
    st.sampled_from(SEEDS),
    st.text(alphabet='abc ;=,<>":@\t', max_size=60),
    st.integers(1, 5),
)
def test_inserted_header_lines(seed: bytes, junk: str, where: int) -> None:
    lines = seed.split(b"\r\n")
    lines.insert(min(where, 5), junk.encode())
    _decode_or_reject(b"\r\n".join(lines))


@settings(max_examples=20)
@given(st.integers(MAX_HEADER_BYTES, MAX_HEADER_BYTES * 3))
def test_huge_header_rejected(size: int) -> None:
    seed = rfc4475("lwsdisp")
    huge = seed.replace(b"l: 0", b"X-Big: " + b"a" * size + b"\r\nl: 0")
    try:
        decode_datagram(huge)
    except DecodeError:
        return
    raise AssertionError("oversized header section accepted")


@settings(max_examples=100)
@given(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=3), st.data())
def test_stream_chunking_does_not_matter(msgs: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    dec = StreamDecoder()
    out = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        out += dec.feed(stream[prev:cut])
        prev = cut
    assert out == [decode_datagram(m) for m in msgs]


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_stream_decoder_rejects_or_waits(blob: bytes) -> None:
    dec = StreamDecoder()
    try:
        dec.feed(blob)
    except DecodeError:
        assert dec.closed
