"""The concrete world of a replay: who the symbolic agents are, their keys, and the naming.

A model trace speaks of agents ``a``, ``b``, ``e`` and of fresh atoms ``N1#2``, ``x#1``,
``key1#e``.  A :class:`World` gives each agent a phone number and an identity key (``e`` gets
his own key, like any subscriber), builds the key directory the trace states (``e`` may be
registered with someone else's public key where the paper's store allows it), and hands
every run a deterministic random stream and the shared clock.

A :class:`Naming` maps concrete values back to symbolic terms, exactly: agent names and
public keys by their owner, fresh values by the run that generated them (``N1`` bound by
run 2 is ``N1#2``; the X25519 public value of run 1's ``x`` is ``g^x#1``).  It is one-to-one
and filled in as the replay goes; a value that would get two names, or a name two values,
is a :class:`ConformanceError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ethvoip.impl.crypto import DhKey, IdentityKey, IdentityPublicKey, Rng, seeded_rng
from ethvoip.impl.handshake import Env, ReplayCache, StaticDirectory, Value
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.protocol import Role
from ethvoip.spec.semantics import INTRUDER
from ethvoip.spec.terms import Atom, G, Pk, Sort, Term, exp

#: Phone numbers (E.164) of the symbolic agents; ``e`` is the intruder, a subscriber too.
PHONES: Mapping[str, str] = {
    "a": "+96176661367",
    "b": "+96170412611",
    "c": "+96171000333",
    "e": "+96100000666",
}

EPOCH = 1_700_000_000.0  # the shared clock of every replay (seconds)


class World:
    """Agents, keys, directory, clock and per-run randomness for one replay."""

    def __init__(self, seed: bytes, agents: Iterable[str] = ("a", "b", "e")) -> None:
        self.seed = seed
        self.agents = tuple(dict.fromkeys([*agents, INTRUDER.name]))
        unknown = [a for a in self.agents if a not in PHONES]
        if unknown:
            raise ConformanceError(f"no phone number for agents {unknown}")
        self.keys: dict[str, IdentityKey] = {
            a: IdentityKey.generate(seeded_rng(seed + b"/identity/" + a.encode()))
            for a in self.agents
        }
        self.caches = {a: ReplayCache() for a in self.agents}
        self.directory = StaticDirectory()
        self.now = EPOCH

    # -- names and keys ------------------------------------------------------------------

    def phone(self, agent: str) -> str:
        return PHONES[agent]

    def agent_of(self, phone: str) -> str | None:
        for a in self.agents:
            if PHONES[a] == phone:
                return a
        return None

    def public_key(self, agent: str) -> IdentityPublicKey:
        """``pk(agent)``: the public half of the key the agent really holds."""
        return self.keys[agent].public_key

    def owner(self, key: IdentityPublicKey) -> str | None:
        for a, k in self.keys.items():
            if k.public_key == key:
                return a
        return None

    def register(self, directory: Mapping[str, Term]) -> None:
        """Fill the key directory as the trace states: ``name -> pk(owner)``."""
        for name, key in directory.items():
            if not isinstance(key, Pk) or not isinstance(key.owner, Atom):
                raise ConformanceError(f"directory entry {name} -> {key} is not pk(agent)")
            if name not in self.keys or key.owner.name not in self.keys:
                raise ConformanceError(f"directory entry {name} -> {key} names an unknown agent")
            self.directory.register(self.phone(name), self.public_key(key.owner.name))

    # -- what a machine gets -------------------------------------------------------------

    def rng(self, label: str) -> Rng:
        return seeded_rng(self.seed + b"/rng/" + label.encode())

    def clock(self) -> float:
        return self.now

    def env(self, agent: str, run_id: int) -> Env:
        return Env(
            self.phone(agent),
            self.keys[agent],
            self.directory,
            rng=self.rng(f"run{run_id}"),
            clock=self.clock,
            replay_cache=self.caches[agent],
        )


def _key(v: object) -> tuple[str, bytes]:
    if isinstance(v, IdentityPublicKey):
        return ("pk", v.to_bytes())
    if isinstance(v, str):
        return ("name", v.encode())
    if isinstance(v, bytes):
        return ("bytes", v)
    raise ConformanceError(f"cannot name a value of type {type(v).__name__}")


class Naming:
    """Concrete value <-> symbolic term, one-to-one (see the module docstring)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._term: dict[tuple[str, bytes], Term] = {}
        self._value: dict[Term, object] = {}
        for a in world.agents:
            self.bind(world.phone(a), Atom(a, Sort.AGENT))
            self.bind(world.public_key(a), Pk(Atom(a, Sort.AGENT)))

    def bind(self, value: object, term: Term) -> None:
        k = _key(value)
        old = self._term.get(k)
        if old is not None and old != term:
            raise ConformanceError(f"one concrete value would be both {old} and {term}")
        if term in self._value and _key(self._value[term]) != k:
            raise ConformanceError(f"{term} would stand for two different concrete values")
        self._term[k] = term
        self._value[term] = value

    def bind_fresh(self, run_id: int, role: Role, bindings: Mapping[str, Value]) -> None:
        """Name every fresh value run ``run_id`` has generated so far (``N1`` -> ``N1#2``)."""
        for f in role.fresh:
            if f.name not in bindings:
                continue
            v = bindings[f.name]
            atom = Atom(f"{f.name}#{run_id}", f.sort)
            self.bind(v, atom)
            if f.sort is Sort.EXP:
                assert isinstance(v, bytes)
                self.bind(DhKey.from_private_bytes(v).public_bytes, exp(G, atom))

    def __call__(self, value: Value) -> Term:
        """The term of ``value`` (for :meth:`RoleMachine.term_of`); ``KeyError`` if unnamed."""
        return self._term[_key(value)]

    def value(self, term: Term) -> object:
        """The concrete value of ``term``; ``KeyError`` if the replay never produced it."""
        return self._value[term]
