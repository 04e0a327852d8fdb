"""What the hardened KeyStore hashes and checks signatures over, computed off chain.

Pure functions (bytes in, bytes out) mirroring ``contracts/KeyStore.sol`` byte for byte: the
phone-number identifier, the commit-reveal commitment, and the EIP-712 digests
(:mod:`.eip712`) an identity key signs for registration, rotation, revocation, recovery
consent and recovery veto.  A disagreement with
the contract shows up as a ``WrongSigner`` or ``CommitmentNotFound`` revert in the tests.
"""

from __future__ import annotations

import re

from eth_abi.abi import encode

from ethvoip.impl.chain import eip712
from ethvoip.impl.crypto import keccak256
from ethvoip.spec.errors import DecodeError

# E.164: '+', a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
IDENTIFIER_TAG = b"ethvoip.identifier.v1\x00"


def _bytes32(what: str, value: bytes) -> bytes:
    if len(value) != 32:
        raise DecodeError(f"{what} must be 32 bytes, got {len(value)}")
    return bytes(value)


def _address(value: bytes) -> str:
    if len(value) != 20:
        raise DecodeError(f"address must be 20 bytes, got {len(value)}")
    return "0x" + bytes(value).hex()


def check_e164(number: str) -> str:
    """Return ``number`` if it is an E.164 number (``+`` and 2 to 15 digits), else raise."""
    if not _E164.fullmatch(number):
        raise DecodeError(f"not an E.164 phone number: {number!r}")
    return number


def identifier(number: str, salt: bytes) -> bytes:
    """keccak256(tag || operator salt || E.164 number): the key under which a number is stored.

    Hides the number from someone reading the chain; it does not resist a dictionary search
    of the ~10^10 numbers of a country by someone who knows the salt (see docs/contracts.rst).
    """
    return keccak256(IDENTIFIER_TAG + _bytes32("operator salt", salt) + check_e164(number).encode())


def key_hash(public_key: bytes) -> bytes:
    """keccak256 of the 64-byte public key: what approval and recovery name a key by."""
    if len(public_key) != 64:
        raise DecodeError(f"public key must be 64 bytes, got {len(public_key)}")
    return keccak256(bytes(public_key))


def commitment(ident: bytes, public_key: bytes, sender: bytes, secret: bytes) -> bytes:
    """keccak256(abi.encode(identifier, publicKey, sender, secret)), as ``register`` rebuilds it."""
    return keccak256(
        encode(
            ["bytes32", "bytes", "address", "bytes32"],
            [
                _bytes32("identifier", ident),
                bytes(public_key),
                _address(sender),
                _bytes32("secret", secret),
            ],
        )
    )


def register_digest(
    chain_id: int, contract: bytes, ident: bytes, public_key: bytes, registrant: bytes, version: int
) -> bytes:
    """What a key signs to be registered for ``ident`` by ``registrant`` at record ``version``."""
    return eip712.digest(
        chain_id,
        contract,
        "Register",
        identifier=_bytes32("identifier", ident),
        keyHash=key_hash(public_key),
        registrant=bytes(registrant),
        recordVersion=version,
    )


def rotate_digest(
    chain_id: int, contract: bytes, ident: bytes, new_key: bytes, version: int
) -> bytes:
    """What the current key signs to hand ``ident`` (now at ``version``) to ``new_key``."""
    return eip712.digest(
        chain_id,
        contract,
        "Rotate",
        identifier=_bytes32("identifier", ident),
        newKeyHash=key_hash(new_key),
        version=version,
    )


def rotate_to_digest(
    chain_id: int, contract: bytes, ident: bytes, new_key: bytes, version: int
) -> bytes:
    """What the new key signs to accept ``ident`` (now at ``version``) in a rotation."""
    return eip712.digest(
        chain_id,
        contract,
        "RotateTo",
        identifier=_bytes32("identifier", ident),
        newKeyHash=key_hash(new_key),
        version=version,
    )


def revoke_digest(chain_id: int, contract: bytes, ident: bytes, version: int) -> bytes:
    """What the current key signs to revoke itself (record at ``version``)."""
    return eip712.digest(
        chain_id, contract, "Revoke", identifier=_bytes32("identifier", ident), version=version
    )


def recovery_digest(
    chain_id: int, contract: bytes, ident: bytes, new_key: bytes, serial: int
) -> bytes:
    """What the recovered key signs to consent to recovery announcement ``serial``."""
    return eip712.digest(
        chain_id,
        contract,
        "Recovery",
        identifier=_bytes32("identifier", ident),
        newKeyHash=key_hash(new_key),
        serial=serial,
    )


def cancel_recovery_digest(
    chain_id: int, contract: bytes, ident: bytes, recovery_key_hash: bytes, serial: int
) -> bytes:
    """What the current key signs to veto the announced recovery (named by key and serial)."""
    return eip712.digest(
        chain_id,
        contract,
        "Veto",
        identifier=_bytes32("identifier", ident),
        newKeyHash=_bytes32("key hash", recovery_key_hash),
        serial=serial,
    )


#: A pending registration's word: registeredAt in the top 64 bits, these 192 bits below.
BINDING_BITS = 192


def pending_binding(ident: bytes, record_version: int, registrant: bytes) -> int:
    """The low 192 bits of keccak256(abi.encode(identifier, recordVersion, registrant)): what
    ``keys[keyHash]`` holds for a pending registration, beside its time."""
    word = keccak256(
        encode(
            ["bytes32", "uint64", "address"],
            [_bytes32("identifier", ident), record_version, _address(registrant)],
        )
    )
    return int.from_bytes(word, "big") & ((1 << BINDING_BITS) - 1)
