"""What the hardened KeyStore hashes and checks signatures over, computed off chain.

Pure functions (bytes in, bytes out) mirroring ``contracts/KeyStore.sol`` byte for byte: the
phone-number identifier, the commit-reveal commitment, and the digests an identity key signs
for proof of possession, rotation, revocation and recovery cancellation.  A disagreement with
the contract shows up as a ``WrongSigner`` or ``CommitmentNotFound`` revert in the tests.
"""

from __future__ import annotations

import re

from eth_abi.abi import encode
from eth_hash.auto import keccak

from ethvoip.spec.errors import DecodeError

# E.164: '+', a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
IDENTIFIER_TAG = b"ethvoip.identifier.v1\x00"

POSSESSION_TAG = keccak(b"ethvoip.KeyStore.possession.v1")
ROTATE_TAG = keccak(b"ethvoip.KeyStore.rotate.v1")
REVOKE_TAG = keccak(b"ethvoip.KeyStore.revoke.v1")
CANCEL_RECOVERY_TAG = keccak(b"ethvoip.KeyStore.cancelRecovery.v1")


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
    return keccak(IDENTIFIER_TAG + _bytes32("operator salt", salt) + check_e164(number).encode())


def key_hash(public_key: bytes) -> bytes:
    """keccak256 of the 64-byte public key: what approval and recovery name a key by."""
    if len(public_key) != 64:
        raise DecodeError(f"public key must be 64 bytes, got {len(public_key)}")
    return keccak(bytes(public_key))


def commitment(ident: bytes, public_key: bytes, sender: bytes, secret: bytes) -> bytes:
    """keccak256(abi.encode(identifier, publicKey, sender, secret)), as ``register`` rebuilds it."""
    return keccak(
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


def possession_digest(chain_id: int, contract: bytes, ident: bytes, sender: bytes) -> bytes:
    """What a key signs to prove possession when ``sender`` puts it under ``ident``."""
    return keccak(
        encode(
            ["bytes32", "uint256", "address", "bytes32", "address"],
            [
                POSSESSION_TAG,
                chain_id,
                _address(contract),
                _bytes32("identifier", ident),
                _address(sender),
            ],
        )
    )


def rotate_digest(
    chain_id: int, contract: bytes, ident: bytes, new_key: bytes, version: int
) -> bytes:
    """What the current key signs to hand ``ident`` over to ``new_key`` as ``version``."""
    return keccak(
        encode(
            ["bytes32", "uint256", "address", "bytes32", "bytes32", "uint64"],
            [
                ROTATE_TAG,
                chain_id,
                _address(contract),
                _bytes32("identifier", ident),
                key_hash(new_key),
                version,
            ],
        )
    )


def revoke_digest(chain_id: int, contract: bytes, ident: bytes, version: int) -> bytes:
    """What the current key signs to revoke itself (version ``version``)."""
    return keccak(
        encode(
            ["bytes32", "uint256", "address", "bytes32", "uint64"],
            [REVOKE_TAG, chain_id, _address(contract), _bytes32("identifier", ident), version],
        )
    )


def cancel_recovery_digest(
    chain_id: int, contract: bytes, ident: bytes, recovery_key_hash: bytes, serial: int
) -> bytes:
    """What the current key signs to veto the announced recovery (named by key and serial)."""
    return keccak(
        encode(
            ["bytes32", "uint256", "address", "bytes32", "bytes32", "uint64"],
            [
                CANCEL_RECOVERY_TAG,
                chain_id,
                _address(contract),
                _bytes32("identifier", ident),
                _bytes32("key hash", recovery_key_hash),
                serial,
            ],
        )
    )
