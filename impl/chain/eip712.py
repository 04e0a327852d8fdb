"""EIP-712 typed-data digests of the hardened KeyStore, computed off chain.

Every signature the contract checks is the EIP-712 digest ``keccak256(0x1901 ||
domainSeparator || structHash)`` of its own struct type, in the domain ``{name: "ethvoip
KeyStore", version: "2", chainId, verifyingContract}``: a signature names its function (the
type), the contract and the chain (the domain), the identifier, and the record's version or
the recovery's serial, so none verifies for a second function or twice (issue 13, claim 4).
Wallets show such a request field by field (``eth_signTypedData_v4``); :func:`typed_data`
gives the JSON they take.  Pure functions, bytes in, bytes out; tests/chain/test_eip712.py
checks each digest against eth_account's independent ``encode_typed_data``.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode

from ethvoip.impl.crypto import keccak256
from ethvoip.spec.errors import DecodeError

NAME = "ethvoip KeyStore"
VERSION = "2"

DOMAIN_FIELDS = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)
#: struct name -> its fields in order (the contract's *_TYPE strings are built from these).
TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "Register": (
        ("identifier", "bytes32"),
        ("keyHash", "bytes32"),
        ("registrant", "address"),
        ("recordVersion", "uint64"),
    ),
    "Rotate": (("identifier", "bytes32"), ("newKeyHash", "bytes32"), ("version", "uint64")),
    "RotateTo": (("identifier", "bytes32"), ("newKeyHash", "bytes32"), ("version", "uint64")),
    "Revoke": (("identifier", "bytes32"), ("version", "uint64")),
    "Recovery": (("identifier", "bytes32"), ("newKeyHash", "bytes32"), ("serial", "uint64")),
    "Veto": (("identifier", "bytes32"), ("newKeyHash", "bytes32"), ("serial", "uint64")),
}


def type_string(name: str, fields: tuple[tuple[str, str], ...]) -> str:
    return f"{name}({','.join(f'{t} {n}' for n, t in fields)})"


def type_hash(name: str) -> bytes:
    return keccak256(type_string(name, TYPES[name]).encode())


def _address(value: bytes) -> str:
    if len(value) != 20:
        raise DecodeError(f"address must be 20 bytes, got {len(value)}")
    return "0x" + bytes(value).hex()


def domain_separator(chain_id: int, contract: bytes) -> bytes:
    return keccak256(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak256(type_string("EIP712Domain", DOMAIN_FIELDS).encode()),
                keccak256(NAME.encode()),
                keccak256(VERSION.encode()),
                chain_id,
                _address(contract),
            ],
        )
    )


def _check(name: str, values: dict[str, Any]) -> list[Any]:
    fields = TYPES.get(name)
    if fields is None:
        raise DecodeError(f"no EIP-712 type {name!r}")
    if set(values) != {n for n, _ in fields}:
        raise DecodeError(f"{name} takes {[n for n, _ in fields]}, got {sorted(values)}")
    out = []
    for n, t in fields:
        v = values[n]
        if t == "bytes32" and (not isinstance(v, bytes) or len(v) != 32):
            raise DecodeError(f"{name}.{n} must be 32 bytes")
        if t == "address":
            v = _address(v)
        if t == "uint64" and not (isinstance(v, int) and 0 <= v < 2**64):
            raise DecodeError(f"{name}.{n} must be a uint64")
        out.append(v)
    return out


def struct_hash(name: str, values: dict[str, Any]) -> bytes:
    ordered = _check(name, values)
    return keccak256(encode(["bytes32", *(t for _, t in TYPES[name])], [type_hash(name), *ordered]))


def digest(chain_id: int, contract: bytes, name: str, **values: Any) -> bytes:
    """What a key signs for ``name`` (one of :data:`TYPES`) with these field values."""
    return keccak256(b"\x19\x01" + domain_separator(chain_id, contract) + struct_hash(name, values))


def typed_data(chain_id: int, contract: bytes, name: str, **values: Any) -> dict[str, Any]:
    """The ``eth_signTypedData_v4`` JSON of the same message (what a wallet displays)."""
    _check(name, values)
    message = {n: ("0x" + v.hex() if isinstance(v, bytes) else v) for n, v in values.items()}
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
            name: [{"name": n, "type": t} for n, t in TYPES[name]],
        },
        "primaryType": name,
        "domain": {
            "name": NAME,
            "version": VERSION,
            "chainId": chain_id,
            "verifyingContract": _address(contract),
        },
        "message": message,
    }
