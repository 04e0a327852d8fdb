"""The service's hands on the chain (interfaces 3 and 6): fund a wallet, approve a key.

Two accounts with two jobs, so that their nonces never interfere:

* the **treasury** pays subscribers.  Its transactions are signed here with a nonce the
  database allocated (:mod:`.db`), so the raw transaction and its hash are on disk before the
  node sees them; :meth:`Ledger.settle` (re)broadcasts such an intent idempotently;
* the **operator** deployed the key-store contracts and is the only account allowed to
  approve.  Approving is idempotent by itself (the contract refuses a second approval), so it
  needs no intent record: :meth:`Ledger.approve` reads the record first and does nothing if
  the key is already approved.

Everything here blocks on the node: the HTTP layer runs it on one worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.middleware import SignAndSendRawMiddlewareBuilder

from ethvoip.impl.chain import (
    Chain,
    KeyStoreClient,
    PaperKeyStoreClient,
    Record,
    Status,
)
from ethvoip.impl.service.codes import Code, refuse
from ethvoip.spec.errors import ChainError

TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class SignedTransfer:
    nonce: int
    tx_hash: bytes
    raw_tx: bytes


@dataclass(frozen=True)
class FeePolicy:
    """EIP-1559 fee caps for the treasury's transfers (fixed so an intent is reproducible)."""

    max_fee_per_gas: int = 50 * 10**9
    max_priority_fee_per_gas: int = 10**9


def sign_transfer(
    treasury: LocalAccount, chain_id: int, to: bytes, amount: int, nonce: int, fees: FeePolicy
) -> SignedTransfer:
    """The treasury's transfer of ``amount`` wei to ``to`` with ``nonce`` (deterministic)."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "to": Web3.to_checksum_address(to),
        "value": amount,
        "gas": TRANSFER_GAS,
        "maxFeePerGas": fees.max_fee_per_gas,
        "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
    }
    signed = treasury.sign_transaction(tx)
    return SignedTransfer(nonce, bytes(signed.hash), bytes(signed.raw_transaction))


_SIGNERS = "ethvoip_local_signers"


def install_signers(chain: Chain, *accounts: LocalAccount) -> None:
    """Let ``transact({"from": account})`` sign locally for these accounts (web3 middleware).

    One middleware per chain holds every account installed so far: a middleware per call
    would stack up and slow each request down.
    """
    onion: Any = chain.w3.middleware_onion
    known: dict[str, LocalAccount] = getattr(chain, "_ethvoip_signers", {})
    known.update({a.address: a for a in accounts})
    chain._ethvoip_signers = known  # type: ignore[attr-defined]
    if any(name == _SIGNERS for _, name in onion.middleware):
        onion.remove(_SIGNERS)
    onion.inject(SignAndSendRawMiddlewareBuilder.build(list(known.values())), _SIGNERS, layer=0)


class Ledger:
    """The chain as the service sees it: its two accounts and the two contracts."""

    def __init__(
        self,
        chain: Chain,
        keystore: KeyStoreClient,
        paper: PaperKeyStoreClient | None,
        treasury: LocalAccount,
        operator: LocalAccount,
    ) -> None:
        self.chain = chain
        self.keystore = keystore
        self.paper = paper
        self.treasury = treasury
        self.operator = operator

    @property
    def w3(self) -> Any:
        return self.chain.w3

    # ------------------------------------------------------------ funding

    def treasury_nonce(self) -> int:
        """The treasury's next nonce as the node counts it (mined and pending)."""
        return int(self.w3.eth.get_transaction_count(self.treasury.address, "pending"))

    def mined_block(self, tx_hash: bytes) -> int | None:
        """The block of a mined transaction, None while it is not mined."""
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        if receipt is None:
            return None
        if receipt["status"] != 1:  # a plain transfer cannot fail once mined
            raise ChainError(f"transfer 0x{tx_hash.hex()} failed in block")
        return int(receipt["blockNumber"])

    def broadcast(self, raw_tx: bytes, tx_hash: bytes, nonce: int) -> None:
        """Hand a signed transfer to the node; a copy it already has or has mined is fine."""
        try:
            self.w3.eth.send_raw_transaction(raw_tx)
        except Exception as exc:  # the backends disagree on the type: decide by the state
            if self.mined_block(tx_hash) is not None:
                return
            text = str(exc).lower()
            if "already known" in text or "already imported" in text:
                return
            if "insufficient funds" in text or "cannot afford" in text:
                raise refuse(Code.TREASURY_EMPTY, "the treasury cannot pay this transfer") from exc
            if int(self.w3.eth.get_transaction_count(self.treasury.address)) > nonce:
                # Only this service signs with the treasury key and it signs one transaction
                # per nonce: another one holding this nonce means the key leaked.
                raise ChainError(f"treasury nonce {nonce} was used by another transaction") from exc
            raise refuse(Code.CHAIN_UNAVAILABLE, f"the node refused the transfer: {exc}") from exc

    def settle(self, raw_tx: bytes, tx_hash: bytes, nonce: int, *, timeout: float = 60) -> int:
        """Make sure the transfer is mined (broadcasting it if need be); its block number."""
        block = self.mined_block(tx_hash)
        if block is not None:
            return block
        self.broadcast(raw_tx, tx_hash, nonce)
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        except Exception as exc:
            raise refuse(Code.CHAIN_UNAVAILABLE, f"transfer not mined: {exc}") from exc
        if receipt["status"] != 1:
            raise ChainError(f"transfer 0x{tx_hash.hex()} failed in block")
        return int(receipt["blockNumber"])

    def balance(self, address: bytes | str) -> int:
        addr = address if isinstance(address, str) else "0x" + address.hex()
        return int(self.w3.eth.get_balance(self.w3.to_checksum_address(addr)))

    # ------------------------------------------------------------ approval (KeyStore)

    def record(self, ident: bytes) -> Record:
        return self.keystore.record(ident)

    def approve(
        self, ident: bytes, public_key: bytes, version: int, registrant: bytes
    ) -> bytes | None:
        """Approve ``public_key``, registered by ``registrant``, for ``ident`` at record
        ``version``; the block hash, None if it is approved already."""
        record = self.keystore.record(ident)
        if record.status is Status.APPROVED and record.public_key == public_key:
            return None
        result = self.keystore.approve(
            ident, public_key, version, self.operator.address, registrant=registrant
        )
        return result.block_hash  # the tx hash is not in TxResult: the block names the event

    # ------------------------------------------------------------ approval (paper)

    def paper_client(self) -> PaperKeyStoreClient:
        if self.paper is None:
            raise ChainError("no KeyStorePaper deployed")
        return self.paper

    def paper_approve(self, phone: str, token: str) -> bytes | None:
        """approveClient(phone, receipt): whatever is pending under the receipt (the flaw)."""
        paper = self.paper_client()
        if paper.approved(token)[3]:
            return None
        if not paper.pending(token)[3]:
            raise refuse(Code.NOT_PENDING, "nothing is pending under this receipt")
        return paper.approve_client(phone, token, self.operator.address).block_hash


def account_from_key(hex_key: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(hex_key)
    return account
