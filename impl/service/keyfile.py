"""The subscriber's secrets at rest: an encrypted keystore file and the SIP credentials file.

``keystore.json`` holds the wallet key and the identity key, each in Ethereum's Web3 Secret
Storage format (scrypt + AES-128-CTR + keccak MAC, via eth-account's ``Account.encrypt``)
under the subscriber's passphrase.  ``sip.json`` beside it holds the SIP username, domain and
password, readable by the owner only (mode 0600): a SIP client needs the password in clear
at every REGISTER.  ``trust.json`` holds the phone's trust settings for key look-ups (the
checkpoint the operator pinned at approval, the policy, its depth and freshness bound: see
:mod:`ethvoip.impl.chain.policies`); it is not secret, but a phone must not let anyone else
rewrite it, so it is written the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from ethvoip.impl.chain.policies import TrustSettings
from ethvoip.impl.crypto import IdentityKey
from ethvoip.spec.errors import ConfigError, CryptoError

KEYSTORE_NAME = "keystore.json"
SIP_NAME = "sip.json"
TRUST_NAME = "trust.json"
#: scrypt N of eth-account's default (2^18); tests pass a small one to stay fast.
DEFAULT_SCRYPT_N = 2**18


@dataclass(frozen=True)
class Secrets:
    wallet_key: bytes
    identity: IdentityKey


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by the owner only, atomically, on disk when this returns."""
    # Created 0600 from the start (no window in which another user could open it).
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    # The rename itself must be durable too: fsync the directory entry.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_keystore(
    directory: Path, secrets: Secrets, passphrase: str, *, scrypt_n: int = DEFAULT_SCRYPT_N
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEYSTORE_NAME
    write_private(
        path,
        {
            "wallet": Account.encrypt(secrets.wallet_key, passphrase, iterations=scrypt_n),
            "identity": Account.encrypt(
                secrets.identity.private_bytes(), passphrase, iterations=scrypt_n
            ),
        },
    )
    return path


def load_keystore(directory: Path, passphrase: str) -> Secrets:
    data = json.loads((directory / KEYSTORE_NAME).read_text())
    try:
        wallet = bytes(Account.decrypt(data["wallet"], passphrase))
        identity = bytes(Account.decrypt(data["identity"], passphrase))
    except ValueError as exc:  # eth-keyfile's "MAC mismatch"
        raise CryptoError("wrong passphrase or damaged keystore") from exc
    return Secrets(wallet, IdentityKey.from_private_bytes(identity))


def save_sip(directory: Path, credentials: dict[str, str]) -> Path:
    path = directory / SIP_NAME
    write_private(path, credentials)
    return path


def save_trust(directory: Path, settings: TrustSettings) -> Path:
    path = directory / TRUST_NAME
    write_private(path, settings.to_json())
    return path


def load_trust(directory: Path) -> TrustSettings:
    """The phone's trust settings; :class:`~ethvoip.spec.errors.ConfigError` if malformed."""
    try:
        data = json.loads((directory / TRUST_NAME).read_text())
    except ValueError as exc:
        raise ConfigError(f"{directory / TRUST_NAME} is not JSON") from exc
    return TrustSettings.from_json(data)
