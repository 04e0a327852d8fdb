"""The shape of a protocol description: every field of the type it must have.

A protocol written in Python (a user's file, :mod:`ethvoip.spec.userfile`) is plain data
built with the spec's dataclasses, which Python does not type-check: a string where a term
belongs, a list of roles, a variant filed under another name would crash deep inside the
checks or the model.  :func:`check_structure` refuses such a description first, as
:class:`MalformedProtocol` naming where.  It also keeps names safe to use in file names
(traces are written as ``<protocol>.<variant>.<claim>.json``).

It runs at the head of the one front end (:func:`ethvoip.spec.checks.front_end`), so every
description, from the catalogue, a file or built in Python, passes it before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ethvoip.spec.errors import MalformedStructure
from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Expect,
    Lookup,
    Protocol,
    Recv,
    Role,
    Send,
    Variant,
    Verdict,
)
from ethvoip.spec.terms import TERM_CLASSES, Atom, Fresh, Hash, Sort, Tup, Var, children

#: Names of protocols, variants, roles, labels and claims: they end up in file names.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class _Where:
    """Where in the description a check is (for the error message)."""

    def __init__(self, protocol: str | None = None, variant: str | None = None) -> None:
        self.protocol = protocol
        self.variant = variant

    def fail(self, message: str, role: str | None = None, label: str | None = None) -> None:
        raise MalformedStructure(
            message, protocol=self.protocol, variant=self.variant, role=role, label=label
        )


def _name(value: Any, what: str, at: _Where, role: str | None = None) -> None:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        at.fail(f"{what} {value!r} is not a name (a letter, then letters, digits, _ or -)", role)


def _tuple(
    value: Any, item: type | tuple[type, ...], what: str, at: _Where, role: str | None = None
) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, item) for x in value):
        at.fail(f"{what} must be a tuple of {_type_names(item)}, not {value!r}", role)


def _type_names(t: type | tuple[type, ...]) -> str:
    return " | ".join(x.__name__ for x in (t if isinstance(t, tuple) else (t,)))


def _term(t: Any, what: str, at: _Where, role: str | None = None, label: str | None = None) -> None:
    """``t`` is a term all the way down (built with the spec's constructors)."""
    if not isinstance(t, TERM_CLASSES):
        at.fail(f"{what}: {t!r} is not a term (use ethvoip.spec.terms)", role, label)
    match t:
        case Atom(name, sort) | Var(name, sort) | Fresh(name, sort):
            if not isinstance(name, str) or not name or not isinstance(sort, Sort):
                at.fail(f"{what}: {t!r} needs a name and a Sort", role, label)
            return
        case Tup(items) | Hash(_, items) if not isinstance(items, tuple):
            at.fail(f"{what}: {t!r} holds a {type(items).__name__}, not a tuple", role, label)
    for c in children(t):
        _term(c, what, at, role, label)


def check_structure(p: Any) -> None:
    """Raise :class:`MalformedProtocol` unless ``p`` is a :class:`Protocol` of the right
    shape throughout (names, variants, roles, steps, terms, claims, expectations)."""
    if not isinstance(p, Protocol):
        raise MalformedStructure(f"{p!r} is not a Protocol")
    at = _Where()
    _name(p.name, "protocol name", at)
    at.protocol = p.name
    for field in ("title", "source", "status", "narration"):
        if not isinstance(getattr(p, field), str):
            at.fail(f"{field} must be a string")
    if not p.variants:
        at.fail("a protocol needs at least one variant")
    for key, v in p.variants.items():
        if not isinstance(v, Variant):
            at.fail(f"variant {key!r} is a {type(v).__name__}, not a Variant")
        if key != v.name:
            at.fail(f"variant {v.name!r} is filed under the key {key!r}")
        check_variant_structure(v, p.name)


def check_variant_structure(v: Variant, protocol: str | None = None) -> None:
    """The variant-level part of :func:`check_structure`."""
    at = _Where(protocol)
    if not isinstance(v, Variant):
        at.fail(f"{v!r} is not a Variant")
    _name(v.name, "variant name", at)
    at.variant = v.name
    if not isinstance(v.summary, str) or not isinstance(v.notes, str):
        at.fail("summary and notes must be strings")
    if not isinstance(v.pop_required, bool):
        at.fail(f"pop_required must be True or False, not {v.pop_required!r}")
    _tuple(v.roles, Role, "roles", at)
    if not v.roles:
        at.fail("a variant needs at least one role")
    for r in v.roles:
        _role(r, at)
    _tuple(v.claims, Claim, "claims", at)
    for c in v.claims:
        _claim(c, at)
    if not isinstance(v.expected, Mapping):
        at.fail("expected must be a mapping from claim names to Expect")
    for name, e in v.expected.items():
        ok = isinstance(e, Expect) and isinstance(e.verdict, Verdict)
        if not ok or not (e.runs is None or (isinstance(e.runs, int) and e.runs >= 1)):
            at.fail(f"expected[{name!r}] must be attack(runs, why) or holds(why), not {e!r}")


def _role(r: Role, at: _Where) -> None:
    _name(r.name, "role name", at)
    role = r.name
    if not isinstance(r.agent, Var) or not isinstance(r.title, str):
        at.fail("agent must be a variable (ethvoip.spec.protocol.agent) and title a string", role)
    _tuple(r.params, Var, "params", at, role)
    _tuple(r.fresh, Fresh, "fresh", at, role)
    _tuple(r.knows, TERM_CLASSES, "knows", at, role)
    for t in r.knows:
        _term(t, "knows", at, role)
    if r.session_key is not None:
        _term(r.session_key, "session_key", at, role)
    if not all(isinstance(b, bool) for b in (r.honest_only, r.unique)):
        at.fail("honest_only and unique must be True or False", role)
    _tuple(r.steps, (Send, Recv, Lookup), "steps", at, role)
    for s in r.steps:
        _name(s.label, "step label", at, role)
        match s:
            case Send(label, term):
                _term(term, "sent term", at, role, label)
            case Recv(label, pattern, once):
                _term(pattern, "receive pattern", at, role, label)
                _tuple(once, TERM_CLASSES, "once", at, role)
                for t in once:
                    _term(t, "once", at, role, label)
            case Lookup(label, name, key):
                _term(name, "looked-up name", at, role, label)
                if not isinstance(key, Var):
                    at.fail(f"a look-up binds a variable, not {key!r}", role, label)


def _claim(c: Claim, at: _Where) -> None:
    _name(c.name, "claim name", at)
    if not isinstance(c.kind, ClaimKind) or not isinstance(c.role, str):
        at.fail(f"claim {c.name}: kind must be a ClaimKind and role a role name")
    if not isinstance(c.description, str):
        at.fail(f"claim {c.name}: description must be a string")
    for t in (c.term,) if c.term is not None else ():
        _term(t, f"claim {c.name}", at)
    for f in ("peer", "peer_at"):
        if getattr(c, f) is not None and not isinstance(getattr(c, f), str):
            at.fail(f"claim {c.name}: {f} must be a name")
    _tuple(c.data, TERM_CLASSES, f"claim {c.name} data", at)
    if c.peer_data is not None:
        _tuple(c.peer_data, TERM_CLASSES, f"claim {c.name} peer_data", at)
    for t in (*c.data, *(c.peer_data or ())):
        _term(t, f"claim {c.name}", at)
