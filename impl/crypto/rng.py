"""Randomness as an injected source: :data:`Rng` (``n -> n random bytes``), the default
(:func:`os.urandom`) and a seeded stream for tests and conformance replays."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeAlias

from ethvoip.impl.crypto.hashes import sha256
from ethvoip.spec.errors import CryptoError

Rng: TypeAlias = Callable[[int], bytes]
"""A source of randomness: ``rng(n)`` returns ``n`` bytes."""

DEFAULT_RNG: Rng = os.urandom


def take(rng: Rng, n: int) -> bytes:
    out = rng(n)
    if not isinstance(out, bytes) or len(out) != n:
        raise CryptoError(f"randomness source returned {len(out)} bytes instead of {n}")
    return out


def seeded_rng(seed: bytes) -> Rng:
    """A deterministic byte stream from ``seed`` (for tests and replays, never for keys in use).

    Counter-mode SHA-256: block ``i`` is ``sha256(seed || i)``; successive calls continue the
    stream, so a run driven by the same seed draws the same bytes in the same order.
    """
    state = {"counter": 0, "buffer": b""}

    def rng(n: int) -> bytes:
        buf = state["buffer"]
        assert isinstance(buf, bytes)
        while len(buf) < n:
            counter = state["counter"]
            assert isinstance(counter, int)
            buf += sha256(seed + counter.to_bytes(8, "big"))
            state["counter"] = counter + 1
        state["buffer"] = buf[n:]
        return buf[:n]

    return rng
