"""The catalogue: every protocol ethvoip describes, by name, in a fixed order."""

from __future__ import annotations

from types import MappingProxyType

from ethvoip.spec.errors import UnknownProtocol
from ethvoip.spec.protocol import Protocol, Variant
from ethvoip.spec.protocols import (
    key_lookup,
    keystore_registration,
    mikey_key_transport,
    psk_handshake,
    sts,
)

CATALOGUE: MappingProxyType[str, Protocol] = MappingProxyType(
    {
        p.name: p
        for p in (
            psk_handshake.PROTOCOL,
            mikey_key_transport.PROTOCOL,
            sts.PROTOCOL,
            keystore_registration.PROTOCOL,
            key_lookup.PROTOCOL,
        )
    }
)

#: Every protocol has these two variants (it may have more).
REQUIRED_VARIANTS = ("paper", "hardened")


def get(name: str) -> Protocol:
    """The protocol called ``name``, or :class:`UnknownProtocol` listing the known names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownProtocol(
            f"no protocol {name!r} in the catalogue (known: {', '.join(CATALOGUE)})"
        ) from None


def variant(protocol: str, variant_name: str) -> Variant:
    return get(protocol).variant(variant_name)
