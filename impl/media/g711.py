"""G.711 A-law (PCMA, RTP payload type 8), written from the ITU-T G.711 segment table.

A-law maps a 13-bit signed linear sample (here: a 16-bit sample with its 3 low bits dropped)
to 8 bits: sign, a 3-bit segment number and a 4-bit step within the segment.  The segment
table (G.711 Table 1a, magnitude in 12-bit units):

    segment   input range     step    decoded value of step q
       0         0 ..   31      2      2q + 1
       1        32 ..   63      2      (2q + 33) << 0
       2        64 ..  127      4      (2q + 33) << 1
       3       128 ..  255      8      (2q + 33) << 2
       4       256 ..  511     16      (2q + 33) << 3
       5       512 .. 1023     32      (2q + 33) << 4
       6      1024 .. 2047     64      (2q + 33) << 5
       7      2048 .. 4095    128      (2q + 33) << 6

The sign bit is 1 for positive values, and every even bit of the result is inverted (XOR
0x55), so digital silence (+0) is 0xD5.  Decoding returns the middle of the step, scaled
back to 16 bits.
"""

from __future__ import annotations

from ethvoip.spec.errors import LocalProtocolError

_SEGMENT_END = (31, 63, 127, 255, 511, 1023, 2047, 4095)


def _encode(sample: int) -> int:
    mag = sample >> 3  # 16-bit -> 13-bit signed
    sign = 0x80
    if mag < 0:
        mag, sign = -mag - 1, 0x00  # A-law is symmetric around -1/2, not 0
    seg = next(i for i, end in enumerate(_SEGMENT_END) if mag <= end)
    step = (mag >> 1) & 0x0F if seg == 0 else (mag >> seg) & 0x0F
    return (sign | seg << 4 | step) ^ 0x55


def _decode(code: int) -> int:
    code ^= 0x55
    seg, step = (code >> 4) & 0x07, code & 0x0F
    mag = 2 * step + 1 if seg == 0 else (2 * step + 33) << (seg - 1)
    return (mag << 3) if code & 0x80 else -(mag << 3)


ENCODE_TABLE = bytes(_encode(s) for s in range(-32768, 32768))  # index: sample + 32768
DECODE_TABLE = tuple(_decode(c) for c in range(256))
SILENCE = ENCODE_TABLE[32768]


def encode(samples: list[int] | tuple[int, ...]) -> bytes:
    """16-bit signed samples to A-law bytes."""
    if any(not -32768 <= s < 32768 for s in samples):
        raise LocalProtocolError("G.711: sample outside the 16-bit range")
    return bytes(ENCODE_TABLE[s + 32768] for s in samples)


def decode(data: bytes) -> list[int]:
    """A-law bytes to 16-bit signed samples."""
    return [DECODE_TABLE[b] for b in data]
