"""The generic sans-IO role machine: a spec ``Role`` plus a table of step handlers.

A :class:`RoleMachine` walks the steps of its spec role in order.  ``Send`` and ``Recv`` steps
are executed by the protocol module's handler for that step label; ``Lookup`` steps are done
here, from the spec, through the injected :class:`Directory`.  The table must cover exactly
the spec's send and receive labels with handlers of the same kind (checked when the machine
is built), so the spec and the code cannot drift apart.

Bytes in, events out (h11 style): :meth:`RoleMachine.start` runs until the machine needs a
message, :meth:`RoleMachine.receive` feeds it one message; both return the :class:`Event` s
produced, each carrying the step label.  No sockets, no clock, no randomness of its own: time
and randomness come in through :class:`Env`.

Every value a run binds is kept under its spec variable name (``N1``, ``KB``, ``Ks`` ...), so
:meth:`RoleMachine.term_of` can say which symbolic term a step sent or received.

Failure: any rejection raises a typed :class:`EthVoipError` and leaves the machine ``FAILED``;
a failed or finished machine refuses all further input with :class:`LocalProtocolError`.  A
receive handler only *returns* the values it would bind, and nothing is committed (bindings,
replay cache) unless every check passed, so a rejected message changes nothing but the state.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypeAlias

from ethvoip.impl.crypto import DEFAULT_RNG, IdentityKey, IdentityPublicKey, Rng
from ethvoip.spec.errors import (
    ChainError,
    Check,
    EthVoipError,
    LocalProtocolError,
    MalformedProtocol,
    Replayed,
)
from ethvoip.spec.protocol import Lookup, Recv, Role, Send, Variant
from ethvoip.spec.terms import Fresh, Term, Var, fresh_names, substitute, variables

Value: TypeAlias = bytes | str | IdentityPublicKey
"""A concrete value bound to a spec variable: bytes (nonces, keys), str (agent names), keys."""

Bindings: TypeAlias = Mapping[str, Value]


class Directory(Protocol):
    """The key store as the handshakes see it: name -> registered public key.

    ``lookup`` raises an :class:`EthVoipError` (a :class:`ChainError` for the chain-backed
    store) when nothing usable is registered under ``name``.
    """

    def lookup(self, name: str) -> IdentityPublicKey: ...


class StaticDirectory:
    """An in-memory :class:`Directory` (tests, benchmarks, conformance replays)."""

    def __init__(self, entries: Mapping[str, IdentityPublicKey] | None = None) -> None:
        self._entries: dict[str, IdentityPublicKey] = dict(entries or {})

    def register(self, name: str, key: IdentityPublicKey) -> None:
        """Register ``key`` under ``name``: no proof of possession, as in the paper's store."""
        self._entries[name] = key

    def lookup(self, name: str) -> IdentityPublicKey:
        try:
            return self._entries[name]
        except KeyError:
            raise ChainError(f"no public key registered under {name!r}") from None


class ReplayCache:
    """What an agent has accepted in ``Recv.once`` positions, across all its runs of a role.

    Entries older than ``horizon`` seconds (by the injected clock) are forgotten: a protocol
    that uses a cache also checks freshness with a window no longer than the horizon, so a
    forgotten entry is already too old to be accepted.

    Per sender and bounded: the first ``once`` value names the sender (the spec's protocols
    put it first: ``(A, T, RAND)``, ``(S, NP)``), and entries are kept per sender, at most
    ``per_sender`` live ones each and ``max_senders`` senders.  A message that would go over
    either bound is refused (:meth:`make_room` raises :class:`ReplayError`) rather than a live
    entry forgotten, which would reopen a replay; so a sender who floods the cache fills only
    his own share, and no sender's values can collide with another's.
    """

    def __init__(
        self, horizon: float = 600.0, per_sender: int = 1024, max_senders: int = 4096
    ) -> None:
        self.horizon = horizon
        self.per_sender = per_sender
        self.max_senders = max_senders
        self._seen: dict[bytes, dict[tuple[bytes, ...], float]] = {}

    def __contains__(self, key: tuple[bytes, ...]) -> bool:
        return key[1:] in self._seen.get(key[0], {}) if key else False

    def _purge(self, now: float) -> None:
        for sender in list(self._seen):
            live = {k: t for k, t in self._seen[sender].items() if now - t <= self.horizon}
            if live:
                self._seen[sender] = live
            else:
                del self._seen[sender]

    def make_room(self, key: tuple[bytes, ...], now: float) -> None:
        """Raise :class:`ReplayError` if ``key`` could not be added without forgetting a live
        entry (its sender's share, or the number of senders, is full)."""
        self._purge(now)
        sender = key[0] if key else b""
        if len(self._seen.get(sender, {})) >= self.per_sender:
            raise Replayed(
                "replay cache: this sender's share is full; refused", check=Check.REPLAY_CAPACITY
            )
        if sender not in self._seen and len(self._seen) >= self.max_senders:
            raise Replayed(
                "replay cache: too many senders within the horizon; refused",
                check=Check.REPLAY_CAPACITY,
            )

    def add(self, key: tuple[bytes, ...], now: float) -> None:
        self.make_room(key, now)
        sender = key[0] if key else b""
        self._seen.setdefault(sender, {})[key[1:]] = now

    def __len__(self) -> int:
        return sum(len(v) for v in self._seen.values())


@dataclass
class Env:
    """What a machine is given from outside: identity, key store, randomness, time, cache.

    ``clock`` returns seconds (any epoch both peers share); protocols that check freshness
    refuse to run without one.  ``replay_cache`` is shared by all runs of one agent.
    """

    name: str
    key: IdentityKey
    directory: Directory
    rng: Rng = DEFAULT_RNG
    clock: Callable[[], float] | None = None
    replay_cache: ReplayCache = field(default_factory=ReplayCache)

    def now(self) -> float:
        if self.clock is None:
            raise LocalProtocolError("this protocol checks freshness: give the machine a clock")
        return self.clock()


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """The machine produced ``data`` at step ``label``: the caller transmits it."""

    label: str
    data: bytes


@dataclass(frozen=True)
class Received:
    """The message fed at step ``label`` passed every check and was accepted."""

    label: str
    data: bytes


@dataclass(frozen=True)
class LookedUp:
    """The machine looked up ``name`` in the key store at step ``label``."""

    label: str
    name: str
    key: IdentityPublicKey


@dataclass(frozen=True)
class Completed:
    """The run finished at step ``label``: it holds ``session_key`` and believes in ``peer``."""

    label: str
    peer: str
    session_key: bytes


Event: TypeAlias = Sent | Received | LookedUp | Completed


# --------------------------------------------------------------------------------------
# Handler tables
# --------------------------------------------------------------------------------------


class Run:
    """What a handler sees: the environment and the values bound so far (read-only)."""

    def __init__(self, env: Env, variant: str, bindings: Bindings) -> None:
        self.env = env
        self.variant = variant
        self._bindings = bindings

    def bytes_(self, name: str) -> bytes:
        v = self._bindings[name]
        if not isinstance(v, bytes):
            raise LocalProtocolError(f"{name} is bound to {type(v).__name__}, not bytes")
        return v

    def name(self, var: str) -> str:
        v = self._bindings[var]
        if not isinstance(v, str):
            raise LocalProtocolError(f"{var} is bound to {type(v).__name__}, not a name")
        return v

    def pub(self, var: str) -> IdentityPublicKey:
        v = self._bindings[var]
        if not isinstance(v, IdentityPublicKey):
            raise LocalProtocolError(f"{var} is bound to {type(v).__name__}, not a public key")
        return v

    def fresh(self, n: int = 32) -> bytes:
        return self.env.rng(n)

    def has(self, var: str) -> bool:
        return var in self._bindings

    def extended(self, extra: Bindings) -> Run:
        """A view with ``extra`` bound too (for a handler that checks before committing)."""
        return Run(self.env, self.variant, {**self._bindings, **extra})


SendHandler: TypeAlias = Callable[[Run], tuple[bytes, dict[str, Value]]]
"""Builds the message of a send step; returns it with the fresh values it generated."""

RecvHandler: TypeAlias = Callable[[Run, bytes], dict[str, Value]]
"""Checks a received message; returns the values it binds, or raises."""


@dataclass(frozen=True)
class RoleSpec:
    """How one role of one variant is implemented: handlers by label, and the run's outcome.

    ``peer_var`` names the variable holding the agent the run believes it talks to;
    ``session_key`` computes the key a finished run holds from its bindings.
    """

    sends: Mapping[str, SendHandler]
    recvs: Mapping[str, RecvHandler]
    peer_var: str
    session_key: Callable[[Run], bytes]


def check_table(protocol: str, variant: Variant, role: Role, spec: RoleSpec) -> None:
    """Raise :class:`MalformedProtocol` unless ``spec`` implements exactly ``role``'s steps."""
    where = {"protocol": protocol, "variant": variant.name, "role": role.name}
    for step in role.steps:
        if isinstance(step, Send) and step.label not in spec.sends:
            raise MalformedProtocol("send step has no handler", label=step.label, **where)
        if isinstance(step, Recv) and step.label not in spec.recvs:
            raise MalformedProtocol("receive step has no handler", label=step.label, **where)
        if isinstance(step, Recv) and not all(isinstance(t, Var) for t in step.once):
            raise MalformedProtocol("replay cache over non-variables", label=step.label, **where)
    kinds = {s.label: type(s) for s in role.steps}
    for label in spec.sends:
        if kinds.get(label) is not Send:
            raise MalformedProtocol("handler for a label that is not a send", label=label, **where)
    for label in spec.recvs:
        if kinds.get(label) is not Recv:
            raise MalformedProtocol("handler for a label that is not a recv", label=label, **where)


# --------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------


class State(enum.Enum):
    IDLE = "idle"  # built, not started
    WAITING = "waiting"  # needs the message of ``expecting``
    DONE = "done"
    FAILED = "failed"


class RoleMachine:
    """One run of one role of one protocol variant (see the module docstring)."""

    def __init__(
        self,
        protocol: str,
        variant: Variant,
        role: Role,
        spec: RoleSpec,
        env: Env,
        peers: Mapping[str, str],
    ) -> None:
        check_table(protocol, variant, role, spec)
        wanted = {p.name for p in role.params} - {role.agent.name}
        if set(peers) != wanted:
            raise LocalProtocolError(
                f"{protocol}/{variant.name}/{role.name} needs peers {sorted(wanted)}, "
                f"got {sorted(peers)}"
            )
        self.protocol = protocol
        self.variant = variant
        self.role = role
        self._spec = spec
        self.env = env
        self._bindings: dict[str, Value] = {role.agent.name: env.name, **peers}
        self._pc = 0  # index of the next step
        self.state = State.IDLE
        self.error: EthVoipError | None = None
        self.transcript: list[Event] = []

    # -- inspection --------------------------------------------------------------------

    @property
    def bindings(self) -> Bindings:
        return MappingProxyType(self._bindings)

    @property
    def expecting(self) -> str | None:
        """The label of the receive step the machine waits at, if it waits."""
        return self.role.steps[self._pc].label if self.state is State.WAITING else None

    @property
    def done_labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.role.steps[: self._pc])

    def fork(self) -> RoleMachine:
        """A copy of this run that shares its environment (key store, randomness, replay
        cache): feed it a message to see what this run would do, then keep either.

        Nothing shared is touched by a refused message (a receive commits only after every
        check), so a refused fork can be dropped; an accepted one must replace the original,
        since its replay-cache entry and drawn randomness are already spent.
        """
        twin = copy.copy(self)
        twin._bindings = dict(self._bindings)
        twin.transcript = list(self.transcript)
        return twin

    def term_of(self, label: str, naming: Callable[[Value], Term]) -> Term:
        """The symbolic term of what step ``label`` sent, received or looked up.

        It is the spec's term for that step with every variable and fresh name replaced by
        ``naming`` of the concrete value this run bound to it.  The machine produced (or
        accepted after checking every part of) exactly that message, so this is the term of
        the concrete bytes.  ``naming`` raises ``KeyError`` for a value it has no atom for.
        """
        step = self.role.step(label)
        if label not in self.done_labels:
            raise LocalProtocolError(f"step {label} has not been executed")
        match step:
            case Send(term=t) | Recv(pattern=t):
                term = t
            case Lookup(key=k):
                term = k
        free: set[Var | Fresh] = set(variables(term)) | set(fresh_names(term))
        mapping = {s: naming(self._bindings[s.name]) for s in free}
        return substitute(term, mapping)

    # -- driving -----------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Run the steps up to the first receive (or to the end)."""
        if self.state is not State.IDLE:
            raise self._fail(LocalProtocolError(f"start() in state {self.state.value}"))
        return self._guard(self._advance)

    def receive(self, data: bytes) -> list[Event]:
        """Feed the message the machine waits for; run on to the next receive or the end.

        A machine not yet started is started first (a responder's first step is a receive).
        """
        before: list[Event] = self.start() if self.state is State.IDLE else []
        if self.state is not State.WAITING:
            raise self._fail(LocalProtocolError(f"receive() in state {self.state.value}"))

        def go() -> list[Event]:
            step = self.role.steps[self._pc]
            assert isinstance(step, Recv)
            run = Run(self.env, self.variant.name, self._bindings)
            new = self._spec.recvs[step.label](run, data)
            once_key: tuple[bytes, ...] | None = None
            if step.once:
                merged = {**self._bindings, **new}
                once_key = tuple(
                    _once_bytes(merged[v.name]) for v in step.once if isinstance(v, Var)
                )
                if once_key in self.env.replay_cache:
                    raise Replayed(f"{step.label}: message already accepted once (replay)")
                self.env.replay_cache.make_room(once_key, self.env.now())
            # every check passed: commit
            if once_key is not None:
                self.env.replay_cache.add(once_key, self.env.now())
            self._bindings.update(new)
            self._pc += 1
            return [*before, self._log(Received(step.label, bytes(data))), *self._advance()]

        return self._guard(go)

    # -- internals ---------------------------------------------------------------------

    def _advance(self) -> list[Event]:
        events: list[Event] = []
        while self._pc < len(self.role.steps):
            step = self.role.steps[self._pc]
            run = Run(self.env, self.variant.name, self._bindings)
            match step:
                case Recv():
                    self.state = State.WAITING
                    return events
                case Send(label=label):
                    data, new = self._spec.sends[label](run)
                    self._bindings.update(new)
                    events.append(self._log(Sent(label, data)))
                case Lookup(label=label, name=name_term, key=key_var):
                    if not isinstance(name_term, Var):
                        raise MalformedProtocol("look-up of a non-variable", label=label)
                    name = run.name(name_term.name)
                    key = self.env.directory.lookup(name)
                    self._bindings[key_var.name] = key
                    events.append(self._log(LookedUp(label, name, key)))
            self._pc += 1
        self.state = State.DONE
        run = Run(self.env, self.variant.name, self._bindings)
        last = self.role.steps[-1].label
        peer = run.name(self._spec.peer_var)
        events.append(self._log(Completed(last, peer, self._spec.session_key(run))))
        return events

    def _guard(self, fn: Callable[[], list[Event]]) -> list[Event]:
        try:
            return fn()
        except EthVoipError as exc:
            raise self._fail(exc) from None

    def _fail(self, exc: EthVoipError) -> EthVoipError:
        if self.state is not State.FAILED:
            self.state = State.FAILED
            self.error = exc
        return exc

    def _log(self, ev: Event) -> Event:
        self.transcript.append(ev)
        return ev

    def __repr__(self) -> str:
        return (
            f"RoleMachine({self.protocol}/{self.variant.name}/{self.role.name} "
            f"as {self.env.name}, {self.state.value}, next={self.expecting})"
        )


def _once_bytes(v: Value) -> bytes:
    if isinstance(v, IdentityPublicKey):
        return v.to_bytes()
    return v.encode() if isinstance(v, str) else v
