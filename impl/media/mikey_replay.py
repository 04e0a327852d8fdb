"""MIKEY replay protection (RFC 3830 section 5.4): a timestamp window plus a replay cache.

A message is fresh when its T lies within ``window`` seconds of the receiver's clock (the
clock is an argument: this module never reads the time) and its digest is not in the cache.
Entries leave the cache once their T has left the window, since the window check alone then
rejects them.  When the cache is full of live entries new messages are refused rather than
the oldest entry evicted: evicting would reopen a replay, refusing only delays a call.
"""

from __future__ import annotations

from ethvoip.spec.errors import ReplayError

NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP epoch) to 1970-01-01


def unix_to_ntp(t: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point, seconds since 1900) for Unix time ``t``."""
    if t < 0:
        raise ValueError("negative Unix time")
    return round((t + NTP_UNIX_OFFSET) * (1 << 32))


def ntp_to_unix(ntp: int) -> float:
    return ntp / (1 << 32) - NTP_UNIX_OFFSET


class ReplayGuard:
    """Per-receiver replay state.  ``check`` then ``commit``: nothing is recorded for a
    message that later fails another check."""

    def __init__(self, window: float = 60.0, max_entries: int = 4096) -> None:
        self.window = window
        self.max_entries = max_entries
        self._seen: dict[bytes, float] = {}  # digest -> Unix time carried in the message's T

    def _purge(self, now: float) -> None:
        stale = [d for d, t in self._seen.items() if t < now - self.window]
        for d in stale:
            del self._seen[d]

    def check(self, msg_time: float, digest: bytes, now: float) -> None:
        """Raise :class:`ReplayError` if the message is stale, from the future, or seen."""
        if abs(now - msg_time) > self.window:
            raise ReplayError(
                f"MIKEY: timestamp {msg_time:.3f} outside the {self.window:.0f} s window "
                f"around {now:.3f}"
            )
        if digest in self._seen:
            raise ReplayError("MIKEY: message already accepted (replay cache hit)")
        self._purge(now)
        if len(self._seen) >= self.max_entries:
            raise ReplayError("MIKEY: replay cache full; refusing rather than forgetting")

    def commit(self, msg_time: float, digest: bytes, now: float) -> None:
        self.check(msg_time, digest, now)
        self._seen[digest] = msg_time

    def __len__(self) -> int:
        return len(self._seen)
