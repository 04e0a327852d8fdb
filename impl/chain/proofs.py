"""Light-client verification of a key-store look-up (paper III.B), sans IO.

A client that trusts one block hash (a checkpoint) can check, without trusting the node that
answers, what the KeyStore contract held for an identifier at that block:

1. the header bytes hash (keccak256) to the trusted block hash -> the header's state root;
2. an account proof (Merkle-Patricia, EIP-1186) from that state root to the contract's account
   -> its storage root;
3. storage proofs from that storage root to the slots of ``records[identifier]``, whose
   positions come from the committed storageLayout (:class:`RecordLayout`).

Every step rejects with :class:`~ethvoip.spec.errors.ProofError`; absent entries are proven too
(the trie proves the slot empty), so "not registered" is as verifiable as a key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ethvoip.impl.chain.mpt import EMPTY_TRIE_ROOT, decode_rlp, decode_uint, keccak, walk_proof
from ethvoip.spec.errors import Check, DecodeError, ProofInvalid

EMPTY_CODE_HASH = keccak(b"")

# Header fields (Yellow Paper order, unchanged since Frontier for these two).
_HEADER_STATE_ROOT = 3
_HEADER_NUMBER = 8


@dataclass(frozen=True)
class StorageProof:
    """One storage slot as a node claims it: its key, value and Merkle branch (RLP nodes)."""

    slot: bytes
    value: int
    nodes: tuple[bytes, ...]


@dataclass(frozen=True)
class AccountProof:
    """An EIP-1186 ``eth_getProof`` answer: claimed account fields plus branches."""

    address: bytes
    nonce: int
    balance: int
    storage_hash: bytes
    code_hash: bytes
    nodes: tuple[bytes, ...]
    storage: tuple[StorageProof, ...]


def _hexbytes(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise DecodeError(f"{what}: expected 0x-hex, got {type(value).__name__}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError as exc:
        raise DecodeError(f"{what}: not hex") from exc
    if size is not None and len(raw) != size:
        raise DecodeError(f"{what}: {len(raw)} bytes, expected {size}")
    return raw


def _quantity(value: Any, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 66:
        raise DecodeError(f"{what}: expected a hex quantity")
    try:
        return int(value, 16)
    except ValueError as exc:
        raise DecodeError(f"{what}: not a hex quantity") from exc


def _hex_nodes(values: Any, what: str) -> tuple[bytes, ...]:
    """A JSON list of 0x-hex strings (trie nodes) as bytes, in one pass: a look-up parses a
    dozen of them, so no call per node."""
    if not isinstance(values, list):
        raise DecodeError(f"{what}: expected a list")
    try:
        # v[:2] raises TypeError for what cannot be sliced and is "0x" only for a string.
        if not all(v[:2] == "0x" for v in values):
            raise DecodeError(f"{what}: expected 0x-hex strings")
        return tuple([bytes.fromhex(v[2:]) for v in values])
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{what}: expected 0x-hex strings") from exc


def parse_eip1186(result: Any) -> AccountProof:
    """Parse an ``eth_getProof`` JSON result; :class:`DecodeError` on any shape error."""
    if not isinstance(result, dict):
        raise DecodeError("eth_getProof result is not an object")
    try:
        entries = result["storageProof"]
        if not isinstance(entries, list):
            raise DecodeError("storageProof: expected a list")
        storage = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise DecodeError(f"storageProof[{i}] is not an object")
            key = _hexbytes(entry["key"], "storageProof key")
            if len(key) > 32:
                raise DecodeError(f"storageProof[{i}].key longer than 32 bytes")
            storage.append(
                StorageProof(
                    key.rjust(32, b"\0"),
                    _quantity(entry["value"], "storageProof value"),
                    _hex_nodes(entry["proof"], "storageProof proof"),
                )
            )
        return AccountProof(
            address=_hexbytes(result["address"], "address", 20),
            nonce=_quantity(result["nonce"], "nonce"),
            balance=_quantity(result["balance"], "balance"),
            storage_hash=_hexbytes(result["storageHash"], "storageHash", 32),
            code_hash=_hexbytes(result["codeHash"], "codeHash", 32),
            nodes=_hex_nodes(result["accountProof"], "accountProof"),
            storage=tuple(storage),
        )
    except KeyError as exc:
        raise DecodeError(f"eth_getProof result lacks {exc}") from exc


# ------------------------------------------------------------------ Merkle-Patricia


def _trie_get(root: bytes, key: bytes, nodes: Sequence[bytes], what: str) -> bytes:
    """The value under ``keccak(key)`` in the (secure) trie of ``root``, proven by ``nodes``."""
    return walk_proof(root, keccak(key).hex(), nodes, what)


@dataclass(frozen=True)
class TrustedHeader:
    """What a verified header establishes."""

    block_hash: bytes
    number: int
    state_root: bytes


def verify_header(trusted_hash: bytes, header_rlp: bytes) -> TrustedHeader:
    """Check that ``header_rlp`` is the header of the trusted block; return its state root."""
    if keccak(header_rlp) != trusted_hash:
        raise ProofInvalid(
            "header does not hash to the trusted block hash", check=Check.HEADER_HASH
        )
    try:
        fields = decode_rlp(header_rlp)
    except DecodeError as exc:
        raise ProofInvalid("trusted header is not RLP", check=Check.DECODE) from exc
    if not isinstance(fields, list) or len(fields) < 15:
        raise ProofInvalid("trusted header has too few fields", check=Check.DECODE)
    root, number = fields[_HEADER_STATE_ROOT], fields[_HEADER_NUMBER]
    if not isinstance(root, bytes) or len(root) != 32 or not isinstance(number, bytes):
        raise ProofInvalid("trusted header fields are malformed", check=Check.DECODE)
    return TrustedHeader(trusted_hash, int.from_bytes(number, "big"), root)


@dataclass(frozen=True)
class AccountState:
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


def verify_account(state_root: bytes, address: bytes, proof: AccountProof) -> AccountState:
    """The proven state of ``address`` (an empty account if the proof shows it absent)."""
    if proof.address != address:
        raise ProofInvalid("account proof is for another address", check=Check.PROOF_SUBJECT)
    raw = _trie_get(state_root, address, proof.nodes, "account")
    if raw == b"":
        state = AccountState(0, 0, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH)
    else:
        try:
            fields = decode_rlp(raw)
        except DecodeError as exc:
            raise ProofInvalid("proven account is not RLP", check=Check.DECODE) from exc
        if not (
            isinstance(fields, list)
            and len(fields) == 4
            and all(isinstance(f, bytes) for f in fields)
            and len(fields[2]) == len(fields[3]) == 32
        ):
            raise ProofInvalid(
                "proven account is not [nonce, balance, storageRoot, codeHash]", check=Check.DECODE
            )
        nonce, balance, storage_root, code_hash = cast(list[bytes], fields)  # checked above
        state = AccountState(
            int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash
        )
    _check_claims(proof, state)
    return state


def _check_claims(proof: AccountProof, state: AccountState) -> None:
    claimed = (proof.nonce, proof.balance, proof.storage_hash, proof.code_hash)
    if claimed != (state.nonce, state.balance, state.storage_root, state.code_hash):
        raise ProofInvalid(
            "claimed account fields differ from the proven ones", check=Check.PROOF_VALUE
        )


def verify_storage(storage_root: bytes, proof: StorageProof, slot: bytes) -> int:
    """The proven value of ``slot`` (0 if the proof shows it empty)."""
    if proof.slot != slot:
        raise ProofInvalid("storage proof is for another slot", check=Check.PROOF_SUBJECT)
    raw = _trie_get(storage_root, slot, proof.nodes, "storage")
    value = decode_uint(raw, "storage") if raw else 0
    if value != proof.value:
        raise ProofInvalid(
            "claimed storage value differs from the proven one", check=Check.PROOF_VALUE
        )
    return int(value)


# ------------------------------------------------------------------ where a record lives


@dataclass(frozen=True)
class Field:
    slot: int
    offset: int
    size: int

    def extract(self, word: int) -> int:
        return (word >> (8 * self.offset)) & ((1 << (8 * self.size)) - 1)


@dataclass(frozen=True)
class RecordLayout:
    """Where ``records[identifier]`` lives, read from the compiler's storageLayout."""

    mapping_slot: int
    fields: Mapping[str, Field]

    @classmethod
    def from_storage_layout(
        cls, layout: Mapping[str, Any], mapping: str = "records"
    ) -> RecordLayout:
        entries = [e for e in layout["storage"] if e["label"] == mapping]
        if len(entries) != 1:
            raise ProofInvalid(f"storageLayout has no single {mapping!r}")
        entry = entries[0]
        types = layout["types"]
        value_type = types[types[entry["type"]]["value"]]
        fields = {
            m["label"]: Field(
                int(m["slot"]), int(m["offset"]), int(types[m["type"]]["numberOfBytes"])
            )
            for m in value_type["members"]
        }
        return cls(int(entry["slot"]), fields)

    def base(self, key: bytes) -> int:
        """Solidity's slot of ``mapping[key]`` for a bytes32 key: keccak256(key || slot)."""
        return int.from_bytes(keccak(key + self.mapping_slot.to_bytes(32, "big")), "big")

    def slots(self, key: bytes) -> list[bytes]:
        """The distinct slots holding the entry's fields, in order."""
        return self.slots_at(self.base(key))

    def slots_at(self, base: int) -> list[bytes]:
        """:meth:`slots` of the entry whose first slot is ``base``."""
        numbers = sorted({base + f.slot for f in self.fields.values()})
        return [(n % 2**256).to_bytes(32, "big") for n in numbers]


# ------------------------------------------------------------------ the look-up


APPROVED = 2  # KeyStore.Status.Approved


@dataclass(frozen=True)
class VerifiedRecord:
    """``records[identifier]`` as proven at the trusted block."""

    block_number: int
    status: int
    version: int
    public_key: bytes | None  # the 64-byte key when the status is Approved, else None


@dataclass(frozen=True)
class LookupProof:
    """What an untrusted node hands a light client for one look-up."""

    header_rlp: bytes
    account: AccountProof


def verify_lookup(
    trusted_hash: bytes,
    contract: bytes,
    ident: bytes,
    layout: RecordLayout,
    proof: LookupProof,
) -> VerifiedRecord:
    """Verify a look-up end to end; an absent identifier verifies with status 0."""
    header = verify_header(trusted_hash, proof.header_rlp)
    account = verify_account(header.state_root, contract, proof.account)
    return read_record(header, account, ident, layout, proof.account.storage)


def read_record(
    header: TrustedHeader,
    account: AccountState,
    ident: bytes,
    layout: RecordLayout,
    storage: Sequence[StorageProof],
) -> VerifiedRecord:
    """``records[ident]`` from storage proofs under a proven contract account."""
    if account.code_hash == EMPTY_CODE_HASH:
        raise ProofInvalid(
            "no contract at that address in the trusted state", check=Check.PROOF_SUBJECT
        )
    base = layout.base(ident)
    slots = layout.slots_at(base)
    if len(storage) != len(slots):
        raise ProofInvalid(
            f"{len(storage)} storage proofs, expected {len(slots)}", check=Check.PROOF_SUBJECT
        )
    words = {
        int.from_bytes(slot, "big"): verify_storage(account.storage_root, sp, slot)
        for slot, sp in zip(slots, storage, strict=True)
    }

    def read(name: str) -> int:
        f = layout.fields[name]
        return f.extract(words[(base + f.slot) % 2**256])

    status, version = read("status"), read("version")
    key = None
    if status == APPROVED:
        key = read("x").to_bytes(32, "big") + read("y").to_bytes(32, "big")
    return VerifiedRecord(header.number, status, version, key)


class VerifiedCache:
    """Facts a light client has already proven, reused across look-ups.

    Each entry is keyed by exactly what authenticates it, so reusing it is sound:

    * a **header** under its block hash: ``keccak256(header) == hash`` was checked, and a
      hash has one preimage, so the next look-up at that checkpoint needs no header at all;
    * a contract's **account state** under (state root, address, the proof's nodes): it is
      the output of :func:`verify_account` on that very input, so an identical proof is not
      walked again.  A proof with other nodes is walked in full; the claimed fields are
      compared on every use, so a cached entry accepts exactly what verification would.

    Storage proofs are not cached here (they are what changes between look-ups);
    :class:`ethvoip.impl.call.directory.ChainDirectory` skips walking them again only
    while the contract's storage root, proven afresh at each block, is unchanged.
    Bounded (least recently used out); safe to share between threads.
    """

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._headers: OrderedDict[bytes, TrustedHeader] = OrderedDict()
        self._accounts: OrderedDict[tuple[bytes, bytes, tuple[bytes, ...]], AccountState] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def _remember(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > self.capacity:
                table.popitem(last=False)

    def _recall(self, table: OrderedDict[Any, Any], key: Any) -> Any:
        with self._lock:
            value = table.get(key)
            if value is not None:
                table.move_to_end(key)
            return value

    def header(self, trusted_hash: bytes) -> TrustedHeader | None:
        """The verified header of ``trusted_hash``, if one was verified before."""
        header: TrustedHeader | None = self._recall(self._headers, trusted_hash)
        return header

    def verify_header(self, trusted_hash: bytes, header_rlp: bytes) -> TrustedHeader:
        """:func:`verify_header`, remembering the result under ``trusted_hash``."""
        header = verify_header(trusted_hash, header_rlp)
        self._remember(self._headers, trusted_hash, header)
        return header

    def verify_account(
        self, state_root: bytes, address: bytes, proof: AccountProof
    ) -> AccountState:
        """:func:`verify_account`, not walking again a proof already verified."""
        if proof.address != address:
            raise ProofInvalid("account proof is for another address", check=Check.PROOF_SUBJECT)
        key = (state_root, address, proof.nodes)
        state: AccountState | None = self._recall(self._accounts, key)
        if state is None:
            state = verify_account(state_root, address, proof)
            self._remember(self._accounts, key, state)
        else:
            _check_claims(proof, state)
        return state

    def verify_lookup(
        self,
        header: TrustedHeader,
        contract: bytes,
        ident: bytes,
        layout: RecordLayout,
        account: AccountProof,
    ) -> VerifiedRecord:
        """:func:`verify_lookup` at an already verified header (see :meth:`verify_header`)."""
        state = self.verify_account(header.state_root, contract, account)
        return read_record(header, state, ident, layout, account.storage)
