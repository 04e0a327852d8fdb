"""What one handshake module gives the registry: its protocol, role tables and wire layouts.

Each handshake module (:mod:`.psk`, :mod:`.mikey`, :mod:`.sts`) ends with one ``BINDING``:
the name of the spec protocol it implements, its handler table per (variant, role), and the
wire layout of each step per variant, written beside the handlers that build and check those
bytes.  :mod:`ethvoip.impl.handshake` finds the bindings, checks each against the spec
catalogue and serves :func:`~ethvoip.impl.handshake.create` and
:func:`~ethvoip.impl.handshake.layout` from them, so a new handshake is its spec and one
module here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ethvoip.impl.handshake.layouts import Layout
from ethvoip.impl.handshake.machine import RoleSpec
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import MalformedProtocol, UnknownProtocol


@dataclass(frozen=True)
class Binding:
    protocol: str  # the spec catalogue's name
    roles: Mapping[tuple[str, str], RoleSpec]  # (variant, role) -> handlers
    layouts: Mapping[str, Mapping[str, Layout]]  # variant -> step label -> layout


def bind(
    protocol: str,
    roles: Mapping[tuple[str, str], RoleSpec],
    layouts: Callable[[str], Mapping[str, Layout]],
) -> Binding:
    """The binding of ``protocol``, with the layouts of every variant that has handlers."""
    variants = dict.fromkeys(v for v, _ in roles)
    return Binding(protocol, roles, {v: layouts(v) for v in variants})


def registry(bindings: Iterable[Binding]) -> dict[str, Binding]:
    """``bindings`` by protocol, in the catalogue's order; each must name a catalogue protocol."""
    found: dict[str, Binding] = {}
    for b in bindings:  # two modules for one protocol: a leftover copy must not win by order
        if b.protocol in found:
            raise MalformedProtocol(f"two handshake modules bind {b.protocol}")
        found[b.protocol] = b
    unknown = sorted(set(found) - set(CATALOGUE))
    if unknown:
        raise UnknownProtocol(f"handshake modules for protocols not in the catalogue: {unknown}")
    return {name: found[name] for name in CATALOGUE if name in found}
