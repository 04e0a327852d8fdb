"""Light-client look-ups (paper III.B): EIP-1186 proofs checked against a trusted block hash,
on both chains (anvil answers eth_getProof itself; the embedded chain's proofs are built
from py-evm's state trie).  Every way of lying is rejected with ProofError."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.chain import Chain, KeyStoreClient, RpcChain, Status, identifier
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.impl.chain.backend import header_rlp_from_json
from ethvoip.impl.chain.headers import ChainHeader, header_from_json, parse_header
from ethvoip.impl.chain.mpt import EMPTY_TRIE_ROOT
from ethvoip.impl.chain.proofs import (
    AccountProof,
    AccountState,
    LookupProof,
    RecordLayout,
    StorageProof,
    TrustedHeader,
    read_record,
    verify_account,
    verify_header,
    verify_lookup,
)
from ethvoip.spec.errors import ChainError, Check, ProofError
from tests.refusals import refused

from .conftest import ALICE_ID, ALICE_KEY, BOB_KEY, SALT, Actors
from .helpers import register


@pytest.fixture
def approved(ks: KeyStoreClient, chain: Chain, actors: Actors) -> bytes:
    """Alice registered and approved; returns the hash of the block to trust."""
    register(ks, chain, ALICE_ID, ALICE_KEY, actors.alice, approve_by=actors.operator)
    return bytes(chain.latest_block()["hash"])


def test_layout_follows_storage_layout(ks: KeyStoreClient, chain: Chain) -> None:
    layout = ks.layout
    base = int.from_bytes(keccak(ALICE_ID + layout.mapping_slot.to_bytes(32, "big")), "big")
    assert layout.slots(ALICE_ID) == [(base + i).to_bytes(32, "big") for i in range(3)]
    # Cross-check the slot arithmetic against the node's own storage read.
    word = chain.w3.eth.get_storage_at(ks.contract.address, base + layout.fields["version"].slot)
    assert int.from_bytes(bytes(word), "big") == 0


def test_verified_lookup_of_an_approved_key(
    ks: KeyStoreClient, chain: Chain, approved: bytes
) -> None:
    record = ks.verified_lookup(ALICE_ID, approved)
    assert record.status == Status.APPROVED
    assert record.version == 1
    assert record.public_key == ALICE_KEY.public_key.to_bytes() == ks.lookup(ALICE_ID)[0]
    assert record.block_number == chain.latest_block()["number"]


def test_absence_is_proven(ks: KeyStoreClient, approved: bytes) -> None:
    nobody = identifier("+4930123456", SALT)
    record = ks.verified_lookup(nobody, approved)
    assert (record.status, record.version, record.public_key) == (0, 0, None)


def test_pending_key_is_not_served(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    register(ks, chain, ALICE_ID, BOB_KEY, actors.alice)
    record = ks.verified_lookup(ALICE_ID, bytes(chain.latest_block()["hash"]))
    assert (record.status, record.public_key) == (Status.NONE, None)


def test_suspended_key_is_not_served(ks: KeyStoreClient, chain: Chain, actors: Actors) -> None:
    # The suspended key stays in storage (it keeps its veto): the status alone decides.
    register(ks, chain, ALICE_ID, BOB_KEY, actors.alice, approve_by=actors.operator)
    ks.operator_revoke(ALICE_ID, actors.operator)
    record = ks.verified_lookup(ALICE_ID, bytes(chain.latest_block()["hash"]))
    assert (record.status, record.version, record.public_key) == (Status.SUSPENDED, 2, None)
    assert ks.record(ALICE_ID).public_key == BOB_KEY.public_key.to_bytes()


def _proof(ks: KeyStoreClient, trusted: bytes) -> LookupProof:
    return ks.lookup_proof(ALICE_ID, trusted)


def _verify(
    ks: KeyStoreClient, trusted: bytes, proof: LookupProof, ident: bytes = ALICE_ID
) -> object:
    return verify_lookup(trusted, ks.address, ident, ks.layout, proof)


def test_tampered_value_rejected(ks: KeyStoreClient, approved: bytes) -> None:
    proof = _proof(ks, approved)
    forged = dataclasses.replace(proof.account.storage[0], value=proof.account.storage[0].value ^ 1)
    account = dataclasses.replace(proof.account, storage=(forged, *proof.account.storage[1:]))
    with refused(Check.PROOF_VALUE, ProofError):
        _verify(ks, approved, LookupProof(proof.header_rlp, account))


def test_tampered_node_rejected(ks: KeyStoreClient, approved: bytes) -> None:
    proof = _proof(ks, approved)
    sp = proof.account.storage[0]
    last = bytearray(sp.nodes[-1])
    last[-1] ^= 1  # the leaf holding the key's x coordinate
    forged = dataclasses.replace(sp, nodes=(*sp.nodes[:-1], bytes(last)))
    account = dataclasses.replace(proof.account, storage=(forged, *proof.account.storage[1:]))
    with pytest.raises(ProofError):
        _verify(ks, approved, LookupProof(proof.header_rlp, account))


def test_header_must_hash_to_checkpoint(ks: KeyStoreClient, chain: Chain, approved: bytes) -> None:
    proof = _proof(ks, approved)
    with refused(Check.HEADER_HASH, ProofError):
        _verify(ks, keccak(b"another checkpoint"), proof)
    # A header with another state root (a node lying about the state) does not hash right.
    fields = rlp.decode(proof.header_rlp)
    fields[3] = keccak(b"forged state")
    with refused(Check.HEADER_HASH, ProofError):
        _verify(ks, approved, LookupProof(rlp.encode(fields), proof.account))


def test_wrong_state_root_rejected(ks: KeyStoreClient, chain: Chain, approved: bytes) -> None:
    """Proofs from a later block do not verify under an earlier trusted header."""
    chain.increase_time(1)
    register(ks, chain, identifier("+4930123456", SALT), BOB_KEY, chain.accounts[2])
    later = _proof(ks, bytes(chain.latest_block()["hash"]))
    earlier = _proof(ks, approved)
    with pytest.raises(ProofError):
        _verify(ks, approved, LookupProof(earlier.header_rlp, later.account))


def test_proof_for_another_account_rejected(
    ks: KeyStoreClient, chain: Chain, approved: bytes
) -> None:
    other = chain.get_proof(
        bytes.fromhex(chain.accounts[1][2:]), ks.layout.slots(ALICE_ID), approved
    )
    with refused(Check.PROOF_SUBJECT, ProofError):
        _verify(ks, approved, LookupProof(_proof(ks, approved).header_rlp, other))
    # Relabelled as the contract's, its branch proves nothing about the contract.
    relabelled = dataclasses.replace(other, address=ks.address)
    with pytest.raises(ProofError):
        _verify(ks, approved, LookupProof(_proof(ks, approved).header_rlp, relabelled))


def test_proof_for_another_slot_rejected(ks: KeyStoreClient, chain: Chain, approved: bytes) -> None:
    nobody = identifier("+4930123456", SALT)
    proof = ks.lookup_proof(nobody, approved)  # proves Nobody's (empty) slots
    with refused(Check.PROOF_SUBJECT, ProofError):
        _verify(ks, approved, proof)
    # Relabelled as Alice's slots: the branches are for other keys and do not verify (or
    # prove something else than claimed).
    relabelled = tuple(
        StorageProof(slot, sp.value, sp.nodes)
        for slot, sp in zip(ks.layout.slots(ALICE_ID), proof.account.storage, strict=True)
    )
    with pytest.raises(ProofError):
        _verify(
            ks,
            approved,
            LookupProof(proof.header_rlp, dataclasses.replace(proof.account, storage=relabelled)),
        )


def test_no_contract_at_address(ks: KeyStoreClient, chain: Chain, approved: bytes) -> None:
    stranger = keccak(b"no contract here")[:20]
    proof = LookupProof(
        chain.header_rlp(approved), chain.get_proof(stranger, ks.layout.slots(ALICE_ID), approved)
    )
    assert proof.account.storage_hash == EMPTY_TRIE_ROOT
    with refused(Check.PROOF_SUBJECT, ProofError):
        verify_lookup(approved, stranger, ALICE_ID, ks.layout, proof)


def test_header_rehashes(chain: Chain) -> None:
    block = chain.latest_block()
    header = verify_header(bytes(block["hash"]), chain.header_rlp(bytes(block["hash"])))
    assert header.state_root == bytes(block["stateRoot"])
    assert header.number == block["number"]


def test_layout_rejects_unknown_mapping(ks: KeyStoreClient) -> None:
    with pytest.raises(ProofError):
        RecordLayout.from_storage_layout(ks.artifact.storage_layout, mapping="nope")


def _py_evm_header_rlp(block: dict[str, Any]) -> bytes:
    """The same header through py-evm's own Prague header class (an independent encoder)."""
    from eth.vm.forks.prague.blocks import PragueBlockHeader

    def b(name: str) -> bytes:
        return bytes.fromhex(block[name][2:])

    def i(name: str) -> int:
        return int(block[name], 16)

    fields: dict[str, Any] = dict(
        parent_hash=b("parentHash"),
        uncles_hash=b("sha3Uncles"),
        coinbase=b("miner"),
        state_root=b("stateRoot"),
        transaction_root=b("transactionsRoot"),
        receipt_root=b("receiptsRoot"),
        bloom=int.from_bytes(b("logsBloom"), "big"),
        difficulty=i("difficulty"),
        block_number=i("number"),
        gas_limit=i("gasLimit"),
        gas_used=i("gasUsed"),
        timestamp=i("timestamp"),
        extra_data=b("extraData"),
        mix_hash=b("mixHash"),
        nonce=b("nonce"),
        base_fee_per_gas=i("baseFeePerGas"),
        withdrawals_root=b("withdrawalsRoot"),
        blob_gas_used=i("blobGasUsed"),
        excess_blob_gas=i("excessBlobGas"),
        parent_beacon_block_root=b("parentBeaconBlockRoot"),
        requests_hash=b("requestsHash"),
    )
    return bytes(rlp.encode(PragueBlockHeader(**fields)))


@pytest.mark.integration
def test_json_header_encoding(anvil_chain: RpcChain) -> None:
    """anvil's JSON header, RLP-encoded field by field, hashes to anvil's block hash and
    equals py-evm's encoding (checked on the genesis block and on one with transactions)."""
    for number in ("0x0", "latest"):
        block = anvil_chain.rpc.call("eth_getBlockByNumber", [number, False])
        ours = header_rlp_from_json(block)
        assert "0x" + keccak(ours).hex() == block["hash"]
        assert ours == _py_evm_header_rlp(block)


def test_json_header_encoding_refuses_bad_fields() -> None:
    block = {name: "0x00" for name in ("parentHash", "sha3Uncles", "miner", "stateRoot")}
    with pytest.raises(ChainError, match="lacks"):
        header_rlp_from_json(block)
    full = {
        name: "0x01"
        for name in [
            "parentHash",
            "sha3Uncles",
            "miner",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "logsBloom",
            "difficulty",
            "number",
            "gasLimit",
            "gasUsed",
            "timestamp",
            "extraData",
            "mixHash",
            "nonce",
        ]
    }
    assert rlp.decode(header_rlp_from_json(full)) == [b"\x01"] * 15  # a pre-London header
    with pytest.raises(ChainError, match="gap"):
        header_rlp_from_json({**full, "withdrawalsRoot": "0x00"})  # Shanghai without London
    with pytest.raises(ChainError, match="not 0x-hex"):
        header_rlp_from_json({**full, "number": 5})
    with pytest.raises(ChainError, match="not hex"):
        header_rlp_from_json({**full, "stateRoot": "0xzz"})


_HEX32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
_HEXINT = st.integers(min_value=0, max_value=2**72).map(hex)
_ANY_HEX = st.binary(max_size=40).map(lambda b: "0x" + b.hex())


@given(
    st.fixed_dictionaries(
        {
            "parentHash": st.one_of(_HEX32, _ANY_HEX),
            "sha3Uncles": _HEX32,
            "miner": _ANY_HEX,
            "stateRoot": st.one_of(_HEX32, _ANY_HEX),
            "transactionsRoot": _HEX32,
            "receiptsRoot": _HEX32,
            "logsBloom": _ANY_HEX,
            "difficulty": _HEXINT,
            "number": _HEXINT,
            "gasLimit": _HEXINT,
            "gasUsed": _HEXINT,
            "timestamp": _HEXINT,
            "extraData": _ANY_HEX,
            "mixHash": _HEX32,
            "nonce": _ANY_HEX,
        },
        optional={"baseFeePerGas": _HEXINT},
    )
)
def test_header_from_json_is_parse_of_the_encoding(block: dict[str, str]) -> None:
    """The shortcut (hash the encoding, keep the encoded fields) decides exactly as encoding
    then decoding: the same header, or the same refusal (an oversized number, a short root)."""
    try:
        want: ChainHeader | type[Exception] = parse_header(header_rlp_from_json(block))
    except ProofError:
        want = ProofError
    try:
        got: ChainHeader | type[Exception] = header_from_json(block)
    except ProofError:
        got = ProofError
    assert got == want


@pytest.mark.parametrize("n", [14, 15])
def test_a_trusted_header_needs_fifteen_fields(n: int) -> None:
    # the fields the light client reads are there from 9 on; fewer than the 15 of every
    # Ethereum header is not a header, whatever it hashes to
    fields = [b"\x01"] * n
    fields[3] = bytes(range(32))  # the state root
    fields[8] = b"\x07"  # the block number
    header = rlp.encode(fields)
    if n == 15:
        got = verify_header(keccak(header), header)
        assert (got.number, got.state_root) == (7, bytes(range(32)))
        return
    with refused(Check.DECODE, ProofError):
        verify_header(keccak(header), header)


@pytest.mark.parametrize(
    ("index", "value"),
    [(3, bytes(31)), (3, bytes(33)), (3, [bytes(32)]), (3, [b"\x01"] * 32), (8, [b"\x07"])],
    ids=["root-31-bytes", "root-33-bytes", "root-a-list", "root-32-items", "number-a-list"],
)
def test_a_trusted_headers_root_and_number_are_checked(index: int, value: Any) -> None:
    fields: list[Any] = [b"\x01"] * 15
    fields[3], fields[8] = bytes(range(32)), b"\x07"
    fields[index] = value
    header = rlp.encode(fields)
    with refused(Check.DECODE, ProofError):
        verify_header(keccak(header), header)


def _one_account_state(address: bytes, account: list[bytes]) -> tuple[bytes, bytes]:
    """A state trie holding one leaf, ``address``'s account: (state root, the leaf node)."""
    node = rlp.encode([b"\x20" + keccak(address), rlp.encode(account)])
    return keccak(node), node


_ADDRESS = bytes(range(20))
_ACCOUNT = [b"\x01", b"\x02", bytes(range(32)), bytes(range(1, 33))]


def _account_proof(node: bytes, nonce: int = 1) -> AccountProof:
    storage_hash, code_hash = _ACCOUNT[2], _ACCOUNT[3]
    return AccountProof(_ADDRESS, nonce, 2, storage_hash, code_hash, (node,), ())


def test_a_proven_account_must_be_the_four_fields_it_claims() -> None:
    root, node = _one_account_state(_ADDRESS, _ACCOUNT)
    state = verify_account(root, _ADDRESS, _account_proof(node))
    assert (state.nonce, state.balance, state.code_hash) == (1, 2, _ACCOUNT[3])
    with refused(Check.PROOF_VALUE, ProofError):  # the node claims another nonce
        verify_account(root, _ADDRESS, _account_proof(node, nonce=5))
    for bad in (_ACCOUNT[:3], [*_ACCOUNT[:2], bytes(31), _ACCOUNT[3]]):
        root, node = _one_account_state(_ADDRESS, bad)
        with refused(Check.DECODE, ProofError):  # three fields; a 31-byte storage root
            verify_account(root, _ADDRESS, _account_proof(node))


def test_a_record_needs_one_storage_proof_per_slot() -> None:
    layout = RecordLayout.from_storage_layout(load_artifact("KeyStore").storage_layout)
    account = AccountState(0, 0, bytes(32), bytes(range(32)))
    header = TrustedHeader(bytes(32), 1, bytes(32))
    with refused(Check.PROOF_SUBJECT, ProofError):
        read_record(header, account, bytes(32), layout, [])
