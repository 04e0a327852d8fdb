"""Sans-IO role machines for the handshakes, one per (protocol, variant, role), driven by the spec.

Start here::

    from ethvoip.impl.handshake import Env, StaticDirectory, create

    a = create("psk_handshake", "hardened", "I", Env("alice", key_a, directory), B="bob")
    b = create("psk_handshake", "hardened", "R", Env("bob", key_b, directory))
    out = a.start()                     # [LookedUp(I_1), Sent(I_2, bytes)]
    out = b.receive(out[-1].data)       # ...

:func:`create` builds a :class:`RoleMachine` from the spec role and the protocol module's
handler table (:mod:`.psk`, :mod:`.mikey`, :mod:`.sts`).  :data:`IMPLEMENTED` lists every
(protocol, variant, role) with a table; a test checks it against the spec catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

from ethvoip.impl.handshake import mikey, psk, sts
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
from ethvoip.spec.errors import UnknownProtocol
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.protocols import mikey_key_transport, psk_handshake
from ethvoip.spec.protocols import sts as sts_spec

SPECS: Mapping[str, Protocol] = {
    p.name: p for p in (psk_handshake.PROTOCOL, mikey_key_transport.PROTOCOL, sts_spec.PROTOCOL)
}

TABLES: Mapping[str, Mapping[tuple[str, str], RoleSpec]] = {
    "psk_handshake": psk.ROLES,
    "mikey_key_transport": mikey.ROLES,
    "sts": sts.ROLES,
}

#: Every (protocol, variant, role) that has a machine.
IMPLEMENTED: frozenset[tuple[str, str, str]] = frozenset(
    (p, v, r) for p, table in TABLES.items() for (v, r) in table
)


def create(protocol: str, variant: str, role: str, env: Env, **peers: str) -> RoleMachine:
    """A fresh machine for one run; ``peers`` names the agents the role starts with (``B=``)."""
    try:
        spec = SPECS[protocol]
        impl = TABLES[protocol][(variant, role)]
    except KeyError:
        raise UnknownProtocol(
            f"no machine for {protocol}/{variant}/{role} (have: "
            + ", ".join("/".join(k) for k in sorted(IMPLEMENTED))
            + ")"
        ) from None
    v = spec.variant(variant)
    return RoleMachine(protocol, v, v.role(role), impl, env, peers)


__all__ = [
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
]
