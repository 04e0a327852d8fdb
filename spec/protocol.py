"""How a protocol is described: roles as labelled steps, claims, variants, expected verdicts.

A :class:`Protocol` holds one :class:`Variant` per design (``paper`` as published,
``hardened`` as we fix it).  A variant is a set of :class:`Role` s, each an ordered list of
labelled steps (``I_1``, ``R_1`` ...), plus the :class:`Claim` s it is meant to satisfy and the
verdict we expect the model checker to reach on each.

The steps a role takes are in :mod:`ethvoip.spec.steps`; the claims, their semantics and the
expected verdicts in :mod:`ethvoip.spec.claims`.

Key compromise (:class:`Reveal`, Denning-Sacco's "old session key"): a variant may let the
intruder learn a role's value of a term (its session key) for any run of that role that
*finished before the claiming run started*.  A claim then holds only if the compromise of
old, completed sessions does not break it: a key revealed after the claimant started (a
partner's, possibly the claimant's own) never counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# Re-exported (``X as X``): the rest of the package imports these from here, as before.
from ethvoip.spec.claims import AGREEMENTS as AGREEMENTS
from ethvoip.spec.claims import Claim as Claim
from ethvoip.spec.claims import ClaimKind as ClaimKind
from ethvoip.spec.claims import Expect as Expect
from ethvoip.spec.claims import Verdict as Verdict
from ethvoip.spec.claims import attack as attack
from ethvoip.spec.claims import holds as holds
from ethvoip.spec.claims import share_agreement as share_agreement
from ethvoip.spec.errors import UnknownProtocol
from ethvoip.spec.steps import Lookup as Lookup
from ethvoip.spec.steps import Recv as Recv
from ethvoip.spec.steps import Send as Send
from ethvoip.spec.steps import Step as Step
from ethvoip.spec.terms import Fresh, Sort, Term, Var, to_json


@dataclass(frozen=True, slots=True)
class Reveal:
    """Key compromise: the intruder may learn ``role``'s value of ``term`` for any run of
    ``role`` that finished before the claiming run started (an old session's key)."""

    role: str
    term: Term
    note: str = ""


@dataclass(frozen=True)
class Role:
    """One role of a protocol.

    ``agent`` is the variable naming whoever plays the role.  ``params`` are the variables
    bound when a run starts (the actor and the peers it intends to talk to); ``knows`` are
    further terms it holds at the start (its private key, a receipt bought beforehand ...),
    built from ``params`` and ``fresh``.  ``honest_only`` roles are never played by the
    intruder (the chain's consensus, for instance), and no honest agent believes the intruder
    plays one: a parameter naming its player is never the intruder.  A ``unique`` role has a
    single player in the whole system (there is one operator and one key-store contract):
    every run that names its player names the same agent.  ``session_key`` is the key a
    finished run holds, in the role's own terms (what ``KEY_AGREEMENT`` compares across runs).
    """

    name: str
    agent: Var
    title: str
    params: tuple[Var, ...]
    knows: tuple[Term, ...]
    fresh: tuple[Fresh, ...]
    steps: tuple[Step, ...]
    honest_only: bool = False
    session_key: Term | None = None
    unique: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.steps)

    def step(self, label: str) -> Step:
        for s in self.steps:
            if s.label == label:
                return s
        raise KeyError(label)


@dataclass(frozen=True)
class Variant:
    """One design of a protocol: its roles, claims and the verdict expected per claim.

    ``pop_required`` says whether the key directory demands proof of possession: when it
    does not, the intruder may register any public key he knows under his own name.
    ``honest_agents`` is how many honest agents the model's worlds hold (``a``, ``b``, ``c``
    ...; two by default, three for a server of its own).  ``reveals`` are the key-compromise
    events the intruder may use (:class:`Reveal`).
    """

    name: str
    summary: str
    roles: tuple[Role, ...]
    claims: tuple[Claim, ...]
    expected: Mapping[str, Expect]
    pop_required: bool = True
    notes: str = ""
    honest_agents: int = 2
    reveals: tuple[Reveal, ...] = ()
    #: the named checks (:mod:`ethvoip.spec.checknames`) this variant is built from, and how:
    #: ``build(checks)`` makes the variant with exactly those checks on (see :func:`built`)
    checks: tuple[str, ...] = ()
    build: Builder | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expected", types.MappingProxyType(dict(self.expected)))

    def without(self, *checks: str) -> Variant:
        """This variant with ``checks`` removed, derived by its builder (never hand-written).

        The result is called ``<name>-without-<check>[-and-<check>...]`` (a variant name: letters,
        digits, ``_`` and ``-`` only, since it names trace files) and keeps this variant's
        claims' expectations (what the full design promises), so a claim it breaks is one
        that the removed checks were needed for.
        """
        if not checks:
            raise UnknownProtocol(f"name the checks to remove from {self.name!r}")
        unknown = [c for c in checks if c not in self.checks]
        if self.build is None or unknown:
            raise UnknownProtocol(
                f"variant {self.name!r} has no named check {', '.join(map(repr, unknown))} "
                f"(it has: {', '.join(self.checks) or 'none'})"
            )
        rest = tuple(c for c in self.checks if c not in checks)
        v = self.build(frozenset(rest))
        return dataclasses.replace(
            v,
            name=f"{self.name}-without-{'-and-'.join(checks)}",
            summary=f"{self.summary}; without {', '.join(checks)}",
            expected=self.expected,
            checks=rest,
            build=self.build,
        )

    def fixed(self, name: str, summary: str, roles: tuple[Role, ...], why: str) -> Variant:
        """The fix of this (broken) variant: the same claims and settings with ``roles``
        instead, every claim expected to hold (``why``: who says so)."""
        return dataclasses.replace(
            self,
            name=name,
            summary=summary,
            roles=roles,
            expected={c.name: holds(why) for c in self.claims},
        )

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def agent_vars(self) -> tuple[Var, ...]:
        """The agent variable of every role, in role order (``A``, ``B`` ...)."""
        return tuple(r.agent for r in self.roles)


#: Makes a variant from the set of named checks it has on.
Builder: TypeAlias = Callable[[frozenset[str]], Variant]


def built(build: Builder, checks: tuple[str, ...]) -> Variant:
    """The variant ``build`` makes with every one of ``checks`` on, remembering how: its
    :meth:`Variant.without` derives the variant with one check removed."""
    return dataclasses.replace(build(frozenset(checks)), checks=checks, build=build)


def hardened(
    summary: str, roles: tuple[Role, ...], claims: tuple[Claim, ...], *, pop_required: bool
) -> Variant:
    """Our ``hardened`` variant of a catalogue protocol, with every claim expected to hold."""
    return Variant(
        name="hardened",
        summary=summary,
        roles=roles,
        claims=claims,
        expected={c.name: holds() for c in claims},
        pop_required=pop_required,
    )


def adds(on: frozenset[str], *checks: str) -> tuple[str, ...]:
    """For a step's ``checks=``: those of ``checks`` that are on (a builder's helper)."""
    return tuple(c for c in checks if c in on)


@dataclass(frozen=True)
class Protocol:
    """A protocol of the catalogue: narration, source, and its variants."""

    name: str
    title: str
    source: str
    status: str
    narration: str
    variants: Mapping[str, Variant] = field(default_factory=dict)
    #: the verdicts the untyped mode (``ethvoip prove --untyped``) must give where they differ
    #: from the typed ones: variant -> claim -> expectation (a type flaw, such as
    #: Otway-Rees's); every other claim is expected as typed.  Not part of the digest: the
    #: description is the same, only the reading of it differs.
    untyped: Mapping[str, Mapping[str, Expect]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variants", types.MappingProxyType(dict(self.variants)))
        object.__setattr__(self, "untyped", types.MappingProxyType(dict(self.untyped)))

    def expected(self, variant: str, claim: str, *, untyped: bool = False) -> Expect:
        """The pinned expectation of one claim, typed or (``untyped``) under the untyped mode."""
        if untyped and claim in self.untyped.get(variant, {}):
            return self.untyped[variant][claim]
        return self.variant(variant).expected.get(claim, Expect(Verdict.NO_ATTACK))

    def variant(self, name: str) -> Variant:
        try:
            return self.variants[name]
        except KeyError:
            raise UnknownProtocol(
                f"protocol {self.name!r} has no variant {name!r} "
                f"(it has: {', '.join(self.variants)})"
            ) from None

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the description: traces carry it to detect staleness."""
        blob = json.dumps(describe(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------------------
# Canonical JSON description (for digests, docs and tools outside Python)
# --------------------------------------------------------------------------------------


def _step_json(s: Step) -> dict[str, Any]:
    match s:
        case Send(label, term, note):
            return {"label": label, "action": "send", "term": to_json(term), "note": note}
        case Recv(label, pattern, once, note):
            return {
                "label": label,
                "action": "recv",
                "pattern": to_json(pattern),
                "once": [to_json(t) for t in once],
                "note": note,
            }
        case Lookup(label, name, key, note):
            return {
                "label": label,
                "action": "lookup",
                "name": to_json(name),
                "key": to_json(key),
                "note": note,
            }


def describe(p: Protocol) -> dict[str, Any]:
    """The whole protocol as plain JSON-able data."""
    return {
        "name": p.name,
        "title": p.title,
        "source": p.source,
        "variants": {
            v.name: {
                "pop_required": v.pop_required,
                "roles": [
                    {
                        "name": r.name,
                        "agent": to_json(r.agent),
                        "params": [to_json(x) for x in r.params],
                        "knows": [to_json(x) for x in r.knows],
                        "fresh": [to_json(x) for x in r.fresh],
                        "honest_only": r.honest_only,
                        "unique": r.unique,
                        "session_key": to_json(r.session_key) if r.session_key else None,
                        "steps": [_step_json(s) for s in r.steps],
                    }
                    for r in v.roles
                ],
                "claims": [
                    {
                        "name": c.name,
                        "kind": c.kind.value,
                        "role": c.role,
                        "term": to_json(c.term) if c.term is not None else None,
                        "peer": c.peer,
                        "data": [to_json(d) for d in c.data],
                        "peer_data": [to_json(d) for d in c.peer_view],
                        "peer_at": c.peer_at,
                    }
                    for c in v.claims
                ],
                "expected": {
                    k: {"verdict": e.verdict.value, "runs": e.runs} for k, e in v.expected.items()
                },
                **_extensions(v),
            }
            for v in p.variants.values()
        },
    }


def _extensions(v: Variant) -> dict[str, Any]:
    """Fields present only when set (so that descriptions, and the digests traces carry, of
    variants that do not use them stay as they were)."""
    out: dict[str, Any] = {}
    if v.honest_agents != 2:
        out["honest_agents"] = v.honest_agents
    if v.reveals:
        out["reveals"] = [{"role": r.role, "term": to_json(r.term)} for r in v.reveals]
    return out


def iter_steps(v: Variant) -> Iterator[tuple[Role, Step]]:
    for r in v.roles:
        for s in r.steps:
            yield r, s


def agent(name: str) -> Var:
    return Var(name, Sort.AGENT)


def var(name: str, sort: Sort) -> Var:
    return Var(name, sort)


def fresh(name: str, sort: Sort) -> Fresh:
    return Fresh(name, sort)
