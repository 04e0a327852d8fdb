"""MIKEY replay protection (RFC 3830 section 5.4): a timestamp window plus a replay cache.

A message is fresh when its T lies within ``window`` seconds of the receiver's clock (the
clock is an argument: this module never reads the time) and its digest is not in the cache.
The window is the clock skew tolerated between the two phones, both ways (RFC 3830 section
5.4 leaves it to the implementation; the call path uses 120 s, ``FRESHNESS_WINDOW`` in
:mod:`ethvoip.impl.handshake.mikey`).
Entries leave the cache once their T has left the window, since the window check alone then
rejects them.  The cache is kept per sender identity (IDi): ``max_entries`` live entries per
sender and ``max_senders`` senders, so memory is bounded by their product, and a sender who
fills his share blocks only himself.  When a share (or the sender table) is full of live
entries new messages are refused rather than the oldest entry evicted: evicting would reopen
a replay, refusing only delays a call.
"""

from __future__ import annotations

from ethvoip.spec.errors import Check, Replayed, Stale

NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP epoch) to 1970-01-01


def unix_to_ntp(t: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point, seconds since 1900) for Unix time ``t``."""
    if t < 0:
        raise ValueError("negative Unix time")
    return round((t + NTP_UNIX_OFFSET) * (1 << 32))


def ntp_to_unix(ntp: int) -> float:
    return ntp / (1 << 32) - NTP_UNIX_OFFSET


class ReplayGuard:
    """Per-receiver replay state, per sender.  ``check`` then ``commit``: nothing is recorded
    for a message that later fails another check."""

    def __init__(self, window: float = 60.0, max_entries: int = 4096, max_senders: int = 4096):
        self.window = window
        self.max_entries = max_entries  # per sender
        self.max_senders = max_senders
        # sender (IDi) -> digest -> Unix time carried in the message's T
        self._seen: dict[bytes, dict[bytes, float]] = {}

    def _purge(self, now: float) -> None:
        for sender in list(self._seen):
            live = {d: t for d, t in self._seen[sender].items() if t >= now - self.window}
            if live:
                self._seen[sender] = live
            else:
                del self._seen[sender]

    def check(self, msg_time: float, digest: bytes, now: float, sender: bytes = b"") -> None:
        """Raise :class:`ReplayError` if the message is stale, from the future, or seen."""
        if abs(now - msg_time) > self.window:
            raise Stale(
                f"MIKEY: timestamp {msg_time:.3f} outside the {self.window:.0f} s window "
                f"around {now:.3f}"
            )
        if digest in self._seen.get(sender, {}):
            raise Replayed("MIKEY: message already accepted (replay cache hit)")
        self._purge(now)
        if len(self._seen.get(sender, {})) >= self.max_entries:
            raise Replayed(
                "MIKEY: this sender's replay cache is full; refusing", check=Check.REPLAY_CAPACITY
            )
        if sender not in self._seen and len(self._seen) >= self.max_senders:
            raise Replayed(
                "MIKEY: replay cache holds too many senders; refusing", check=Check.REPLAY_CAPACITY
            )

    def commit(self, msg_time: float, digest: bytes, now: float, sender: bytes = b"") -> None:
        self.check(msg_time, digest, now, sender)
        self._seen.setdefault(sender, {})[digest] = msg_time

    def __len__(self) -> int:
        return sum(len(v) for v in self._seen.values())
