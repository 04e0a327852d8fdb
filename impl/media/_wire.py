"""A strict big-endian byte reader shared by the media codecs.

Every read either returns exactly the bytes asked for or raises :class:`DecodeError`, so a
codec built on it can never silently read past the end of its input.
"""

from __future__ import annotations

from ethvoip.spec.errors import DecodeError


class Reader:
    """Consumes a byte string from the front; ``what`` names the format in error messages."""

    __slots__ = ("_data", "_pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    @property
    def pos(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int, field: str) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise DecodeError(f"{self.what}: truncated {field} (need {n}, have {self.remaining})")
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "big")

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "big")

    def u64(self, field: str) -> int:
        return int.from_bytes(self.take(8, field), "big")

    def rest(self) -> bytes:
        out = self._data[self._pos :]
        self._pos = len(self._data)
        return out

    def done(self) -> None:
        """Insist that every byte was consumed (trailing garbage is an error, not ignored)."""
        if self._pos != len(self._data):
            raise DecodeError(f"{self.what}: {self.remaining} trailing bytes")
