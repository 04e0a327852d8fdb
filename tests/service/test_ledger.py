"""The ledger's decisions on what the node says, against a stub node (no chain, no service).

Each case is one answer a node can give that the service must not take for success: a mined
transfer that failed, a refusal for want of funds, the treasury's nonce taken by another
transaction, and the paper contract with nothing pending.  A live node gives these rarely
and not on demand, so the node is a stub here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from eth_account import Account
from web3.exceptions import TransactionNotFound

from ethvoip.impl.chain import Chain, KeyStoreClient, PaperKeyStoreClient
from ethvoip.impl.service.codes import Code
from ethvoip.impl.service.ledger import Ledger
from ethvoip.spec.errors import ChainError, ServiceError

TX_HASH = b"\x11" * 32
NONCE = 7


@dataclass
class StubEth:
    """The few ``w3.eth`` calls the ledger makes, each answering what the test set."""

    receipt: dict[str, int] | None = None  # None: not mined
    waited: dict[str, int] = field(default_factory=lambda: {"status": 1, "blockNumber": 5})
    send_error: str | None = None
    mined_count: int = NONCE

    def get_transaction_receipt(self, tx_hash: bytes) -> dict[str, int]:
        if self.receipt is None:
            raise TransactionNotFound("not mined")
        return self.receipt

    def send_raw_transaction(self, raw_tx: bytes) -> bytes:
        if self.send_error is not None:
            raise ValueError(self.send_error)
        return TX_HASH

    def wait_for_transaction_receipt(self, tx_hash: bytes, timeout: float) -> dict[str, int]:
        return self.waited

    def get_transaction_count(self, address: str, block: str = "latest") -> int:
        return self.mined_count


@dataclass
class StubChain:
    eth: StubEth

    @property
    def w3(self) -> Any:
        return self


@dataclass
class StubPaper:
    is_pending: bool

    def approved(self, token: str) -> tuple[Any, ...]:
        return (b"", b"", 0, False)

    def pending(self, token: str) -> tuple[Any, ...]:
        return (b"", b"", 0, self.is_pending)


def _ledger(eth: StubEth, paper: StubPaper | None = None) -> Ledger:
    account = Account.from_key(b"\x01" * 32)
    return Ledger(
        cast(Chain, StubChain(eth)),
        cast(KeyStoreClient, None),
        cast(PaperKeyStoreClient, paper),
        account,
        account,
    )


def test_a_mined_transfer_that_failed_is_a_chain_error() -> None:
    ledger = _ledger(StubEth(receipt={"status": 0, "blockNumber": 3}))
    with pytest.raises(ChainError, match="failed in block"):
        ledger.mined_block(TX_HASH)


def test_settle_refuses_a_transfer_mined_as_failed() -> None:
    ledger = _ledger(StubEth(waited={"status": 0, "blockNumber": 3}))
    with pytest.raises(ChainError, match="failed in block"):
        ledger.settle(b"raw", TX_HASH, NONCE)


@pytest.mark.parametrize(
    "text", ["insufficient funds for gas * price + value", "sender cannot afford the transfer"]
)
def test_a_treasury_without_funds_is_named(text: str) -> None:
    ledger = _ledger(StubEth(send_error=text))
    with pytest.raises(ServiceError) as caught:
        ledger.broadcast(b"raw", TX_HASH, NONCE)
    assert caught.value.code == Code.TREASURY_EMPTY.wire


def test_the_treasury_nonce_used_by_another_transaction_is_a_chain_error() -> None:
    ledger = _ledger(StubEth(send_error="nonce too low", mined_count=NONCE + 1))
    with pytest.raises(ChainError, match="used by another transaction"):
        ledger.broadcast(b"raw", TX_HASH, NONCE)


def test_a_refusal_while_the_nonce_is_still_free_is_the_node_unavailable() -> None:
    # The chain has mined up to (not including) this nonce: nothing else holds it.
    ledger = _ledger(StubEth(send_error="txpool is full", mined_count=NONCE))
    with pytest.raises(ServiceError) as caught:
        ledger.broadcast(b"raw", TX_HASH, NONCE)
    assert caught.value.code == Code.CHAIN_UNAVAILABLE.wire


def test_no_paper_contract_is_a_chain_error() -> None:
    with pytest.raises(ChainError, match="no KeyStorePaper"):
        _ledger(StubEth()).paper_client()


def test_paper_approval_with_nothing_pending_is_refused() -> None:
    ledger = _ledger(StubEth(), StubPaper(is_pending=False))
    with pytest.raises(ServiceError) as caught:
        ledger.paper_approve("+15550100", "token")
    assert caught.value.code == Code.NOT_PENDING.wire
