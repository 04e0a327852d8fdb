"""Shared fixtures for the handshake tests: a small world of agents, keys and a directory."""

from __future__ import annotations

from dataclasses import dataclass, field

from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.impl.handshake import (
    SPECS,
    Env,
    ReplayCache,
    RoleMachine,
    Sent,
    StaticDirectory,
    create,
)
from ethvoip.impl.handshake.machine import Event

ALICE, BOB, EVE = "+96176661367", "+96170412611", "+96100000666"


class Clock:
    """A settable clock (seconds)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    """Alice, Bob and Eve with keys registered in one directory; Eve is the intruder."""

    seed: bytes = b"world"
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        rng = seeded_rng(self.seed)
        self.rng = rng
        self.keys = {n: IdentityKey.generate(rng) for n in (ALICE, BOB, EVE)}
        self.directory = StaticDirectory({n: k.public_key for n, k in self.keys.items()})
        self.caches = {n: ReplayCache() for n in self.keys}

    def env(self, name: str) -> Env:
        return Env(
            name,
            self.keys[name],
            self.directory,
            rng=self.rng,
            clock=self.clock,
            replay_cache=self.caches[name],
        )

    def machine(self, protocol: str, variant: str, role: str, me: str, **peers: str) -> RoleMachine:
        return create(protocol, variant, role, self.env(me), **peers)

    def responder(self, protocol: str, variant: str, me: str, caller: str) -> RoleMachine:
        """The R machine of ``me``, told its caller if the role starts with one (sts: the SIP
        dialog's peer)."""
        wanted = {v.name for v in SPECS[protocol].variant(variant).role("R").params} - {"B"}
        return self.machine(protocol, variant, "R", me, **dict.fromkeys(wanted, caller))


def sent(events: list[Event]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Sent)]


def pump(initiator: RoleMachine, responder: RoleMachine) -> None:
    """Relay every message between two machines until neither has anything to send."""
    to_r = sent(initiator.start())
    to_i = sent(responder.start())
    while to_r or to_i:
        nxt_i: list[bytes] = []
        for m in to_r:
            nxt_i += sent(responder.receive(m))
        nxt_r: list[bytes] = []
        for m in to_i:
            nxt_r += sent(initiator.receive(m))
        to_r, to_i = nxt_r, nxt_i
