"""RFC 3261 timer values (section 17, table 4), as plain seconds.

Durations depend on whether the transport is reliable: the retransmission timers (A, E, G)
never run over TCP/TLS and the "wait for stragglers" timers (D, I, J, K) are zero there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Timer(Enum):
    A = "A"  # INVITE client: request retransmit (unreliable only), doubles
    B = "B"  # INVITE client: transaction timeout
    D = "D"  # INVITE client: wait for response retransmits after a final >= 300
    E = "E"  # non-INVITE client: request retransmit, doubles up to T2
    F = "F"  # non-INVITE client: transaction timeout
    G = "G"  # INVITE server: final response retransmit, doubles up to T2
    H = "H"  # INVITE server: wait for ACK
    I = "I"  # INVITE server: absorb ACK retransmits  # noqa: E741
    J = "J"  # non-INVITE server: absorb request retransmits
    K = "K"  # non-INVITE client: absorb response retransmits


@dataclass(frozen=True)
class TimerConfig:
    """T1, T2, T4 of RFC 3261 section 17.1.1.1 (defaults 0.5 s, 4 s, 5 s)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    def initial(self, timer: Timer, reliable: bool) -> float:
        t1, t4 = self.t1, self.t4
        table = {
            Timer.A: t1,
            Timer.B: 64 * t1,
            Timer.D: 0.0 if reliable else max(32.0, 64 * t1),
            Timer.E: t1,
            Timer.F: 64 * t1,
            Timer.G: t1,
            Timer.H: 64 * t1,
            Timer.I: 0.0 if reliable else t4,
            Timer.J: 0.0 if reliable else 64 * t1,
            Timer.K: 0.0 if reliable else t4,
        }
        return table[timer]

    def backoff(self, timer: Timer, current: float, *, in_proceeding: bool = False) -> float:
        """Next interval of a retransmission timer after it fired."""
        if timer is Timer.A:
            return 2 * current
        if timer is Timer.E and in_proceeding:
            return self.t2  # 17.1.2.2: in Proceeding, E fires every T2
        return min(2 * current, self.t2)
