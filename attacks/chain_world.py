"""The chain the contract attacks run on: actors with real keys, receipts, a public mempool.

Every contract attack (and the key-store conformance replay) runs on one embedded chain
(eth-tester + py-evm, :func:`embedded`, shared per process: each run deploys its own
contracts).  An :class:`Actor` is an eth-tester account (unlocked, with the private key
eth-tester publishes, so its transactions can also be signed off line), a phone number
(:data:`~ethvoip.attacks.world.PHONES`) and a deterministic secp256k1 identity key.

**Ordering.**  eth-tester has no mempool: a transaction it is handed is executed at once.
:class:`Mempool` plays the public pool and the block builder: a transaction is *signed* by
its sender and *broadcast* to the pool, where everybody can read it (sender, priority fee,
decoded calldata) before it is executed; :meth:`Mempool.mine` then hands the pending
transactions to eth-tester in the order a fee-maximising builder picks (highest priority
fee first, ties in arrival order, each sender's in nonce order), one block each, and
reports each one's fate; a reverted one is re-executed on the state just before it to
name the contract's custom error.  The
front-runner's advantage is therefore exactly the real one: he sees the victim's
transaction before inclusion and pays a higher tip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

from ethvoip.attacks.base import Attack, AttackResult, Blocked, Line
from ethvoip.attacks.world import PHONES
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.chain.backend import normalise_revert
from ethvoip.impl.chain.contract import ContractClient
from ethvoip.impl.crypto import IdentityKey, Rng, seeded_rng
from ethvoip.spec.errors import ChainError, Check, ContractRevert

#: Gas limit of every mempool transaction (the key-store functions use well under 400k).
TX_GAS = 1_000_000
#: The default priority fee (wei per gas) of an honest wallet.
HONEST_TIP = 1_000_000_000


@cache
def embedded() -> EmbeddedChain:
    """The process's embedded chain (starting py-evm takes seconds; contracts are per run)."""
    return EmbeddedChain()


@dataclass(frozen=True)
class Actor:
    """A symbolic agent on the chain: account, phone number, identity key."""

    name: str
    account: LocalAccount
    phone: str  # "" for an agent with no number (the operator)
    identity: IdentityKey

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def public_key(self) -> bytes:
        """``pk(name)``: the 64-byte secp256k1 public key the agent really holds."""
        return self.identity.public_key.to_bytes()


class ChainWorld:
    """Actors on the shared embedded chain; ``rng(label)`` gives deterministic streams."""

    def __init__(self, seed: bytes, names: tuple[str, ...]) -> None:
        self.seed = seed
        self.chain = embedded()
        keys = self.chain.tester.backend.account_keys
        if len(names) > len(keys):
            raise ChainError(f"eth-tester has {len(keys)} accounts, {len(names)} wanted")
        self.actors: dict[str, Actor] = {}
        for i, name in enumerate(names):
            account = Account.from_key(str(keys[i]))
            identity = IdentityKey.generate(seeded_rng(seed + b"/identity/" + name.encode()))
            self.actors[name] = Actor(name, account, PHONES.get(name, ""), identity)

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def rng(self, label: str) -> Rng:
        return seeded_rng(self.seed + b"/" + label.encode())

    def receipt_token(self, label: str) -> str:
        """A purchase token shaped like the app store's (48 hex digits, random)."""
        return self.rng("receipt/" + label)(24).hex()

    def owner_of_key(self, public_key: bytes) -> str | None:
        for a in self.actors.values():
            if a.public_key == public_key:
                return a.name
        return None

    def owner_of_phone(self, phone: str) -> str | None:
        for a in self.actors.values():
            if a.phone == phone:
                return a.name
        return None

    def owner_of_address(self, address: str | bytes) -> str | None:
        raw = address if isinstance(address, bytes) else bytes.fromhex(address[2:])
        for a in self.actors.values():
            if bytes.fromhex(a.address[2:]) == raw:
                return a.name
        return None


@dataclass(frozen=True)
class PendingTx:
    """A signed transaction in the public pool, as anyone reading the pool sees it."""

    raw: bytes
    tx_hash: bytes
    sender: str
    tip: int
    contract: ContractClient
    function: str
    args: dict[str, Any]
    arrival: int


@dataclass(frozen=True)
class Included:
    """A transaction the builder included: its block and whether it reverted (and why)."""

    tx: PendingTx
    block: int
    ok: bool
    error: str | None  # the contract's custom error name when it reverted
    check: Check | None = None  # and the check that custom error stands for


class Mempool:
    """The public transaction pool and a priority-fee-ordering block builder."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        self._pool: list[PendingTx] = []
        self._arrivals = 0

    def broadcast(
        self,
        sender: Actor,
        contract: ContractClient,
        function: str,
        *args: Any,
        tip: int = HONEST_TIP,
    ) -> PendingTx:
        """``sender`` signs a call of ``contract.function(*args)`` and publishes it."""
        w3 = self.chain.w3
        fn = getattr(contract.contract.functions, function)(*args)
        mine = sum(1 for p in self._pool if p.sender == sender.address)
        base = int(w3.eth.get_block("latest")["baseFeePerGas"])
        tx = fn.build_transaction(
            {
                "from": sender.address,
                "nonce": w3.eth.get_transaction_count(sender.account.address) + mine,
                "gas": TX_GAS,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": 2 * base + tip,
                "chainId": self.chain.chain_id,
            }
        )
        signed = sender.account.sign_transaction(tx)
        self._arrivals += 1
        pending = PendingTx(
            bytes(signed.raw_transaction),
            bytes(signed.hash),
            sender.address,
            tip,
            contract,
            function,
            self.read(contract, bytes(signed.raw_transaction)),
            self._arrivals,
        )
        self._pool.append(pending)
        return pending

    @staticmethod
    def read(contract: ContractClient, raw: bytes) -> dict[str, Any]:
        """What an observer of the pool reads from a raw transaction: the decoded call."""
        from eth_account.typed_transactions.typed_transaction import TypedTransaction

        data = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["data"]
        _, args = contract.contract.decode_function_input(data)
        return dict(args)

    def pending(self) -> list[PendingTx]:
        return list(self._pool)

    def mine(self) -> list[Included]:
        """Include every pending transaction, highest tip first; one block each.

        Like a real builder, it keeps each sender's transactions in nonce (= arrival) order:
        at each step it takes, among every sender's next transaction, the highest tip.
        """
        queue = sorted(self._pool, key=lambda p: p.arrival)
        self._pool.clear()
        order = []
        while queue:
            heads: dict[str, PendingTx] = {}
            for p in queue:
                heads.setdefault(p.sender, p)
            best = min(heads.values(), key=lambda p: (-p.tip, p.arrival))
            queue.remove(best)
            order.append(best)
        w3 = self.chain.w3
        out = []
        for p in order:
            w3.eth.send_raw_transaction(p.raw)
            receipt = w3.eth.get_transaction_receipt(HexBytes(p.tx_hash))
            block = int(receipt["blockNumber"])
            ok = receipt["status"] == 1
            if ok:
                out.append(Included(p, block, ok, None))
            else:
                why = self._why(p, block - 1)
                out.append(Included(p, block, ok, why.reason, why.check))
        return out

    def _why(self, p: PendingTx, before: int) -> ContractRevert:
        """Re-execute a reverted transaction on the state just before it: its custom error."""
        call = {
            "from": p.sender,
            "to": Web3.to_checksum_address(p.contract.address),
            "data": getattr(p.contract.contract.functions, p.function)(
                *p.args.values()
            )._encode_transaction_data(),
        }
        try:
            self.chain.w3.eth.call(call, before)  # type: ignore[arg-type]
        except Exception as exc:  # the backend's revert exception, normalised below
            revert = normalise_revert(exc, p.contract.errors)
            if revert is None:
                raise
            return revert
        raise ContractRevert("reverted in its block but not when re-executed")


def storage_values(chain: EmbeddedChain, address: bytes) -> list[int]:
    """Every non-zero storage word of the contract at ``address`` (latest block), read from
    py-evm's storage trie: what anyone running a node can read, getters or not."""
    import rlp
    from trie.hexary import HexaryTrie
    from trie.iter import NodeIterator

    from ethvoip.impl.crypto import keccak256

    db = chain.tester.backend.chain.chaindb.db
    header = chain.tester.backend.chain.get_canonical_head()
    encoded = HexaryTrie(db, header.state_root).get(keccak256(address))
    if not encoded:
        return []
    storage_root = rlp.decode(encoded)[2]
    values = NodeIterator(HexaryTrie(db, storage_root)).values()
    return [int(rlp.decode(v, sedes=rlp.sedes.big_endian_int)) for v in values]


def calldata_of(chain: EmbeddedChain, address: bytes, from_block: int) -> list[bytes]:
    """The input of every transaction sent to ``address`` since ``from_block``."""
    w3 = chain.w3
    out = []
    for n in range(from_block, int(w3.eth.block_number) + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            fields = dict(tx)  # type: ignore[arg-type]
            to = fields.get("to")
            if to and bytes.fromhex(str(to)[2:]) == address:
                # JSON-RPC says "input"; eth-tester's provider passes py-evm's "data" through
                data: Any = fields.get("input", fields.get("data", b""))
                out.append(bytes(data))
    return out


def raw_logs(chain: EmbeddedChain, address: bytes, from_block: int) -> list[bytes]:
    """Topics and data of every log ``address`` emitted since ``from_block``, concatenated."""
    logs = chain.w3.eth.get_logs(
        {"address": Web3.to_checksum_address(address), "fromBlock": from_block}
    )
    return [b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"]) for log in logs]


Half = Callable[["ChainWorld"], tuple[bool, list[Line], str]]


def run_contract_attack(
    name: str, protocol: str, paper_half: Half, hardened_half: Callable[[ChainWorld], Blocked]
) -> AttackResult:
    """One contract attack: the paper half on KeyStorePaper, then the same adversary against
    KeyStore, on one embedded chain seeded by the attack's name (so runs repeat exactly)."""
    w = ChainWorld(f"ethvoip/{name}".encode(), ("o", "a", "e"))
    paper = paper_half(w)
    hardened = hardened_half(w)
    return AttackResult.of_halves(name, protocol, paper, hardened)


def contract_attack(
    name: str,
    *,
    protocol: str,
    title: str,
    setting: str,
    paper: Half,
    hardened: Callable[[ChainWorld], Blocked],
    checks: tuple[str, ...],
) -> Attack:
    """A contract attack script's :class:`Attack`: :func:`run_contract_attack` of its halves.

    ``protocol`` and ``title`` are as the table of checks knows the attack, ``setting`` is
    what its result names as the protocol (the contracts and the model trace it follows)."""

    def run() -> AttackResult:
        return run_contract_attack(name, setting, paper, hardened)

    return Attack(name, protocol, title, run, checks=checks)
