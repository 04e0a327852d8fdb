"""Typed events of both key-store contracts, decoded from raw logs.

:func:`decode_event` turns one log (topics + data) into one of the frozen dataclasses below,
or raises :class:`~ethvoip.spec.errors.DecodeError`.  Addresses become 20-byte ``bytes``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias

from ethvoip.impl.chain.abi import EventCodec
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.spec.errors import DecodeError


@dataclass(frozen=True)
class Committed:
    commitment: bytes


@dataclass(frozen=True)
class Registered:
    identifier: bytes
    key_hash: bytes
    record_version: int
    registrant: bytes


@dataclass(frozen=True)
class Approved:
    identifier: bytes
    version: int
    key_hash: bytes


@dataclass(frozen=True)
class Rotated:
    identifier: bytes
    version: int
    public_key: bytes


@dataclass(frozen=True)
class Revoked:
    identifier: bytes
    version: int


@dataclass(frozen=True)
class Suspended:
    identifier: bytes
    version: int


@dataclass(frozen=True)
class PendingDropped:
    key_hash: bytes


@dataclass(frozen=True)
class OperatorProposed:
    operator: bytes
    proposed: bytes


@dataclass(frozen=True)
class OperatorTransferred:
    previous: bytes
    operator: bytes


@dataclass(frozen=True)
class RecoveryAnnounced:
    identifier: bytes
    version: int
    public_key: bytes
    executable_at: int
    serial: int


@dataclass(frozen=True)
class RecoveryCancelled:
    identifier: bytes
    version: int


@dataclass(frozen=True)
class RecoveryExecuted:
    identifier: bytes
    version: int
    public_key: bytes


@dataclass(frozen=True)
class ClientAdded:
    phone_number: str
    public_key: bytes
    receipt: str
    sender: bytes


@dataclass(frozen=True)
class ClientApproved:
    phone_number: str
    public_key: bytes
    receipt: str


KeyStoreEvent: TypeAlias = (
    Committed
    | Registered
    | Approved
    | Rotated
    | Revoked
    | Suspended
    | RecoveryAnnounced
    | RecoveryCancelled
    | RecoveryExecuted
    | PendingDropped
    | OperatorProposed
    | OperatorTransferred
)
PaperEvent: TypeAlias = ClientAdded | ClientApproved
Event: TypeAlias = KeyStoreEvent | PaperEvent

# Event name in the ABI -> dataclass; fields follow the ABI's parameter order.
_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Committed,
        Registered,
        Approved,
        Rotated,
        Revoked,
        Suspended,
        RecoveryAnnounced,
        RecoveryCancelled,
        RecoveryExecuted,
        PendingDropped,
        OperatorProposed,
        OperatorTransferred,
        ClientAdded,
        ClientApproved,
    )
}


@cache
def _codec(contract: str) -> EventCodec:
    return EventCodec.from_abi(load_artifact(contract).abi)


def decode_event(contract: str, topics: Sequence[bytes], data: bytes) -> Event:
    """The typed event of one log emitted by ``contract`` ("KeyStore" or "KeyStorePaper")."""
    name, args = _codec(contract).decode(topics, data)
    cls = _CLASSES.get(name)
    if cls is None:  # pragma: no cover - every ABI event has a class (tested)
        raise DecodeError(f"no typed class for event {name}")
    values = list(args.values())
    if len(values) != len(dataclasses.fields(cls)):
        raise DecodeError(f"{name}: {len(values)} arguments for {cls.__name__}")
    event: Event = cls(*values)
    return event
