"""What both key-store clients share: deployment, sending, calling, decoding logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3

from ethvoip.impl.chain.abi import ErrorCodec
from ethvoip.impl.chain.artifacts import Artifact, load_artifact
from ethvoip.impl.chain.backend import Chain
from ethvoip.impl.chain.events import Event, decode_event
from ethvoip.spec.errors import ChainError


@dataclass(frozen=True)
class TxResult:
    """A mined transaction: its gas, its block and the contract's decoded events."""

    gas_used: int
    block_number: int
    block_hash: bytes
    timestamp: int
    events: tuple[Event, ...]


def address_bytes(address: str | bytes) -> bytes:
    """A 20-byte address from hex (checksummed or not) or bytes."""
    raw = address if isinstance(address, bytes) else bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ChainError(f"an address has 20 bytes, not {len(raw)}")
    return raw


class ContractClient:
    """A deployed contract of one of the committed artifacts, on one chain."""

    ARTIFACT: str = ""

    def __init__(self, chain: Chain, address: str | bytes) -> None:
        self.chain = chain
        self.artifact: Artifact = load_artifact(self.ARTIFACT)
        self.errors = ErrorCodec.from_abi(self.artifact.abi)
        self.address = address_bytes(address)
        self.contract = chain.w3.eth.contract(
            address=Web3.to_checksum_address(self.address), abi=self.artifact.abi
        )

    @classmethod
    def _deploy(cls, chain: Chain, sender: str, *args: Any) -> str:
        art = load_artifact(cls.ARTIFACT)
        factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = chain.transact(factory.constructor(*args), sender, ErrorCodec.from_abi(art.abi))
        address = receipt.get("contractAddress")
        if not address:
            raise ChainError("deployment receipt has no contract address")
        return str(address)

    def send(self, function: str, sender: str, *args: Any, gas: int | None = None) -> TxResult:
        """Call contract function ``function`` (Solidity name) in a transaction from ``sender``."""
        fn = getattr(self.contract.functions, function)(*args)
        receipt = self.chain.transact(fn, sender, self.errors, gas)
        block = self.chain.w3.eth.get_block(receipt["blockHash"])
        events = tuple(
            decode_event(self.ARTIFACT, [bytes(t) for t in log["topics"]], bytes(log["data"]))
            for log in receipt["logs"]
            if address_bytes(log["address"]) == self.address
        )
        return TxResult(
            int(receipt["gasUsed"]),
            int(receipt["blockNumber"]),
            bytes(receipt["blockHash"]),
            int(block["timestamp"]),
            events,
        )

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """Evaluate view function ``function`` (Solidity name) at ``block``."""
        return self.chain.call(
            getattr(self.contract.functions, function)(*args), self.errors, block
        )

    def events(self, from_block: int = 0, to_block: int | str = "latest") -> list[Event]:
        """Every event this contract emitted in the block range, decoded and typed, in order."""
        query: Any = {
            "address": Web3.to_checksum_address(self.address),
            "fromBlock": from_block,
            "toBlock": to_block,
        }
        logs = self.chain.w3.eth.get_logs(query)
        return [
            decode_event(self.ARTIFACT, [bytes(t) for t in log["topics"]], bytes(log["data"]))
            for log in logs
        ]
