"""Putting a service together: keys, chain identity, contracts, treasury, reconciliation.

:func:`build_service` is what ``ethvoip serve``, the client's ``--embedded`` mode, the tests
and the load bench call.  On first start it creates the service's keys (identity, treasury,
operator) and the identifier salt, deploys ``KeyStore`` and ``KeyStorePaper`` from the
operator account.  The private keys go to an encrypted key file (:mod:`.keyvault`, under the
passphrase the caller passes; by default beside the database, ``<db>-keys.json``), the
salt, the contract addresses and the keys' *public* facts to the database's ``meta`` table.
On a later start it decrypts the key file and refuses one whose keys are not the database's,
refuses a database made against another chain, and reconciles funding intents with the
chain before anything is served.  A schema-1 database (keys in clear) is migrated: its keys
move into the key file, then out of the database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    Chain,
    EmbeddedChain,
    KeyStoreClient,
    PaperKeyStoreClient,
)
from ethvoip.impl.crypto import Rng
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.db import PLAINTEXT_KEY_ROWS, ServiceDB
from ethvoip.impl.service.keyvault import (
    DEFAULT_SCRYPT_N,
    ROLES,
    ServiceKeys,
    check_passphrase,
    load_service_keys,
    save_service_keys,
)
from ethvoip.impl.service.ledger import Ledger, account_from_key, install_signers
from ethvoip.impl.service.service import WalletService
from ethvoip.impl.service.sipdb import SipDatabase
from ethvoip.spec.errors import ConfigError


def serialise_embedded(chain: EmbeddedChain) -> EmbeddedChain:
    """Make an embedded chain safe to share between threads (eth-tester is not).

    In ``--embedded`` mode and in the tests the service's worker thread and the client's
    thread use the same in-process chain; one lock around the provider serialises them.
    """
    provider: Any = chain.w3.provider
    if getattr(provider, "_ethvoip_locked", False):
        return chain
    lock = threading.RLock()
    inner = provider.make_request

    def make_request(method: Any, params: Any) -> Any:
        with lock:
            return inner(method, params)

    provider.make_request = make_request
    provider._ethvoip_locked = True
    original_travel = chain.increase_time

    def increase_time(seconds: int) -> None:
        with lock:
            original_travel(seconds)

    chain.increase_time = increase_time  # type: ignore[method-assign]
    return chain


def _secret(db: ServiceDB, name: str, make: Callable[[], str]) -> str:
    value = db.get_meta(name)
    if value is None:
        value = make()
        db.set_meta(name, value)
    return value


def default_keys_path(db_path: str | Path) -> Path:
    """Where the key file goes unless told: beside the database, ``<stem>-keys.json``."""
    db = Path(db_path)
    return db.with_name(db.stem + "-keys.json")


FACTS = ("service_key", "treasury_address", "operator_address")


def _exporter(
    keys_path: Path, passphrase: str, scrypt_n: int
) -> Callable[[dict[str, str]], dict[str, str]]:
    """Migration 1 -> 2: write schema 1's plaintext keys to the key file, read them back."""

    def export(plain: dict[str, str]) -> dict[str, str]:
        if set(plain) != set(PLAINTEXT_KEY_ROWS):
            raise ConfigError(f"schema-1 database with only some keys: {sorted(plain)}")
        keys = ServiceKeys.from_roles(
            {r: bytes.fromhex(plain[f"{r}_key"].removeprefix("0x")) for r in ROLES}
        )
        if keys_path.exists():  # a migration that wrote the file, then died before commit
            if load_service_keys(keys_path, passphrase) != keys:
                raise ConfigError(f"{keys_path} holds other keys than the database: not touched")
        else:
            save_service_keys(keys_path, keys, passphrase, scrypt_n=scrypt_n)
        # Only once the file decrypts to the same keys may the database forget them.
        if load_service_keys(keys_path, passphrase) != keys:  # pragma: no cover - disk fault
            raise ConfigError(f"{keys_path} does not read back what was written")
        return keys.public_facts()

    return export


def _service_keys(
    db: ServiceDB, keys_path: Path, passphrase: str, scrypt_n: int, rng: Rng
) -> ServiceKeys:
    """The key file's keys, checked against the database's public facts (or made anew)."""
    facts = {name: db.get_meta(name) for name in FACTS}
    if all(v is None for v in facts.values()):
        # A new database: make the keys (or adopt a key file written by a start that died
        # before it could record the facts), file first, facts second.
        if keys_path.exists():
            keys = load_service_keys(keys_path, passphrase)
        else:
            keys = ServiceKeys.generate(rng)
            save_service_keys(keys_path, keys, passphrase, scrypt_n=scrypt_n)
        with db.transaction():
            for name, value in keys.public_facts().items():
                db.set_meta(name, value)
        return keys
    if any(v is None for v in facts.values()):
        raise ConfigError(f"{db.path}: the keys' public facts are incomplete: {facts}")
    keys = load_service_keys(keys_path, passphrase)
    if keys.public_facts() != facts:
        raise ConfigError(f"{keys_path} holds other keys than the ones {db.path} was made with")
    return keys


def _check_chain(db: ServiceDB, chain: Chain) -> None:
    genesis = bytes(chain.w3.eth.get_block(0)["hash"]).hex()
    identity = f"{chain.chain_id}:{genesis}"
    stored = db.get_meta("chain")
    if stored is None:
        db.set_meta("chain", identity)
    elif stored != identity:
        raise ConfigError(
            f"{db.path} was made against chain {stored}, not {identity}: use a fresh --db"
        )


def _fund_from_node(chain: Chain, to: str, floor: int, amount: int) -> None:
    """Dev chains only: top ``to`` up from the node's first unlocked account."""
    if not chain.accounts:
        return
    w3: Any = chain.w3
    if int(w3.eth.get_balance(to)) >= floor:
        return
    tx = w3.eth.send_transaction({"from": chain.accounts[0], "to": to, "value": amount})
    w3.eth.wait_for_transaction_receipt(tx, timeout=30)


def _has_code(chain: Chain, address: str) -> bool:
    return len(chain.w3.eth.get_code(chain.w3.to_checksum_address(address))) > 0


@dataclass
class Built:
    """A ready service and what it was built from (so callers can close it)."""

    service: WalletService
    db: ServiceDB
    sip: SipDatabase
    chain: Chain
    treasury: LocalAccount
    operator: LocalAccount
    reconciled: int

    def close(self) -> None:
        self.db.close()
        self.sip.close()


def build_service(
    config: ServiceConfig,
    chain: Chain,
    db_path: str | Path,
    sip_db_path: str | Path,
    *,
    passphrase: str,
    keys_path: str | Path | None = None,
    key_scrypt_n: int = DEFAULT_SCRYPT_N,
    min_commitment_age: int = MIN_COMMITMENT_AGE,
    clock: Callable[[], float] | None = None,
    rng: Rng = os.urandom,
) -> Built:
    """Open (or create) the service's state on ``chain`` and reconcile it.

    ``passphrase`` opens the key file at ``keys_path`` (default :func:`default_keys_path`);
    ``key_scrypt_n`` is the scrypt cost of a key file made now (tests pass a small one).
    """
    check_passphrase(passphrase)
    if isinstance(chain, EmbeddedChain):
        serialise_embedded(chain)
    keys_file = Path(keys_path) if keys_path is not None else default_keys_path(db_path)
    db = ServiceDB(db_path, export_keys=_exporter(keys_file, passphrase, key_scrypt_n))
    try:
        with db.transaction():
            _check_chain(db, chain)
            salt = bytes.fromhex(_secret(db, "identifier_salt", lambda: rng(32).hex()))
        keys = _service_keys(db, keys_file, passphrase, key_scrypt_n, rng)
    except BaseException:
        db.close()
        raise
    identity = keys.identity_key()
    treasury = account_from_key("0x" + keys.treasury.hex())
    operator = account_from_key("0x" + keys.operator.hex())
    install_signers(chain, operator)
    _fund_from_node(chain, operator.address, config.faucet_wei // 10, config.faucet_wei)
    _fund_from_node(chain, treasury.address, config.faucet_wei // 10, config.faucet_wei)
    keystore_address = db.get_meta("keystore_address")
    if keystore_address is None:
        keystore = KeyStoreClient.deploy(
            chain,
            operator.address,
            min_commitment_age=min_commitment_age,
            max_commitment_age=max(86_400, min_commitment_age + 1),
        )
        paper = PaperKeyStoreClient.deploy(chain, operator.address)
        with db.transaction():
            db.set_meta("keystore_address", "0x" + keystore.address.hex())
            db.set_meta("paper_address", "0x" + paper.address.hex())
    else:
        paper_address = db.get_meta("paper_address") or ""
        for address in (keystore_address, paper_address):
            if not _has_code(chain, address):
                raise ConfigError(f"no contract at {address}: was the chain reset?")
        keystore = KeyStoreClient(chain, keystore_address)
        paper = PaperKeyStoreClient(chain, paper_address)
    ledger = Ledger(chain, keystore, paper, treasury, operator)
    sip = SipDatabase(sip_db_path, realm=config.sip_realm)
    kwargs: dict[str, Any] = {"rng": rng}
    if clock is not None:
        kwargs["clock"] = clock
    service = WalletService(config, db, sip, ledger, identity, salt, **kwargs)
    reconciled = service.reconcile()
    return Built(service, db, sip, chain, treasury, operator, reconciled)
