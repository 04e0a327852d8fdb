"""Hypothesis fuzzing of every decoder of untrusted chain data: revert data, event logs,
eth_getProof answers, headers and proofs.  Each returns a typed value or raises its typed
error (DecodeError / ProofError), never anything else."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.chain import events as ev
from ethvoip.impl.chain.abi import ErrorCodec
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.impl.chain.backend import normalise_revert
from ethvoip.impl.chain.messages import check_e164, identifier
from ethvoip.impl.chain.proofs import (
    LookupProof,
    RecordLayout,
    parse_eip1186,
    verify_header,
    verify_lookup,
)
from ethvoip.spec.errors import ContractRevert, DecodeError, ProofError

CODEC = ErrorCodec.from_abi(load_artifact("KeyStore").abi)
LAYOUT = RecordLayout.from_storage_layout(load_artifact("KeyStore").storage_layout)
b32 = st.binary(min_size=32, max_size=32)
b20 = st.binary(min_size=20, max_size=20)


@given(st.binary(max_size=200))
def test_revert_decoder_total(data: bytes) -> None:
    try:
        name, args = CODEC.decode(data)
    except DecodeError:
        return
    assert isinstance(name, str) and isinstance(args, tuple)


@given(
    st.sampled_from([b"CommitmentTooNew", b"CommitmentNotFound", b"UnexpiredCommitmentExists"]), b32
)
def test_revert_decoder_round_trip(name: bytes, commitment: bytes) -> None:
    # Selector written from the error's text signature, independently of the ABI JSON.
    data = keccak(name + b"(bytes32)")[:4] + encode(["bytes32"], [commitment])
    assert CODEC.decode(data) == (name.decode(), (commitment,))
    assert CODEC.revert(data).reason == name.decode()


def test_revert_string_and_panic() -> None:
    data = keccak(b"Error(string)")[:4] + encode(["string"], ["nope"])
    assert CODEC.decode(data) == ("Error", ("nope",))
    assert CODEC.decode(keccak(b"Panic(uint256)")[:4] + encode(["uint256"], [0x11])) == (
        "Panic",
        (0x11,),
    )
    assert CODEC.revert(b"\x01\x02\x03\x04").reason == "0x01020304"


@given(st.one_of(st.binary(max_size=80), st.text(max_size=80)))
def test_normalise_eth_tester_failures(payload: bytes | str) -> None:
    class TransactionFailed(Exception):  # eth-tester's name; matched by name, not import
        pass

    text = f"execution reverted: {payload!r}" if isinstance(payload, bytes) else payload
    result = normalise_revert(TransactionFailed(text), CODEC)
    assert isinstance(result, ContractRevert)
    if isinstance(payload, bytes):
        assert result.data == payload


def test_normalise_ignores_other_exceptions() -> None:
    assert normalise_revert(ValueError("x"), CODEC) is None


@given(st.lists(st.binary(max_size=40), max_size=5), st.binary(max_size=300))
def test_event_decoder_total(topics: list[bytes], data: bytes) -> None:
    for contract in ("KeyStore", "KeyStorePaper"):
        try:
            event = ev.decode_event(contract, topics, data)
        except DecodeError:
            continue
        assert type(event).__name__ in {
            e["name"] for e in load_artifact(contract).abi if e["type"] == "event"
        }


@given(b32, b32, st.integers(0, 2**64 - 1), st.binary(max_size=100), b20)
def test_event_decoder_round_trip(
    ident: bytes, kh: bytes, version: int, key: bytes, registrant: bytes
) -> None:
    topic0 = keccak(b"Registered(bytes32,bytes32,uint64,address)")
    topics = [topic0, ident, kh]
    data = encode(["uint64", "address"], [version, registrant])
    assert ev.decode_event("KeyStore", topics, data) == ev.Registered(
        ident, kh, version, registrant
    )
    with pytest.raises(DecodeError):
        ev.decode_event("KeyStore", topics[:2], data)  # a missing indexed topic
    # a dynamic field (the new key of a rotation)
    rotated = [keccak(b"Rotated(bytes32,uint64,bytes)"), ident]
    data = encode(["uint64", "bytes"], [version, key])
    assert ev.decode_event("KeyStore", rotated, data) == ev.Rotated(ident, version, key)


@given(st.text(max_size=20), st.binary(max_size=70), st.text(max_size=30), b20)
def test_paper_event_round_trip(phone: str, key: bytes, receipt: str, sender: bytes) -> None:
    topics = [keccak(b"ClientAdded(string,bytes,string,address)"), bytes(12) + sender]
    data = encode(["string", "bytes", "string"], [phone, key, receipt])
    assert ev.decode_event("KeyStorePaper", topics, data) == ev.ClientAdded(
        phone, key, receipt, sender
    )


hexes = st.binary(max_size=40).map(lambda b: "0x" + b.hex())
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | hexes,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
proof_keys = st.sampled_from(
    [
        "address",
        "nonce",
        "balance",
        "storageHash",
        "codeHash",
        "accountProof",
        "storageProof",
        "key",
        "value",
        "proof",
    ]
)


@given(st.dictionaries(proof_keys, json_values, max_size=8) | json_values)
def test_eip1186_parser_total(result: Any) -> None:
    try:
        parsed = parse_eip1186(result)
    except DecodeError:
        return
    assert len(parsed.address) == 20 and len(parsed.storage_hash) == 32


@given(st.binary(max_size=600), b32)
def test_header_verifier_total(header: bytes, trusted: bytes) -> None:
    with pytest.raises(ProofError):
        verify_header(trusted, header)
    try:
        trusted_header = verify_header(keccak(header), header)  # hashes right; may be malformed
    except ProofError:
        return
    assert len(trusted_header.state_root) == 32


@settings(max_examples=60)
@given(
    st.lists(st.binary(max_size=120), max_size=4),
    st.lists(st.lists(st.binary(max_size=80), max_size=3), min_size=3, max_size=3),
    b32,
    st.integers(0, 2**256 - 1),
)
def test_lookup_verifier_rejects_garbage(
    account_nodes: list[bytes], storage_nodes: list[list[bytes]], state_root: bytes, value: int
) -> None:
    import rlp

    # A well-formed header around a random state root: only the proofs are garbage.
    header = rlp.encode([bytes(32)] * 3 + [state_root] + [b""] * 4 + [b"\x01"] + [b""] * 11)
    contract = bytes(range(20))
    account = parse_eip1186(
        {
            "address": "0x" + contract.hex(),
            "nonce": "0x0",
            "balance": "0x0",
            "storageHash": "0x" + bytes(32).hex(),
            "codeHash": "0x" + bytes(32).hex(),
            "accountProof": ["0x" + n.hex() for n in account_nodes],
            "storageProof": [
                {
                    "key": "0x" + slot.hex(),
                    "value": hex(value),
                    "proof": ["0x" + n.hex() for n in nodes],
                }
                for slot, nodes in zip(LAYOUT.slots(b"\x11" * 32), storage_nodes, strict=True)
            ],
        }
    )
    with pytest.raises(ProofError):
        verify_lookup(keccak(header), contract, b"\x11" * 32, LAYOUT, LookupProof(header, account))


# E.164 (ITU-T E.164 section 6: at most 15 digits, country code never starting with 0).
@pytest.mark.parametrize(
    "number", ["+33612345678", "+14155550123", "+442071838750", "+999999999999999"]
)
def test_e164_accepted(number: str) -> None:
    assert check_e164(number) == number


@pytest.mark.parametrize(
    "number",
    ["33612345678", "+0612345678", "+1234567890123456", "+33 6 12", "+", "+3", "+33612345678\n"],
)
def test_e164_rejected(number: str) -> None:
    with pytest.raises(DecodeError):
        identifier(number, bytes(32))


@given(st.text(max_size=20))
def test_identifier_total(number: str) -> None:
    try:
        ident = identifier(number, bytes(32))
    except DecodeError:
        return
    assert len(ident) == 32 and ident != identifier(number, b"\x01" * 32)  # the salt matters


def _good_proof() -> dict[str, Any]:
    return {
        "address": "0x" + bytes(range(20)).hex(),
        "nonce": "0x0",
        "balance": "0x0",
        "storageHash": "0x" + bytes(32).hex(),
        "codeHash": "0x" + bytes(32).hex(),
        "accountProof": ["0x80"],
        "storageProof": [{"key": "0x01", "value": "0x0", "proof": ["0x80"]}],
    }


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("address", 7),  # not a string
        ("address", bytes(range(20)).hex()),  # no 0x
        ("nonce", 0),
        ("nonce", "0"),
        ("nonce", "0x" + "f" * 65),  # longer than a 256-bit quantity
        ("accountProof", "0x80"),  # not a list
        ("accountProof", ["80"]),  # a node without 0x
        ("accountProof", [80]),  # a node that is not a string
        ("accountProof", {"0x80": 0}),  # an object: its keys would read as nodes
        ("address", "0x" + "11" * 19),  # 0x-hex, but 19 bytes
        ("storageHash", "0x" + "00" * 33),  # 0x-hex, but 33 bytes
        # a key without 0x, whose tail would otherwise read as another slot
        ("storageProof", [{"key": "0001", "value": "0x0", "proof": ["0x80"]}]),
        ("storageProof", [{"key": "0x" + "01" * 33, "value": "0x0", "proof": ["0x80"]}]),
    ],
)
def test_eip1186_each_malformed_field_is_a_decode_error(field: str, bad: Any) -> None:
    assert parse_eip1186(_good_proof()).address == bytes(range(20))
    with pytest.raises(DecodeError):
        parse_eip1186(_good_proof() | {field: bad})
