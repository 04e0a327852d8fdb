"""Merkle-Patricia trie proofs (Yellow Paper appendix D): decoding nodes, walking a proof.

The hot path of a light-client look-up: every storage slot is a walk from a root hash
through RLP-encoded nodes that each hash to a reference held by their parent.  Both parts
are written out here rather than borrowed from ``trie``/``rlp``, whose general machinery
costs several times more per node; ``tests/chain/test_mpt.py`` checks them against those
two packages (independent implementations) on random tries and random bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from ethvoip.impl.crypto import keccak256 as keccak  # exported: the trie's hash
from ethvoip.spec.errors import DecodeError, ProofInvalid

__all__ = [
    "EMPTY_TRIE_ROOT",
    "Item",
    "decode_rlp",
    "decode_uint",
    "encode_flat_list",
    "keccak",
    "walk_proof",
]

Item: TypeAlias = bytes | list["Item"]

#: keccak256(rlp(b"")): the root of the empty trie.
EMPTY_TRIE_ROOT = keccak(b"\x80")

# Trie nodes nest at most a branch inside an extension inside a branch; anything deeper is
# not a node, and refusing it bounds the decoder's recursion.
_MAX_DEPTH = 8


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


def encode_flat_list(items: Sequence[bytes | int]) -> bytes:
    """Canonical RLP of a list of byte strings and unsigned integers (no nesting).

    What a block header is; pyrlp's ``encode`` infers a serializer per field and costs several
    times more.  Integers are big-endian without leading zeros (zero is the empty string).
    """
    parts = []
    for item in items:
        raw = item.to_bytes((item.bit_length() + 7) // 8, "big") if isinstance(item, int) else item
        if len(raw) == 1 and raw[0] < 0x80:
            parts.append(raw)
        else:
            parts.append(_length_prefix(len(raw), 0x80) + raw)
    body = b"".join(parts)
    return _length_prefix(len(body), 0xC0) + body


def decode_rlp(data: bytes) -> Item:
    """The item ``data`` encodes in canonical RLP; :class:`DecodeError` otherwise.

    Canonical as pyrlp's strict decoding: a single byte below 0x80 is never wrapped, long
    forms only from 56 bytes on, lengths without leading zeros, nothing after the item.
    """
    item, end = _item(data, 0, len(data), 0)
    if end != len(data):
        raise DecodeError("RLP: bytes after the item")
    return item


def _item(data: bytes, pos: int, limit: int, depth: int) -> tuple[Item, int]:
    if pos >= limit:
        raise DecodeError("RLP: truncated")
    prefix = data[pos]
    if prefix < 0x80:
        return data[pos : pos + 1], pos + 1
    if prefix < 0xB8:
        start, end = pos + 1, pos + 1 + prefix - 0x80
        if end > limit:
            raise DecodeError("RLP: truncated string")
        if end - start == 1 and data[start] < 0x80:
            raise DecodeError("RLP: a single low byte must not be wrapped")
        return data[start:end], end
    if prefix < 0xC0:
        start, end = _long(data, pos, prefix - 0xB7, limit)
        return data[start:end], end
    if depth >= _MAX_DEPTH:
        raise DecodeError("RLP: lists nested too deep")
    if prefix < 0xF8:
        start, end = pos + 1, pos + 1 + prefix - 0xC0
        if end > limit:
            raise DecodeError("RLP: truncated list")
    else:
        start, end = _long(data, pos, prefix - 0xF7, limit)
    items: list[Item] = []
    while start < end:
        first = data[start]
        # A branch node is 16 hashes (0xa0 + 32 bytes) or empty slots (0x80): take those
        # here rather than through a call each; anything else goes the general way.
        if 0x80 < first < 0xB8 and start + first - 0x7F <= end and first != 0x81:
            items.append(data[start + 1 : start + first - 0x7F])
            start += first - 0x7F
        elif first == 0x80:
            items.append(b"")
            start += 1
        else:
            item, start = _item(data, start, end, depth + 1)
            items.append(item)
    return items, end


def _long(data: bytes, pos: int, size: int, limit: int) -> tuple[int, int]:
    """Payload bounds of a long-form string or list whose length takes ``size`` bytes."""
    start = pos + 1 + size
    if start > limit:
        raise DecodeError("RLP: truncated length")
    if data[pos + 1] == 0:
        raise DecodeError("RLP: length with a leading zero")
    length = int.from_bytes(data[pos + 1 : start], "big")
    if length < 56:
        raise DecodeError("RLP: long form for a short payload")
    if start + length > limit:
        raise DecodeError("RLP: truncated payload")
    return start, start + length


def decode_uint(raw: bytes, what: str) -> int:
    """A trie value holding ``rlp(uint256)`` (storage), minimal big-endian."""
    try:
        item = decode_rlp(raw)
    except DecodeError as exc:
        raise ProofInvalid(f"{what}: value is not RLP") from exc
    if not isinstance(item, bytes) or len(item) > 32 or item[:1] == b"\0":
        raise ProofInvalid(f"{what}: value is not a minimal RLP integer")
    return int.from_bytes(item, "big")


def walk_proof(root: bytes, path: str, nodes: Sequence[bytes], what: str = "trie") -> bytes:
    """The value at ``path`` (hex, one character per nibble) in the trie of ``root``.

    ``b""`` means the proof shows the path absent.  A direct walk of the Merkle-Patricia trie
    (Yellow Paper appendix D): every node is reached through a reference its authenticated
    parent holds (a 32-byte hash of a proof node, or the node itself embedded when its RLP is
    shorter than 32 bytes), starting from ``root``.  Paths are compared as hex strings, one
    character per nibble.  Nodes the walk does not reach are ignored.
    """
    if root == EMPTY_TRIE_ROOT:
        return b""  # the empty trie holds nothing, whatever nodes come with the claim
    by_hash = {keccak(n): n for n in nodes}
    ref: Item = root
    pos = 0
    while True:
        node = _resolve(ref, by_hash, what)
        if node is None:
            return b""  # an empty branch slot: the key is absent
        if len(node) == 17:  # branch: 16 children by nibble, then a value
            if pos == len(path):
                return _leaf_value(node[16], what)
            ref = node[int(path[pos], 16)]
            pos += 1
            continue
        leaf, part = _short_node_path(node, what)
        if leaf:  # the key is here, or the proof shows it absent
            return _leaf_value(node[1], what) if path[pos:] == part else b""
        if not path.startswith(part, pos):
            return b""  # the path leaves the extension: nothing stored under the key
        pos += len(part)
        ref = node[1]


def _resolve(ref: Item, by_hash: Mapping[bytes, bytes], what: str) -> list[Item] | None:
    """The node a parent's reference points to (``None`` for an empty slot)."""
    node: Item
    if isinstance(ref, list):  # an embedded node: authenticated as part of its parent
        node = ref
    elif ref == b"":
        return None
    elif len(ref) == 32:
        raw = by_hash.get(ref)
        if raw is None:
            raise ProofInvalid(f"{what}: Merkle proof lacks node 0x{ref.hex()}")
        try:
            node = decode_rlp(raw)
        except DecodeError as exc:
            raise ProofInvalid(f"{what}: proof node is not RLP") from exc
    else:
        raise ProofInvalid(f"{what}: malformed child reference")
    if not isinstance(node, list):
        raise ProofInvalid(f"{what}: proof node is not a list")
    return node


def _short_node_path(node: list[Item], what: str) -> tuple[bool, str]:
    """A leaf's or an extension's path (hex): (whether it is a leaf, the nibbles)."""
    if len(node) != 2 or not isinstance(node[0], bytes) or not node[0]:
        raise ProofInvalid(f"{what}: proof node is neither a branch, a leaf nor an extension")
    # Hex-prefix encoding: high nibble 0/1 extension, 2/3 leaf; odd flag = odd length.
    encoded = node[0].hex()
    flag = int(encoded[0], 16)
    if flag > 3 or (not flag & 1 and encoded[1] != "0"):
        raise ProofInvalid(f"{what}: bad hex-prefix path")
    part = encoded[1:] if flag & 1 else encoded[2:]
    if not flag & 2 and not part:
        raise ProofInvalid(f"{what}: extension with an empty path")
    return bool(flag & 2), part


def _leaf_value(value: Item, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise ProofInvalid(f"{what}: trie value is not a byte string")
    return value
