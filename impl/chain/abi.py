"""Decoding what a contract returns besides values: custom errors (reverts) and event logs.

Both decoders take untrusted bytes (a node's answer) and either return a typed value or raise
:class:`~ethvoip.spec.errors.DecodeError`; they are fuzzed in tests/chain/test_decoders.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from ethvoip.impl.crypto import keccak256
from ethvoip.spec.errors import Check, ContractRevert, DecodeError

#: The check each key-store custom error (contracts/KeyStore.sol, KeyStorePaper.sol) stands
#: for; a revert whose name is not here names :attr:`Check.CONTRACT`.
CONTRACT_CHECKS: dict[str, Check] = {
    "NotOperator": Check.AUTHORITY,
    "NotProposedOperator": Check.AUTHORITY,
    "NotCreator": Check.AUTHORITY,
    "UnexpiredCommitmentExists": Check.COMMITMENT,
    "CommitmentNotFound": Check.COMMITMENT,
    "CommitmentTooNew": Check.COMMITMENT_AGE,
    "CommitmentTooOld": Check.COMMITMENT_AGE,
    "BadPublicKeyLength": Check.PUBLIC_KEY,
    "BadSignature": Check.SIGNATURE,
    "WrongSigner": Check.POSSESSION,
    "KeyAlreadyUsed": Check.KEY_REUSE,
    "ReceiptAlreadyUsed": Check.KEY_REUSE,
    "NotPending": Check.STATUS,
    "PendingExpired": Check.STATUS,
    "NumberInUse": Check.STATUS,
    "NotApproved": Check.STATUS,
    "NotActive": Check.STATUS,
    "RecoveryAlreadyPending": Check.STATUS,
    "NoRecoveryPending": Check.STATUS,
    "UnknownClient": Check.STATUS,
    "KeyMismatch": Check.RECORD_MATCH,
    "VersionMismatch": Check.RECORD_MATCH,
    "PhoneNumberMismatch": Check.RECORD_MATCH,
    "RecoveryNotReady": Check.TIME_LOCK,
}


def contract_revert(name: str, data: bytes | None = None) -> ContractRevert:
    """The :class:`ContractRevert` for custom error ``name``, naming its check."""
    return ContractRevert(name, data=data, check=CONTRACT_CHECKS.get(name))


_ERROR_STRING = keccak256(b"Error(string)")[:4]
_PANIC = keccak256(b"Panic(uint256)")[:4]


def _canonical_type(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_canonical_type(p) for p in item['inputs'])})"


@dataclass(frozen=True)
class ErrorCodec:
    """The custom errors of one ABI, by 4-byte selector."""

    by_selector: dict[bytes, tuple[str, list[str]]]

    @classmethod
    def from_abi(cls, abi: Sequence[dict[str, Any]]) -> ErrorCodec:
        table = {}
        for item in abi:
            if item.get("type") == "error":
                table[keccak256(_signature(item).encode())[:4]] = (
                    item["name"],
                    [_canonical_type(p) for p in item["inputs"]],
                )
        return cls(table)

    def decode(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        """(name, arguments) of revert data; ``Error(string)`` gives ("Error", (message,))."""
        if len(data) < 4:
            raise DecodeError(f"revert data of {len(data)} bytes has no selector")
        selector, body = bytes(data[:4]), bytes(data[4:])
        if selector == _ERROR_STRING:
            name, types = "Error", ["string"]
        elif selector == _PANIC:
            name, types = "Panic", ["uint256"]
        elif selector in self.by_selector:
            name, types = self.by_selector[selector]
        else:
            raise DecodeError(f"unknown revert selector 0x{selector.hex()}")
        try:
            args = decode(types, body, strict=True)
        except (DecodingError, ValueError, OverflowError) as exc:
            raise DecodeError(f"revert {name}: arguments do not decode: {exc}") from exc
        return name, tuple(args)

    def revert(self, data: bytes) -> ContractRevert:
        """The :class:`ContractRevert` for revert data (reason = custom error name)."""
        try:
            name, _ = self.decode(data)
        except DecodeError:
            name = "0x" + bytes(data).hex() if data else "revert without data"
        return contract_revert(name, bytes(data))


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: list[tuple[str, str]]
    unindexed: list[tuple[str, str]]
    order: list[str]


@dataclass(frozen=True)
class EventCodec:
    """The events of one ABI, by topic 0."""

    by_topic: dict[bytes, _EventSpec]

    @classmethod
    def from_abi(cls, abi: Sequence[dict[str, Any]]) -> EventCodec:
        table = {}
        for item in abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                ins = item["inputs"]
                table[keccak256(_signature(item).encode())] = _EventSpec(
                    item["name"],
                    [(p["name"], _canonical_type(p)) for p in ins if p["indexed"]],
                    [(p["name"], _canonical_type(p)) for p in ins if not p["indexed"]],
                    [p["name"] for p in ins],
                )
        return cls(table)

    def decode(self, topics: Sequence[bytes], data: bytes) -> tuple[str, dict[str, Any]]:
        """(event name, arguments by name) of one log."""
        if not topics:
            raise DecodeError("log without topics")
        if any(len(t) != 32 for t in topics):
            raise DecodeError("log topic is not 32 bytes")
        spec = self.by_topic.get(bytes(topics[0]))
        if spec is None:
            raise DecodeError(f"unknown event topic 0x{bytes(topics[0]).hex()}")
        if len(topics) != 1 + len(spec.indexed):
            raise DecodeError(
                f"{spec.name}: {len(topics) - 1} indexed topics, expected {len(spec.indexed)}"
            )
        values: dict[str, Any] = {}
        try:
            for (name, kind), topic in zip(spec.indexed, topics[1:], strict=True):
                if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                    values[name] = bytes(topic)  # dynamic indexed values are only their hash
                else:
                    values[name] = decode([kind], bytes(topic), strict=True)[0]
            decoded = decode([k for _, k in spec.unindexed], bytes(data), strict=True)
        except (DecodingError, ValueError, OverflowError) as exc:
            raise DecodeError(f"{spec.name}: log does not decode: {exc}") from exc
        for (name, _), value in zip(spec.unindexed, decoded, strict=True):
            values[name] = value
        kinds = dict(spec.indexed + spec.unindexed)
        return spec.name, {name: _from_abi(kinds[name], values[name]) for name in spec.order}


def _from_abi(kind: str, value: Any) -> Any:
    """eth_abi gives addresses as checksummed hex; ethvoip passes them as 20 bytes."""
    if kind == "address" and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value
