"""The concrete network intruder that carries out a model trace's derivations on bytes.

A forged message in a model trace comes with its derivation tree: which observed message it
starts from, which key opens it, which item is taken, what is encrypted to whom.
:class:`NetworkIntruder` evaluates such a tree bottom-up on real values, with the crypto of
:class:`ethvoip.attacks.intruder.Intruder`: it opens only with private keys it holds
(its own), signs only as itself, and encrypts to any public key.  Wire formats come from
:mod:`ethvoip.impl.handshake.layouts`; the layout wanted at each node is passed top-down from the
receiving step, so a re-encryption lands in the record the receiver expects.

Values (:data:`CVal`) mirror terms: ``bytes`` (nonces, keys, half-keys), ``str`` (agent
names), public keys, :class:`Held` (a private key the intruder holds, by owner), constants,
tuples, signatures with their message, sealed records, opaque fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from ethvoip.attacks.intruder import Intruder
from ethvoip.attacks.world import Naming, World
from ethvoip.impl import wire
from ethvoip.impl.crypto import IdentityPublicKey, decrypt_with, encrypt_to
from ethvoip.impl.handshake.layouts import (
    BareKey,
    Const,
    Layout,
    Leaf,
    Opaque,
    Part,
    Raw,
    Rec,
    Sealed,
    Signed,
)
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.evaluate import INTRUDER_SUFFIX
from ethvoip.spec.semantics import INTRUDER
from ethvoip.spec.terms import Atom, Pk, Sk, Sort, Term


@dataclass(frozen=True)
class Held:
    """A private key the intruder holds (its owner's name); used through :class:`Intruder`."""

    owner: str


@dataclass(frozen=True)
class ConstV:
    value: str


@dataclass(frozen=True)
class OpaqueV:
    data: bytes


@dataclass(frozen=True)
class SigV:
    message: bytes
    signature: bytes
    whole: bool  # False: ``message`` is only the part of the signed message on the wire


@dataclass(frozen=True)
class TupV:
    parts: tuple[CVal, ...]


@dataclass(frozen=True)
class SealedV:
    layout: Sealed | BareKey
    data: bytes


CVal: TypeAlias = bytes | str | IdentityPublicKey | Held | ConstV | OpaqueV | SigV | TupV | SealedV


# --------------------------------------------------------------------------------------
# bytes <-> values
# --------------------------------------------------------------------------------------


def decode(layout: Layout, data: bytes) -> CVal:
    """Read ``data`` as ``layout`` (strict: :class:`DecodeError` on anything else)."""
    if isinstance(layout, Sealed):
        wire.decode(data, layout.outer)
        return SealedV(layout, data)
    if isinstance(layout, BareKey):
        return SealedV(layout, data)  # opened (and its hex checked) by decryption only
    if isinstance(layout, Raw):
        return OpaqueV(data)
    rec = wire.decode(data, layout.tag)
    fields = list(rec.values)
    parts: list[CVal] = []
    for p in layout.parts:
        match p:
            case Leaf(name=True):
                parts.append(fields.pop(0).decode("utf-8"))
            case Leaf():
                parts.append(fields.pop(0))
            case Const(value):
                parts.append(ConstV(value))
            case Opaque():
                parts.append(OpaqueV(fields.pop(0)))
            case Signed(implicit=implicit):
                parts.append(SigV(fields.pop(0), fields.pop(0), not implicit))
    # a one-part record is the term itself, not a tuple
    return parts[0] if len(parts) == 1 else TupV(tuple(parts))


def encode(layout: Layout, value: CVal) -> bytes:
    """Write ``value`` as ``layout``; a value of the wrong shape is a :class:`ConformanceError`."""
    if isinstance(layout, Sealed | BareKey):
        if isinstance(value, SealedV) and value.layout == layout:
            return value.data
        raise ConformanceError(f"{_show(value)} cannot stand as a {layout} ciphertext")
    if isinstance(layout, Raw):
        if isinstance(value, OpaqueV):
            return value.data
        raise ConformanceError(f"{_show(value)} cannot stand as a {layout.what}")
    items = value.parts if isinstance(value, TupV) else (value,)
    if len(items) != len(layout.parts):
        raise ConformanceError(
            f"{layout.tag.name} has {len(layout.parts)} items, the value {len(items)}"
        )
    fields: list[bytes | str] = []
    for p, v in zip(layout.parts, items, strict=True):
        fields += _fields(p, v)
    return wire.encode(layout.tag, *fields)


def _fields(p: Part, v: CVal) -> list[bytes | str]:
    match p, v:
        case Leaf(name=True), str():
            return [v]
        case Leaf(name=False), bytes():
            return [v]
        case Const(value), ConstV(got) if value == got:
            return []
        case Opaque(), OpaqueV(data):
            return [data]
        case Signed(), SigV(message, signature, _):
            return [message, signature]
    raise ConformanceError(f"{_show(v)} does not fit a {type(p).__name__} field")


def _show(v: CVal) -> str:
    return type(v).__name__ if not isinstance(v, bytes | str) else repr(v)[:24]


# --------------------------------------------------------------------------------------
# Derivations on values
# --------------------------------------------------------------------------------------

Observed = Callable[[int], tuple[bytes, Layout]]
"""The bytes sent at a trace position, with the layout they were sent in."""


class NetworkIntruder:
    """Evaluates derivation trees on concrete values (see the module docstring).

    ``observed`` returns what was sent at a trace position; ``naming`` receives the values
    of the intruder's own fresh atoms (``key1#e``) as it generates them.
    """

    def __init__(self, world: World, naming: Naming, observed: Observed, seed: bytes) -> None:
        self.world = world
        self.naming = naming
        self.observed = observed
        me = INTRUDER.name
        self.crypto = Intruder({world.phone(me): world.keys[me]}, rng=world.rng("intruder"))
        self._fresh_rng = world.rng("intruder-fresh")
        self.log: list[str] = []  # what the intruder did, in words, for the narration

    def derive(self, d: Derivation, target: Layout | Part | None = None) -> CVal:
        prem = d.premises
        match d.rule:
            case "observed":
                assert d.event is not None
                data, lay = self.observed(d.event)
                return decode(lay, data)
            case "initial":
                return self._initial(d.term, target)
            case "public":
                return self._public(d.term)
            case "pk":
                owner = self.derive(prem[0])
                agent = self.world.agent_of(owner) if isinstance(owner, str) else None
                if agent is None:
                    raise ConformanceError(f"pk() of {_show(owner)}, not a known agent")
                return self.world.public_key(agent)  # the key the agent holds, not the directory's
            case "project":
                v = self.derive(prem[0])
                if not isinstance(v, TupV) or d.index is None or d.index >= len(v.parts):
                    raise ConformanceError(f"cannot take item {d.index} of {_show(v)}")
                return v.parts[d.index]
            case "unsign":
                v = self.derive(prem[0])
                if not isinstance(v, SigV) or not v.whole:
                    raise ConformanceError(f"the signed message of {_show(v)} is not on the wire")
                return v.message
            case "decrypt":
                return self._decrypt(prem[0], prem[1])
            case "tup":
                lays: list[Layout | Part | None] = [None] * len(prem)
                if isinstance(target, Rec) and len(target.parts) == len(prem):
                    lays = list(target.parts)
                return TupV(tuple(self.derive(p, t) for p, t in zip(prem, lays, strict=True)))
            case "aenc":
                return self._seal(prem[0], prem[1], target)
            case "sign":
                return self._sign(prem[0], prem[1], target)
        raise ConformanceError(f"the concrete intruder has no rule {d.rule!r} for {d.term}")

    # -- leaves ------------------------------------------------------------------------

    def _initial(self, t: Term, target: Layout | Part | None) -> CVal:
        if t == INTRUDER:
            return self.world.phone(INTRUDER.name)
        if t == Sk(INTRUDER):
            return Held(self.world.phone(INTRUDER.name))
        if isinstance(t, Sk):
            raise ConformanceError(f"the intruder holds no private key of {t.owner}")
        if isinstance(t, Atom) and t.name.endswith(INTRUDER_SUFFIX):
            try:
                v = self.naming.value(t)
            except KeyError:
                # a value of his own, as long as the field it is made for wants
                v = self._fresh_rng(target.size if isinstance(target, Leaf) else 32)
                self.naming.bind(v, t)
                self.log.append(f"e picks his own {t}")
            assert isinstance(v, bytes)
            return v
        return self._public(t)

    def _public(self, t: Term) -> CVal:
        if isinstance(t, Atom) and t.sort is Sort.AGENT and t.name in self.world.keys:
            return self.world.phone(t.name)
        if isinstance(t, Atom) and t.sort is Sort.CONST:
            return ConstV(t.name)
        if isinstance(t, Pk) and isinstance(t.owner, Atom) and t.owner.name in self.world.keys:
            return self.world.public_key(t.owner.name)
        raise ConformanceError(f"{t} is not public")

    # -- crypto, through the Dolev-Yao Intruder ------------------------------------------

    def _decrypt(self, ct: Derivation, key: Derivation) -> CVal:
        c, k = self.derive(ct), self.derive(key)
        if not isinstance(c, SealedV) or not isinstance(k, Held):
            raise ConformanceError(f"cannot open {_show(c)} with {_show(k)}")
        if isinstance(c.layout, BareKey):
            # self.crypto.keys is the intruder's keyring: only keys he holds
            opened = decrypt_with(self.crypto.keys[k.owner], bytes.fromhex(c.data.decode()))
            self.crypto.learned.add(opened)
            self.log.append(
                f"e opens the a=k: value with the key of {self.world.agent_of(k.owner)}"
            )
            return opened
        body = self.crypto.open(c.data, c.layout.outer, c.layout.inner.tag, as_=k.owner)
        who = self.world.agent_of(k.owner)
        self.log.append(f"e opens the {c.layout.outer.name} record with the key of {who}")
        return decode(c.layout.inner, body.encode())

    def _seal(self, body: Derivation, key: Derivation, target: Layout | Part | None) -> CVal:
        if not isinstance(target, Sealed | BareKey):
            raise ConformanceError("aenc() where the receiver expects no ciphertext")
        v, to = self.derive(body, target.inner), self.derive(key)
        if not isinstance(to, IdentityPublicKey):
            raise ConformanceError(f"cannot encrypt to {_show(to)}")
        if isinstance(target, BareKey):
            if not isinstance(v, bytes):
                raise ConformanceError(f"a=k: carries a key, not {_show(v)}")
            ct = encrypt_to(to, v, rng=self.world.rng("intruder-ecies"))
            self.log.append(
                f"e encrypts a key of {len(v)} bytes to the key of {self.world.owner(to)}"
            )
            return SealedV(target, ct.hex().upper().encode("ascii"))
        data = self.crypto.seal(target.outer, encode(target.inner, v), to)
        who = self.world.owner(to)
        self.log.append(f"e encrypts a {target.inner.tag.name} to the key of {who}")
        return SealedV(target, data)

    def _sign(self, body: Derivation, key: Derivation, target: Layout | Part | None) -> CVal:
        if not isinstance(target, Signed) or target.implicit:
            raise ConformanceError("sign() where the receiver expects no plain signature")
        m, k = self.derive(body), self.derive(key)
        if not isinstance(m, bytes) or not isinstance(k, Held):
            raise ConformanceError(f"cannot sign {_show(m)} with {_show(k)}")
        return SigV(m, self.crypto.sign(k.owner, target.tag, m), True)
