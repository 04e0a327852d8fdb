"""Putting a service together: keys, chain identity, contracts, treasury, reconciliation.

:func:`build_service` is what ``ethvoip serve``, the client's ``--embedded`` mode, the tests
and the load bench call.  On first start it creates the service's keys (identity, treasury,
operator) and the identifier salt, deploys ``KeyStore`` and ``KeyStorePaper`` from the
operator account, and stores all of it in the database's ``meta`` table; on a later start it
reads them back, refuses a database made against another chain, and reconciles funding
intents with the chain before anything is served.
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
from ethvoip.impl.crypto import IdentityKey, Rng
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.db import ServiceDB
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
    min_commitment_age: int = MIN_COMMITMENT_AGE,
    clock: Callable[[], float] | None = None,
    rng: Rng = os.urandom,
) -> Built:
    """Open (or create) the service's state on ``chain`` and reconcile it."""
    if isinstance(chain, EmbeddedChain):
        serialise_embedded(chain)
    db = ServiceDB(db_path)
    with db.transaction():
        _check_chain(db, chain)
        identity = IdentityKey.from_private_bytes(
            bytes.fromhex(
                _secret(db, "identity_key", lambda: IdentityKey.generate(rng).private_bytes().hex())
            )
        )
        treasury = account_from_key(_secret(db, "treasury_key", lambda: "0x" + rng(32).hex()))
        operator = account_from_key(_secret(db, "operator_key", lambda: "0x" + rng(32).hex()))
        salt = bytes.fromhex(_secret(db, "identifier_salt", lambda: rng(32).hex()))
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
