"""The service's private keys at rest: an encrypted keystore file, never the database.

The service holds three secrets: its **identity** key (secp256k1: it opens sealed requests
and signs replies), the **treasury** wallet key (pays subscribers) and the **operator**
wallet key (deployed the contracts, approves keys).  They live in one JSON file (mode 0600,
written atomically and fsynced), each as an Ethereum Web3 Secret Storage entry (scrypt +
AES-128-CTR + keccak MAC, eth-account's ``Account.encrypt``: the format of the
subscriber's ``keystore.json``, see :mod:`ethvoip.impl.subscriber.keyfile`), under a
passphrase that comes from ``--key-passphrase-file`` or the ``ETHVOIP_SERVICE_PASSPHRASE``
environment variable.

The database keeps only the *public* facts (:meth:`ServiceKeys.public_facts`: the identity
public key and the two addresses), so that a start with another key file, or with the right
file for another database, is refused instead of serving with the wrong keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from ethvoip.impl.crypto import IdentityKey, Rng
from ethvoip.spec.errors import (
    ConfigError,
    DecryptFailed,
    EthVoipError,
    WouldOverwrite,
)
from ethvoip.spec.files import write_private

FORMAT = "ethvoip-service-keys/v1"
ROLES = ("identity", "treasury", "operator")
PASSPHRASE_ENV = "ETHVOIP_SERVICE_PASSPHRASE"
#: scrypt N of eth-account's default (2^18), for these keys and the subscriber's keystore;
#: tests pass a small one to stay fast.
DEFAULT_SCRYPT_N = 2**18


@dataclass(frozen=True)
class ServiceKeys:
    """The three 32-byte private keys of a service."""

    identity: bytes
    treasury: bytes
    operator: bytes

    @classmethod
    def generate(cls, rng: Rng) -> ServiceKeys:
        # Each through IdentityKey: a scalar in [1, n-1], valid as an Ethereum account key.
        return cls(*(IdentityKey.generate(rng).private_bytes() for _ in ROLES))

    @classmethod
    def from_roles(cls, secrets: Mapping[str, bytes]) -> ServiceKeys:
        keys = cls(secrets["identity"], secrets["treasury"], secrets["operator"])
        keys.public_facts()  # every key must be a valid secp256k1 scalar
        return keys

    def roles(self) -> dict[str, bytes]:
        return {"identity": self.identity, "treasury": self.treasury, "operator": self.operator}

    def identity_key(self) -> IdentityKey:
        return IdentityKey.from_private_bytes(self.identity)

    def public_facts(self) -> dict[str, str]:
        """What the database may know: the identity public key and the two addresses."""
        return {
            "service_key": self.identity_key().public_key.to_bytes().hex(),
            "treasury_address": Account.from_key(self.treasury).address,
            "operator_address": Account.from_key(self.operator).address,
        }

    def __repr__(self) -> str:  # never print the secrets
        return f"ServiceKeys({self.public_facts()})"


def save_service_keys(
    path: Path, keys: ServiceKeys, passphrase: str, *, scrypt_n: int = DEFAULT_SCRYPT_N
) -> Path:
    """Write ``keys`` encrypted under ``passphrase`` (0600, atomic, fsynced) to a new file.

    An existing key file is never replaced (it may hold the only copy of the treasury's key):
    :class:`WouldOverwrite`, even if it appeared after the caller looked.
    """
    check_passphrase(passphrase)
    data: dict[str, Any] = {"format": FORMAT}
    for role, secret in keys.roles().items():
        data[role] = Account.encrypt(secret, passphrase, iterations=scrypt_n)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, data, exclusive=True)
    except FileExistsError as exc:
        raise WouldOverwrite(f"{path}: a service key file is already there: not replaced") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the service key file: {exc}") from exc
    return path


def load_service_keys(path: Path, passphrase: str) -> ServiceKeys:
    """Read and decrypt a key file; ConfigError if absent or malformed, CryptoError if the
    passphrase is wrong or the file was tampered with."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no service key file") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable service key file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a service key file ({FORMAT})")
    secrets: dict[str, bytes] = {}
    for role in ROLES:
        entry = data.get(role)
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: no {role} key")
        try:
            secrets[role] = bytes(Account.decrypt(entry, passphrase))
        except ValueError as exc:  # eth-keyfile: "MAC mismatch"
            raise DecryptFailed(f"{path}: wrong passphrase or damaged {role} key") from exc
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: malformed {role} entry") from exc
    try:
        return ServiceKeys.from_roles(secrets)
    except EthVoipError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def check_passphrase(passphrase: str) -> None:
    if not passphrase:
        raise ConfigError("the service key passphrase is empty")


def read_passphrase(file: Path | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The passphrase from ``file`` (first line), else ``$ETHVOIP_SERVICE_PASSPHRASE``."""
    if file is not None:
        try:
            text = file.read_text()
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read the key passphrase: {exc}") from exc
        passphrase = text.splitlines()[0] if text else ""
        check_passphrase(passphrase)
        return passphrase
    value = environ.get(PASSPHRASE_ENV)
    if value is not None:
        check_passphrase(value)
    return value
