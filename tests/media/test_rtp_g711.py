"""RTP and RTCP codecs, G.711 A-law and the 20 ms WAV packetiser."""

from __future__ import annotations

import contextlib
import io
import math
import struct
import warnings
import wave

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.media import g711
from ethvoip.impl.media.packetize import FRAME, packetize, read_wav
from ethvoip.impl.media.rtcp import PT_RR, RtcpApp, RtcpRaw, decode_rtcp, encode_rtcp
from ethvoip.impl.media.rtp import RtpPacket, decode_rtp, encode_rtp
from ethvoip.spec.errors import DecodeError, LocalProtocolError

# --- RTP ----------------------------------------------------------------------------------


def test_rtp_hand_built() -> None:
    # RFC 3550 5.1 by hand: V=2 P=1 X=1 CC=1, M=1 PT=8, seq, ts, SSRC, CSRC,
    # extension (profile 0xBEDE, 1 word), payload "ab", padding 2 (0x00 0x02).
    raw = bytes.fromhex("b1 88 0102 00000003 00000004 00000005 bede0001 01020304 6162 0002")
    p = decode_rtp(raw)
    assert p == RtpPacket(8, 0x0102, 3, 4, b"ab", True, (5,), (0xBEDE, b"\x01\x02\x03\x04"), 2)
    assert encode_rtp(p) == raw


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        bytes.fromhex("40 08 0000 00000000 00000000"),  # version 1
        bytes.fromhex("81 08 0000 00000000 00000000"),  # CC=1, no CSRC
        bytes.fromhex("90 08 0000 00000000 00000000 bede0002 00000000"),  # ext too short
        bytes.fromhex("a0 08 0000 00000000 00000000 0005"),  # padding longer than body
        bytes.fromhex("a0 08 0000 00000000 00000000 0000"),  # padding count 0
    ],
)
def test_rtp_rejects(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_rtp(bad)


packets = st.builds(
    RtpPacket,
    st.integers(0, 127),
    st.integers(0, 65535),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.binary(max_size=40),
    st.booleans(),
    st.lists(st.integers(0, 2**32 - 1), max_size=15).map(tuple),
    st.one_of(
        st.none(), st.tuples(st.integers(0, 65535), st.binary(max_size=8).map(lambda b: b * 4))
    ),
    st.integers(0, 255),
)


@given(packets)
def test_rtp_round_trip(p: RtpPacket) -> None:
    assert decode_rtp(encode_rtp(p)) == p


@given(st.binary(max_size=80))
def test_rtp_fuzz(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        assert encode_rtp(decode_rtp(data)) == data


# --- RTCP ---------------------------------------------------------------------------------


def test_rtcp_app_hand_built() -> None:
    # RFC 3550 6.7 by hand: V=2 P=0 subtype 3, PT 204, length 3 words, SSRC, "STS1", 4 bytes.
    raw = bytes.fromhex("83 cc 0003 11223344 53545331 deadbeef")
    assert decode_rtcp(raw) == [RtcpApp(3, 0x11223344, b"STS1", bytes.fromhex("deadbeef"))]
    assert encode_rtcp(decode_rtcp(raw)) == raw


def test_rtcp_compound_keeps_other_packets() -> None:
    rr = RtcpRaw(PT_RR, 0, bytes(4))  # RR with no report blocks: just the SSRC
    app = RtcpApp(1, 7, b"STS2", bytes(8))
    assert decode_rtcp(encode_rtcp([rr, app])) == [rr, app]


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        bytes.fromhex("43 cc 0000"),  # version 1
        bytes.fromhex("a3 cc 0000"),  # padding
        bytes.fromhex("83 10 0000"),  # packet type outside 192..223 (an RTP PT)
        bytes.fromhex("83 cc 0001 11223344"),  # APP without name
        bytes.fromhex("83 cc 0005 11223344"),  # length beyond data
        bytes.fromhex("83 cc 0002 11223344 ff545331"),  # non-ASCII name
    ],
)
def test_rtcp_rejects(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_rtcp(bad)


def test_rtcp_encoder_refuses() -> None:
    with pytest.raises(LocalProtocolError):
        encode_rtcp([RtcpApp(1, 7, b"TOOLONG", b"")])
    with pytest.raises(LocalProtocolError):
        encode_rtcp([RtcpApp(1, 7, b"STS1", b"odd")])


@given(st.binary(max_size=80))
def test_rtcp_fuzz(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        assert encode_rtcp(decode_rtcp(data)) == data


# --- G.711 A-law --------------------------------------------------------------------------

# ITU-T G.711 Table 1a segment boundaries on the 13-bit scale (12-bit magnitude) and the
# segment each range must land in; a 16-bit sample is the 13-bit value << 3.
SEGMENTS = [
    (0, 31),
    (32, 63),
    (64, 127),
    (128, 255),
    (256, 511),
    (512, 1023),
    (1024, 2047),
    (2048, 4095),
]


@pytest.mark.parametrize("seg", range(8))
def test_segment_table(seg: int) -> None:
    lo, hi = SEGMENTS[seg]
    for mag in (lo, hi):
        code = g711.encode([mag << 3])[0] ^ 0x55  # undo even-bit inversion
        assert code & 0x80  # positive
        assert (code >> 4) & 7 == seg
    step = 2 if seg <= 1 else 1 << seg
    assert (g711.encode([hi << 3])[0] ^ 0x55) & 0x0F == 15
    assert (g711.encode([lo << 3])[0] ^ 0x55) & 0x0F == 0
    # Decoded value: the middle of the step interval (G.711 decoder output).
    assert g711.decode(g711.encode([lo << 3]))[0] == (lo + step // 2) << 3


def test_well_known_codes() -> None:
    assert g711.SILENCE == 0xD5  # +0 after even-bit inversion, PCMA digital silence
    assert g711.encode([32767, -32768]) == bytes([0xAA, 0x2A])  # +max, -max
    assert g711.decode(bytes([0xD5, 0x55])) == [8, -8]


def test_matches_stdlib_audioop_everywhere() -> None:
    # An independent C implementation (CPython's audioop, present up to 3.12).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    every = list(range(-32768, 32768))
    assert g711.encode(every) == audioop.lin2alaw(struct.pack(f"<{len(every)}h", *every), 2)
    ref = struct.unpack("<256h", audioop.alaw2lin(bytes(range(256)), 2))
    assert g711.decode(bytes(range(256))) == list(ref)


def test_encode_refuses_out_of_range() -> None:
    with pytest.raises(LocalProtocolError):
        g711.encode([32768])


# --- WAV packetisation --------------------------------------------------------------------


def make_wav(samples: list[int], rate: int = 8000, channels: int = 1) -> io.BytesIO:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    buf.seek(0)
    return buf


def test_packetize_wav() -> None:
    tone = [round(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(8000 + 50)]
    samples = read_wav(make_wav(tone))
    assert samples == tone
    pkts = list(packetize(samples, ssrc=9, seq=65534, timestamp=2**32 - 160))
    assert len(pkts) == 51  # 50 full frames of 20 ms + a short one, padded
    assert [p.seq for p in pkts[:4]] == [65534, 65535, 0, 1]
    assert [p.timestamp for p in pkts[:3]] == [2**32 - 160, 0, 160]
    assert all(len(p.payload) == FRAME and p.payload_type == 8 for p in pkts)
    assert pkts[0].marker and not pkts[1].marker
    assert pkts[-1].payload[50:] == bytes([0xD5]) * (FRAME - 50)
    assert g711.decode(pkts[0].payload)[:3] == g711.decode(g711.encode(tone[:3]))


def test_read_wav_refuses_other_formats() -> None:
    with pytest.raises(DecodeError):
        read_wav(make_wav([0] * 10, rate=16000))
    with pytest.raises(DecodeError):
        read_wav(make_wav([0] * 10, channels=2))
    with pytest.raises(DecodeError):
        read_wav(io.BytesIO(b"RIFF\x00\x00\x00\x00WAVEjunk"))
