"""The two chains the key-store client runs on, behind one interface.

* :class:`EmbeddedChain`: eth-tester's py-evm (Prague) in process; the default, needs nothing.
* :class:`RpcChain`: any JSON-RPC node (anvil in the tests, see :mod:`.anvil`).

Both give the same client code: unlocked accounts to send from, a way to send a contract
transaction whose revert comes back as :class:`~ethvoip.spec.errors.ContractRevert` (whatever
exception the backend raised), time travel for the commit-reveal and time-lock tests, and the
raw material of light-client proofs (a block header's RLP and EIP-1186 account/storage proofs).
"""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import rlp
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from ethvoip.impl.chain.abi import ErrorCodec
from ethvoip.impl.chain.jsonrpc import JsonRpcClient
from ethvoip.impl.chain.mpt import encode_flat_list
from ethvoip.impl.chain.proofs import AccountProof, parse_eip1186
from ethvoip.impl.crypto import keccak256
from ethvoip.spec.errors import ChainError, ContractRevert

_REVERTED = "execution reverted: "


def revert_data_of(exc: BaseException) -> bytes | str | None:
    """The revert payload a backend attached to its exception: bytes, a decoded string, or None.

    eth-tester's web3 provider re-raises ``TransactionFailed("execution reverted: b'...'")``
    with the data as the *repr* of bytes; web3 over JSON-RPC raises ``ContractLogicError``
    with ``data`` as hex.
    """
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return bytes.fromhex(data[2:])
            except ValueError:
                return data
        return None
    if type(exc).__name__ == "TransactionFailed" and exc.args:
        first = exc.args[0]
        if isinstance(first, bytes):
            return first
        if isinstance(first, str):
            text = first.removeprefix(_REVERTED)
            if text.startswith(("b'", 'b"')):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    return text
                if isinstance(value, bytes):
                    return value
            return text
    return None


def normalise_revert(exc: BaseException, errors: ErrorCodec) -> ContractRevert | None:
    """A :class:`ContractRevert` for a backend's revert exception, or None if it is not one."""
    if not (isinstance(exc, ContractLogicError) or type(exc).__name__ == "TransactionFailed"):
        return None
    data = revert_data_of(exc)
    if isinstance(data, bytes):
        return errors.revert(data)
    return ContractRevert(data if data else str(exc))


class Chain(ABC):
    """A chain to deploy to, send transactions to and read (with proofs) from."""

    w3: Web3

    @property
    def accounts(self) -> list[str]:
        """The node's unlocked accounts (checksummed hex); index 0 is the usual deployer."""
        return list(self.w3.eth.accounts)

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def transact(
        self, fn: Any, sender: str, errors: ErrorCodec, gas: int | None = None
    ) -> dict[str, Any]:
        """Send contract call ``fn`` from ``sender``; the receipt, or :class:`ContractRevert`.

        With ``gas`` None the node estimates it first, which also surfaces a revert with its
        reason before anything is mined; with an explicit limit a revert is only seen as a
        failed receipt (``ContractRevert("reverted in block (status 0)")``).
        """
        tx: dict[str, Any] = {"from": sender}
        if gas is not None:
            tx["gas"] = gas
        try:
            tx_hash = fn.transact(tx)
            receipt = dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30))
        except Exception as exc:  # the backends disagree on the type: normalise below
            revert = normalise_revert(exc, errors)
            if revert is not None:
                raise revert from exc
            if isinstance(exc, Web3RPCError):
                raise ChainError(f"node refused the transaction: {exc}") from exc
            raise
        if receipt.get("status") != 1:
            raise ContractRevert("reverted in block (status 0)")
        return receipt

    def call(self, fn: Any, errors: ErrorCodec, block: int | str = "latest") -> Any:
        """Evaluate a view function; a revert becomes :class:`ContractRevert`."""
        try:
            return fn.call(block_identifier=block)
        except Exception as exc:
            revert = normalise_revert(exc, errors)
            if revert is not None:
                raise revert from exc
            raise

    def latest_block(self) -> dict[str, Any]:
        return dict(self.w3.eth.get_block("latest"))

    def latest_timestamp(self) -> int:
        return int(self.latest_block()["timestamp"])

    @abstractmethod
    def increase_time(self, seconds: int) -> None:
        """Mine a block at least ``seconds`` after the latest one."""

    @abstractmethod
    def header_rlp(self, block_hash: bytes) -> bytes:
        """The RLP encoding of a block's header (whose keccak256 is ``block_hash``)."""

    @abstractmethod
    def get_proof(self, address: bytes, slots: Sequence[bytes], block_hash: bytes) -> AccountProof:
        """An EIP-1186 account proof with storage proofs for ``slots`` at a block."""

    def header_and_proof(
        self, address: bytes, slots: Sequence[bytes], block_hash: bytes
    ) -> tuple[bytes, AccountProof]:
        """:meth:`header_rlp` and :meth:`get_proof` together (one round trip where possible)."""
        return self.header_rlp(block_hash), self.get_proof(address, slots, block_hash)

    def close(self) -> None:
        """Release the backend (nothing for the embedded chain)."""
        return None


class EmbeddedChain(Chain):
    """eth-tester + py-evm in this process.  Proofs come from py-evm's own state trie."""

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        self.tester = EthereumTester(PyEVMBackend())
        self.w3 = Web3(EthereumTesterProvider(self.tester))

    def increase_time(self, seconds: int) -> None:
        pending = int(self.tester.get_block_by_number("pending")["timestamp"])
        self.tester.time_travel(pending + seconds)

    def _header(self, block_hash: bytes) -> Any:
        from eth.exceptions import HeaderNotFound

        try:
            return self.tester.backend.chain.chaindb.get_block_header_by_hash(block_hash)
        except HeaderNotFound as exc:
            raise ChainError(f"no block 0x{block_hash.hex()}") from exc

    def header_rlp(self, block_hash: bytes) -> bytes:
        return bytes(rlp.encode(self._header(block_hash)))

    def get_proof(self, address: bytes, slots: Sequence[bytes], block_hash: bytes) -> AccountProof:
        # eth-tester has no eth_getProof: walk py-evm's state trie (it keeps every root's
        # nodes) the way a full node would, and answer in EIP-1186's shape.
        from trie.hexary import HexaryTrie

        header = self._header(block_hash)
        db = self.tester.backend.chain.chaindb.db
        state = HexaryTrie(db, header.state_root)
        account_key = keccak256(address)
        account_nodes = [rlp.encode(n) for n in state.get_proof(account_key)]  # type: ignore[no-untyped-call]
        encoded = state.get(account_key)
        if encoded:
            nonce, balance, storage_root, code_hash = rlp.decode(encoded)
        else:  # an absent account: empty storage, empty code
            nonce, balance = b"", b""
            storage_root, code_hash = HexaryTrie.BLANK_NODE_HASH, keccak256(b"")
        storage = HexaryTrie(db, storage_root)
        storage_proofs = []
        for slot in slots:
            key = keccak256(slot)
            raw = storage.get(key)
            nodes = storage.get_proof(key)  # type: ignore[no-untyped-call]
            storage_proofs.append(
                {
                    "key": "0x" + slot.hex(),
                    "value": hex(rlp.decode(raw, sedes=rlp.sedes.big_endian_int) if raw else 0),
                    "proof": ["0x" + rlp.encode(n).hex() for n in nodes],
                }
            )
        return parse_eip1186(
            {
                "address": "0x" + address.hex(),
                "nonce": hex(int.from_bytes(nonce, "big")),
                "balance": hex(int.from_bytes(balance, "big")),
                "storageHash": "0x" + bytes(storage_root).hex(),
                "codeHash": "0x" + bytes(code_hash).hex(),
                "accountProof": ["0x" + bytes(n).hex() for n in account_nodes],
                "storageProof": storage_proofs,
            }
        )


class RpcChain(Chain):
    """A JSON-RPC node (anvil): time via evm_increaseTime/evm_mine, proofs via eth_getProof.

    web3 (``self.w3``) sends transactions and contract calls; the raw reads of the light
    client (headers, proofs) and ``_rpc`` go through a lean keep-alive :class:`JsonRpcClient`.
    """

    def __init__(self, url: str) -> None:
        from web3 import HTTPProvider

        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
        self.rpc = JsonRpcClient(url)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        return self.rpc.call(method, params)

    @property
    def chain_id(self) -> int:
        """``eth_chainId`` on the lean client (web3's provider adds about a millisecond, on
        every phone's first look-up: the checkpoint policy checks the chain id)."""
        answer = self._rpc("eth_chainId", [])
        try:
            return int(answer, 16)
        except (TypeError, ValueError) as exc:
            raise ChainError(f"eth_chainId: not a hex quantity: {answer!r}") from exc

    def increase_time(self, seconds: int) -> None:
        self._rpc("evm_increaseTime", [seconds])
        self._rpc("evm_mine", [])

    @staticmethod
    def _block_request(block_hash: bytes) -> tuple[str, list[Any]]:
        return "eth_getBlockByHash", ["0x" + block_hash.hex(), False]

    @staticmethod
    def _proof_request(
        address: bytes, slots: Sequence[bytes], block_hash: bytes
    ) -> tuple[str, list[Any]]:
        # Storage keys as 32-byte hex (anvil rejects short quantities); block by EIP-1898 hash.
        return "eth_getProof", [
            "0x" + address.hex(),
            ["0x" + s.hex() for s in slots],
            {"blockHash": "0x" + block_hash.hex()},
        ]

    @staticmethod
    def _header_of(block: Any, block_hash: bytes) -> bytes:
        if block is None:
            raise ChainError(f"no block 0x{block_hash.hex()}")
        if not isinstance(block, dict):
            raise ChainError("eth_getBlockByHash answer is not an object")
        return header_rlp_from_json(block)

    def header_rlp(self, block_hash: bytes) -> bytes:
        return self._header_of(self.rpc.call(*self._block_request(block_hash)), block_hash)

    def get_proof(self, address: bytes, slots: Sequence[bytes], block_hash: bytes) -> AccountProof:
        return parse_eip1186(self.rpc.call(*self._proof_request(address, slots, block_hash)))

    def header_and_proof(
        self, address: bytes, slots: Sequence[bytes], block_hash: bytes
    ) -> tuple[bytes, AccountProof]:
        block, proof = self.rpc.batch(
            [self._block_request(block_hash), self._proof_request(address, slots, block_hash)]
        )
        return self._header_of(block, block_hash), parse_eip1186(proof)

    def close(self) -> None:
        self.rpc.close()


# A header's RLP fields in order, with their JSON-RPC names (Yellow Paper 4.3).  The forks
# since London each appended fields; a header carries them from its fork on, so the encoder
# takes the optional tail up to the first absent one (and refuses a gap).
_HEADER_FIELDS: tuple[tuple[str, bool], ...] = (  # (JSON name, is an integer)
    ("parentHash", False),
    ("sha3Uncles", False),
    ("miner", False),
    ("stateRoot", False),
    ("transactionsRoot", False),
    ("receiptsRoot", False),
    ("logsBloom", False),
    ("difficulty", True),
    ("number", True),
    ("gasLimit", True),
    ("gasUsed", True),
    ("timestamp", True),
    ("extraData", False),
    ("mixHash", False),
    ("nonce", False),
)
_HEADER_TAIL: tuple[tuple[str, bool], ...] = (
    ("baseFeePerGas", True),  # London (EIP-1559)
    ("withdrawalsRoot", False),  # Shanghai (EIP-4895)
    ("blobGasUsed", True),  # Cancun (EIP-4844)
    ("excessBlobGas", True),
    ("parentBeaconBlockRoot", False),  # Cancun (EIP-4788)
    ("requestsHash", False),  # Prague (EIP-7685)
)


def header_fields_from_json(block: dict[str, Any]) -> list[bytes | int]:
    """A block header's RLP fields, in order, from JSON-RPC block fields (hex strings).

    Integers stay integers (RLP-encoded minimally, zero as the empty string), byte fields are
    bytes; :class:`ChainError` names a missing, non-hex or out-of-order fork field.
    """
    tail = [name for name, _ in _HEADER_TAIL if name in block]
    if tail != [name for name, _ in _HEADER_TAIL[: len(tail)]]:
        raise ChainError("block header JSON has a gap in its fork fields")
    fields: list[bytes | int] = []
    try:
        for name, is_int in (*_HEADER_FIELDS, *_HEADER_TAIL[: len(tail)]):
            text = block[name]
            if not isinstance(text, str) or not text.startswith("0x"):
                raise ChainError(f"block header field {name} is not 0x-hex")
            fields.append(int(text, 16) if is_int else bytes.fromhex(text[2:]))
    except KeyError as exc:
        raise ChainError(f"block header JSON lacks {exc}") from exc
    except ValueError as exc:
        raise ChainError(f"block header JSON has a field that is not hex: {exc}") from exc
    return fields


def header_rlp_from_json(block: dict[str, Any]) -> bytes:
    """RLP of a block header given as JSON-RPC block fields (hex strings).

    ``tests/chain/test_proofs.py`` checks the result hashes to the node's block hash and
    equals py-evm's ``PragueBlockHeader`` encoding.
    """
    return encode_flat_list(header_fields_from_json(block))
