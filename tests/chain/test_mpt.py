"""``mpt`` (RLP node decoding, proof walking) against independent implementations: the
``rlp`` package for decoding, the ``trie`` package (``HexaryTrie``) for tries and proofs.

Raw (unhashed) keys of a few bytes give short, shared paths, so the tries have extensions,
values in branches and nodes embedded in their parent (RLP under 32 bytes): shapes the
secure tries of Ethereum state rarely show but the walker must get right.  A tampered proof
is rejected or, when the flipped byte was in a node the walk never needed (``trie`` lists
embedded nodes in the proof too, though their parent already carries them), still proves
the true value: never a wrong one."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from ethvoip.impl.chain.mpt import (
    EMPTY_TRIE_ROOT,
    decode_rlp,
    decode_uint,
    encode_flat_list,
    keccak,
    walk_proof,
)
from ethvoip.spec.errors import Check, DecodeError, ProofError
from tests.refusals import refused

keys = st.binary(min_size=1, max_size=4)
values = st.binary(min_size=1, max_size=40)
contents = st.dictionaries(keys, values, max_size=12)


def build(items: dict[bytes, bytes]) -> HexaryTrie:
    t = HexaryTrie({})
    for k, v in items.items():
        t.set(k, v)  # type: ignore[no-untyped-call]
    return t


def proof_of(t: HexaryTrie, key: bytes) -> list[bytes]:
    return [rlp.encode(n) for n in t.get_proof(key)]  # type: ignore[no-untyped-call]


@settings(max_examples=150)
@given(contents, keys)
def test_walk_agrees_with_trie(items: dict[bytes, bytes], probe: bytes) -> None:
    t = build(items)
    for key in [*items, probe]:
        nodes = proof_of(t, key)
        expected = HexaryTrie.get_from_proof(  # type: ignore[no-untyped-call]
            t.root_hash, key, [rlp.decode(n) for n in nodes]
        )
        assert walk_proof(t.root_hash, key.hex(), nodes) == expected == items.get(key, b"")


@settings(max_examples=150)
@given(contents.filter(bool), st.data())
def test_tampered_proof_never_proves_a_wrong_value(
    items: dict[bytes, bytes], data: st.DataObject
) -> None:
    t = build(items)
    key = data.draw(st.sampled_from(sorted(items)))
    nodes = proof_of(t, key)
    i = data.draw(st.integers(0, len(nodes) - 1))
    node = bytearray(nodes[i])
    j = data.draw(st.integers(0, len(node) - 1))
    node[j] ^= data.draw(st.integers(1, 255))
    forged = [*nodes[:i], bytes(node), *nodes[i + 1 :]]
    try:
        value = walk_proof(t.root_hash, key.hex(), forged)
    except ProofError:
        return
    assert value == items[key]


@given(contents.filter(bool), keys)
def test_missing_node_rejected(items: dict[bytes, bytes], probe: bytes) -> None:
    t = build(items)
    nodes = proof_of(t, probe)
    with refused(Check.PROOF, ProofError):
        walk_proof(t.root_hash, probe.hex(), nodes[1:])


def test_extension_with_empty_path_refused() -> None:
    # hex-prefix 0x00: an even-length extension of no nibbles, then an embedded leaf for "ab";
    # a walk that let it through would prove a value no real trie holds at that node
    extension = rlp.encode([b"\x00", [b"\x20\xab", b"value"]])
    with refused(Check.PROOF, ProofError):
        walk_proof(keccak(extension), "ab", [extension])


def test_empty_trie_proves_absence() -> None:
    # keccak256(rlp(b"")) from the Yellow Paper: the root of the empty trie.
    assert EMPTY_TRIE_ROOT.hex() == (
        "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    )
    assert walk_proof(EMPTY_TRIE_ROOT, "ab", []) == b""


@given(st.lists(st.binary(max_size=80), max_size=4), st.binary(min_size=32, max_size=32), keys)
def test_walk_total_on_garbage(nodes: list[bytes], root: bytes, key: bytes) -> None:
    with pytest.raises(ProofError):  # no node hashes to a random root
        walk_proof(root, key.hex(), nodes)


def test_keccak_vectors() -> None:
    # Keccak-256 of "" and "abc": the Keccak team's known answers, as the Yellow Paper uses
    # them (the empty code hash); SHA3-256 of "" would be a7ffc6f8...
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )


def _nested(depth: int) -> st.SearchStrategy[object]:
    """Byte strings and lists nested at most ``depth`` deep (the decoder refuses deeper)."""
    leaf = st.binary(max_size=70)
    return leaf if depth == 0 else st.one_of(leaf, st.lists(_nested(depth - 1), max_size=4))


rlp_items = _nested(6)


@given(rlp_items)
def test_rlp_round_trip(item: object) -> None:
    assert decode_rlp(rlp.encode(item)) == item


def _pyrlp(data: bytes) -> object:
    try:
        return rlp.decode(data)
    except rlp.exceptions.DecodingError:
        return DecodeError


def _ours(data: bytes) -> object:
    try:
        return decode_rlp(data)
    except DecodeError:
        return DecodeError


@settings(max_examples=300)
@given(rlp_items, st.data())
def test_rlp_agrees_with_pyrlp_on_damaged_input(item: object, data: st.DataObject) -> None:
    """Near-valid bytes (an encoding with a byte changed, cut or added) decode as pyrlp's
    strict decoder decodes them, or are refused by both."""
    encoded = bytearray(rlp.encode(item))
    how = data.draw(st.sampled_from(["flip", "cut", "append"]))
    if how == "flip":
        i = data.draw(st.integers(0, len(encoded) - 1))
        encoded[i] = data.draw(st.integers(0, 255))
    elif how == "cut":
        del encoded[data.draw(st.integers(0, len(encoded) - 1)) :]
    else:
        encoded += data.draw(st.binary(min_size=1, max_size=3))
    assert _ours(bytes(encoded)) == _pyrlp(bytes(encoded))


@given(st.binary(max_size=64))
def test_rlp_agrees_with_pyrlp_on_random_bytes(data: bytes) -> None:
    assert _ours(data) == _pyrlp(data)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\x81\x05", "wrapped"),  # 0x05 must be encoded as itself (Yellow Paper B, R_b)
        (b"\xb8\x05hello", "long form"),  # under 56 bytes takes the short form
        (b"\xb9\x00\x38" + b"a" * 56, "leading zero"),
        (b"\x83ab", "truncated"),
        (b"\x80\x80", "after the item"),
    ],
)
def test_rlp_non_canonical_refused(raw: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        decode_rlp(raw)


def test_rlp_nesting_bounded() -> None:
    deep = b""
    for _ in range(40):
        deep = rlp.encode([rlp.decode(deep)] if deep else [])
    with pytest.raises(DecodeError, match="too deep"):
        decode_rlp(deep)


@given(st.integers(0, 2**256 - 1))
def test_uint_values(value: int) -> None:
    assert decode_uint(rlp.encode(value), "storage") == value


@pytest.mark.parametrize("raw", [b"\x82\x00\x01", b"\xc0", b"\xa1" + b"\x01" * 33])
def test_uint_refuses_non_minimal_lists_and_oversize(raw: bytes) -> None:
    with pytest.raises(ProofError):
        decode_uint(raw, "storage")


@given(
    st.lists(
        st.one_of(st.binary(max_size=300), st.integers(min_value=0, max_value=2**256 - 1)),
        max_size=30,
    )
)
def test_flat_list_encoding_agrees_with_pyrlp(items: list[bytes | int]) -> None:
    # pyrlp (an independent implementation) is the reference: same bytes for every flat list,
    # including single low bytes, 55/56-byte boundaries, zero and long lists
    assert encode_flat_list(items) == rlp.encode(items)


@pytest.mark.parametrize("data", [b"\xb8", b"\xf8", b"\xb9\x01", b"\xfa\x01\x00"])
def test_a_long_form_cut_inside_its_length_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="truncated"):
        decode_rlp(data)


def test_lists_nest_eight_deep_and_no_deeper() -> None:
    def nested(n: int) -> bytes:
        out = b"\xc0"  # an empty list
        for _ in range(n - 1):
            out = bytes([0xC0 + len(out)]) + out
        return out

    decode_rlp(nested(8))
    with pytest.raises(DecodeError, match="nested too deep"):
        decode_rlp(nested(9))


@pytest.mark.parametrize("size", [2, 17])  # the lengths of a leaf and of a branch
def test_a_proof_node_that_is_a_string_is_refused(size: int) -> None:
    raw = rlp.encode(b"\x11" * size)
    with pytest.raises(ProofError, match="not a list"):
        walk_proof(keccak(raw), "0" * 64, [raw])


@pytest.mark.parametrize(
    "node",
    [
        [bytes.fromhex("20" + "ab" * 32), b"value", b"extra"],  # a leaf with a third item
        [[b"\x20"], b"value"],  # a path that is a list
        [b"", b"value"],  # an empty path
    ],
    ids=["three-items", "list-path", "empty-path"],
)
def test_a_node_neither_branch_leaf_nor_extension_is_refused(node: list[object]) -> None:
    leaf = rlp.encode([bytes.fromhex("20" + "ab" * 32), b"value"])
    assert walk_proof(keccak(leaf), "ab" * 32, [leaf]) == b"value"  # the well-formed leaf
    raw = rlp.encode(node)
    with pytest.raises(ProofError, match="neither a branch"):
        walk_proof(keccak(raw), "ab" * 32, [raw])


_PATH = "ab" * 32
_LEAF = rlp.encode([bytes.fromhex("20" + _PATH), b"value"])


def test_an_odd_leaf_under_a_branch_is_read() -> None:
    # flag 3: a leaf whose remaining path has an odd number of nibbles (63, after the branch)
    leaf = rlp.encode([bytes.fromhex("3" + _PATH[1:]), b"value"])
    branch = rlp.encode([b""] * 10 + [keccak(leaf)] + [b""] * 6)
    assert walk_proof(keccak(branch), _PATH, [branch, leaf]) == b"value"


@pytest.mark.parametrize(
    ("node", "error"),
    [
        ([bytes.fromhex("60" + _PATH), b"value"], "hex-prefix"),  # flag 6: no such node kind
        ([bytes.fromhex("25" + _PATH[1:] + "0"), b"value"], "hex-prefix"),  # even, pad not 0
        ([b"\x00", keccak(_LEAF)], "empty path"),  # an extension that goes nowhere
        ([bytes.fromhex("20" + _PATH), [b"value"]], "not a byte string"),  # a list as value
    ],
    ids=["flag-6", "even-flag-bad-pad", "empty-extension", "list-value"],
)
def test_malformed_hex_prefix_paths_and_values_are_refused(node: list[object], error: str) -> None:
    raw = rlp.encode(node)
    with pytest.raises(ProofError, match=error):
        walk_proof(keccak(raw), _PATH, [raw, _LEAF])
