"""The subscriber's secrets at rest: an encrypted keystore file and the SIP credentials file.

``keystore.json`` holds the wallet key and the identity key, each in Ethereum's Web3 Secret
Storage format (scrypt + AES-128-CTR + keccak MAC, via eth-account's ``Account.encrypt``)
under the subscriber's passphrase.  ``sip.json`` beside it holds the SIP username, domain and
password, readable by the owner only (mode 0600): a SIP client needs the password in clear
at every REGISTER.  ``trust.json`` holds the phone's trust settings for key look-ups (the
checkpoint the operator pinned at approval, the policy, its depth and freshness bound: see
:mod:`ethvoip.impl.chain.policies`); it is not secret, but a phone must not let anyone else
rewrite it, so it is written the same way.

Nothing is lost: the files are written atomically with mode 0600 from creation
(:func:`ethvoip.spec.files.atomic_write`), and an existing one is never overwritten unless
the caller forces it (``ethvoip register --force``), and then only after it was kept as a
dated backup beside it (:func:`ethvoip.spec.files.backup`).  :func:`check_free` refuses a
folder before anything is generated or sent.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from ethvoip.impl.chain.policies import TrustSettings
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.service.keyvault import DEFAULT_SCRYPT_N
from ethvoip.spec.errors import ConfigError, DecryptFailed, WouldOverwrite
from ethvoip.spec.files import backup, check_dir_writable, write_private

KEYSTORE_NAME = "keystore.json"
SIP_NAME = "sip.json"
TRUST_NAME = "trust.json"


@dataclass(frozen=True)
class Secrets:
    wallet_key: bytes
    identity: IdentityKey


Clock = Callable[[], float]


def _taken_message(paths: list[Path]) -> str:
    names = " and ".join(str(p) for p in paths)
    return (
        f"{names} already there: it may hold the only copy of a subscriber's private key; "
        "choose another folder, or force the replacement (ethvoip register --force), which "
        "keeps the old file as a dated backup beside it"
    )


def check_free(directory: Path, *, force: bool = False) -> None:
    """Refuse, before anything is made, a folder that cannot take a new subscriber's files.

    The folder must be (or be creatable as) a writable folder; unless ``force``, it must not
    hold ``keystore.json`` or ``sip.json`` already.
    """
    check_dir_writable(directory, "the keystore folder")
    names = (KEYSTORE_NAME, SIP_NAME, TRUST_NAME)
    taken = [directory / n for n in names if (directory / n).exists()]
    if taken and not force:
        raise WouldOverwrite(_taken_message(taken))


def retire(directory: Path, *, clock: Clock) -> list[Path]:
    """Move a previous registration's files out of the way, all together, before a forced one.

    Each of ``keystore.json``, ``sip.json`` and ``trust.json`` that exists is kept as a dated
    backup (one timestamp for the set) and then removed, so that a forced registration that
    stops half-way leaves its own new files and the old set whole in the backups, never a new
    keystore beside the old ``sip.json``.  Returns the backups made.
    """
    now = datetime.datetime.fromtimestamp(clock(), datetime.UTC)
    kept = []
    for name in (KEYSTORE_NAME, SIP_NAME, TRUST_NAME):
        path = directory / name
        if path.exists():
            kept.append(backup(path, now))
            path.unlink()
    return kept


def _save(path: Path, data: dict[str, Any], *, force: bool, clock: Clock) -> None:
    """Create ``path``; an existing file is refused, or with ``force`` backed up first."""
    if force and path.exists():
        backup(path, datetime.datetime.fromtimestamp(clock(), datetime.UTC))
        write_private(path, data)
        return
    try:
        write_private(path, data, exclusive=True)
    except FileExistsError as exc:
        raise WouldOverwrite(_taken_message([path])) from exc


def save_keystore(
    directory: Path,
    secrets: Secrets,
    passphrase: str,
    *,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    force: bool = False,
    clock: Clock = time.time,
) -> Path:
    """Write ``keystore.json`` (see :func:`_save` for what happens to an existing one)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEYSTORE_NAME
    data = {
        "wallet": Account.encrypt(secrets.wallet_key, passphrase, iterations=scrypt_n),
        "identity": Account.encrypt(
            secrets.identity.private_bytes(), passphrase, iterations=scrypt_n
        ),
    }
    _save(path, data, force=force, clock=clock)
    return path


def load_keystore(directory: Path, passphrase: str) -> Secrets:
    data = json.loads((directory / KEYSTORE_NAME).read_text())
    try:
        wallet = bytes(Account.decrypt(data["wallet"], passphrase))
        identity = bytes(Account.decrypt(data["identity"], passphrase))
    except ValueError as exc:  # eth-keyfile's "MAC mismatch"
        raise DecryptFailed("wrong passphrase or damaged keystore") from exc
    return Secrets(wallet, IdentityKey.from_private_bytes(identity))


def save_sip(
    directory: Path,
    credentials: dict[str, str],
    *,
    force: bool = False,
    clock: Clock = time.time,
) -> Path:
    """Write ``sip.json`` (see :func:`_save` for what happens to an existing one)."""
    path = directory / SIP_NAME
    _save(path, dict(credentials), force=force, clock=clock)
    return path


def save_trust(
    directory: Path, settings: TrustSettings, *, force: bool = False, clock: Clock = time.time
) -> Path:
    """Write ``trust.json`` (see :func:`_save` for what happens to an existing one)."""
    path = directory / TRUST_NAME
    _save(path, settings.to_json(), force=force, clock=clock)
    return path


def load_trust(directory: Path) -> TrustSettings:
    """The phone's trust settings; :class:`~ethvoip.spec.errors.ConfigError` if malformed."""
    try:
        data = json.loads((directory / TRUST_NAME).read_text())
    except ValueError as exc:
        raise ConfigError(f"{directory / TRUST_NAME} is not JSON") from exc
    return TrustSettings.from_json(data)
