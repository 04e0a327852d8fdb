"""Sans-IO role machines for the handshakes, one per (protocol, variant, role), driven by the spec.

Start here::

    from ethvoip.impl.handshake import Env, StaticDirectory, create

    a = create("psk_handshake", "hardened", "I", Env("alice", key_a, directory), B="bob")
    b = create("psk_handshake", "hardened", "R", Env("bob", key_b, directory))
    out = a.start()                     # [LookedUp(I_1), Sent(I_2, bytes)]
    out = b.receive(out[-1].data)       # ...

:func:`create` builds a :class:`RoleMachine` from the spec role and the protocol module's
handler table, :func:`layout` gives a step's wire layout.  Each handshake module here
(:mod:`.psk`, :mod:`.mikey`, :mod:`.sts`) declares both in its ``BINDING``
(:mod:`.binding`); :data:`BINDINGS` collects them, each checked against the spec catalogue,
and :data:`IMPLEMENTED` lists every (protocol, variant, role) with a table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from ethvoip.impl.handshake.binding import Binding, registry
from ethvoip.impl.handshake.layouts import Layout
from ethvoip.impl.handshake.machine import (
    Completed,
    Directory,
    Env,
    Event,
    LookedUp,
    Received,
    ReplayCache,
    RoleMachine,
    RoleSpec,
    Sent,
    State,
    StaticDirectory,
    Value,
)
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import ConformanceError, UnknownProtocol
from ethvoip.spec.protocol import Protocol


def _modules_bindings() -> Iterator[Binding]:
    """The ``BINDING`` of every module of this package that has one."""
    for module in pkgutil.iter_modules(__path__):
        binding = getattr(importlib.import_module(f"{__name__}.{module.name}"), "BINDING", None)
        if isinstance(binding, Binding):
            yield binding


#: The handshakes that have role machines, by name (a module each).
BINDINGS: Mapping[str, Binding] = registry(_modules_bindings())

#: Their spec protocols, from the catalogue.
SPECS: Mapping[str, Protocol] = {name: CATALOGUE[name] for name in BINDINGS}

#: Every (protocol, variant, role) that has a machine.
IMPLEMENTED: frozenset[tuple[str, str, str]] = frozenset(
    (p, v, r) for p, b in BINDINGS.items() for (v, r) in b.roles
)


def create(protocol: str, variant: str, role: str, env: Env, **peers: str) -> RoleMachine:
    """A fresh machine for one run; ``peers`` names the agents the role starts with (``B=``)."""
    try:
        spec = SPECS[protocol]
        impl = BINDINGS[protocol].roles[(variant, role)]
    except KeyError:
        raise UnknownProtocol(
            f"no machine for {protocol}/{variant}/{role} (have: "
            + ", ".join("/".join(k) for k in sorted(IMPLEMENTED))
            + ")"
        ) from None
    v = spec.variant(variant)
    return RoleMachine(protocol, v, v.role(role), impl, env, peers)


def layout(protocol: str, variant: str, label: str) -> Layout:
    """The wire layout of the message of step ``label``."""
    try:
        return BINDINGS[protocol].layouts[variant][label]
    except KeyError:
        raise ConformanceError(f"no wire layout for {protocol}/{variant} step {label}") from None


__all__ = [
    "BINDINGS",
    "IMPLEMENTED",
    "SPECS",
    "Completed",
    "Directory",
    "Env",
    "Event",
    "LookedUp",
    "Received",
    "ReplayCache",
    "RoleMachine",
    "RoleSpec",
    "Sent",
    "State",
    "StaticDirectory",
    "Value",
    "create",
    "layout",
]
