"""20 ms PCMA packetisation of a WAV file (stdlib ``wave``): 8 kHz, mono, 16-bit in;
RTP packets of 160 A-law bytes out, timestamp advancing 160 per packet (RFC 3551: PCMA is
payload type 8, 8000 Hz).  The last, short frame is padded with A-law silence."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from typing import BinaryIO

from ethvoip.spec.errors import DecodeError

from . import g711
from .rtp import RtpPacket

RATE = 8000
FRAME = RATE // 50  # 20 ms
PT_PCMA = 8


def read_wav(source: str | BinaryIO) -> list[int]:
    """Samples of an 8 kHz mono 16-bit PCM WAV; anything else is a DecodeError."""
    try:
        with wave.open(source, "rb") as w:
            shape = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            if shape != (RATE, 1, 2):
                raise DecodeError(f"WAV: want 8000 Hz mono 16-bit, got {shape}")
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise DecodeError(f"WAV: {exc}") from exc
    if len(raw) % 2:
        raise DecodeError("WAV: odd number of data bytes")
    return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw), 2)]


def packetize(
    samples: list[int], *, ssrc: int, seq: int = 0, timestamp: int = 0
) -> Iterator[RtpPacket]:
    """RTP packets of 20 ms each; sequence and timestamp wrap as RFC 3550 says they do."""
    for n, start in enumerate(range(0, len(samples), FRAME)):
        payload = g711.encode(samples[start : start + FRAME]).ljust(FRAME, bytes([g711.SILENCE]))
        yield RtpPacket(
            PT_PCMA,
            (seq + n) & 0xFFFF,
            (timestamp + n * FRAME) & 0xFFFFFFFF,
            ssrc,
            payload,
            marker=n == 0,  # RFC 3551 section 4.1: marker on the first packet of a talkspurt
        )
