"""An in-memory datagram network for driving sans-IO SIP cores against each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Address = tuple[str, int]


class Core(Protocol):
    def receive(self, data: bytes, source: Address, now: float) -> None: ...
    def tick(self, now: float) -> None: ...
    def next_deadline(self) -> float | None: ...
    def take_outputs(self) -> list: ...  # type: ignore[type-arg]


@dataclass
class Network:
    """Delivers every Send output to the core bound at its destination, in order.

    ``drop`` names how many of the next datagrams to a given address are lost, to exercise
    retransmission.  Non-Send outputs are collected per core in ``events``.
    """

    cores: dict[Address, Core] = field(default_factory=dict)
    events: dict[Address, list[object]] = field(default_factory=dict)
    drop: dict[Address, int] = field(default_factory=dict)
    log: list[tuple[Address, Address, bytes]] = field(default_factory=list)
    now: float = 0.0

    def add(self, addr: Address, core: Core) -> None:
        self.cores[addr] = core
        self.events[addr] = []

    def pump(self) -> None:
        """Move messages until every core is quiet (at the current time)."""
        moved = True
        while moved:
            moved = False
            for addr, core in list(self.cores.items()):
                for out in core.take_outputs():
                    data = getattr(out, "data", None)
                    if data is None:
                        self.events[addr].append(out)
                        continue
                    moved = True
                    dest = out.dest
                    self.log.append((addr, dest, data))
                    if self.drop.get(dest, 0) > 0:
                        self.drop[dest] -= 1
                        continue
                    if dest in self.cores:
                        self.cores[dest].receive(data, addr, self.now)

    def advance(self, until: float) -> None:
        """Run timers up to ``until``, pumping after each."""
        self.pump()
        while True:
            due = [d for c in self.cores.values() if (d := c.next_deadline()) is not None]
            nxt = min(due, default=None)
            if nxt is None or nxt > until:
                break
            self.now = max(self.now, nxt)
            for core in self.cores.values():
                core.tick(self.now)
            self.pump()
        self.now = until
