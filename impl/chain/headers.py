"""Block headers as the trust policies read them: fetched from a node, re-hashed here.

A node's JSON block carries a ``hash`` field; it is never read.  The header is re-encoded
(:func:`~ethvoip.impl.chain.backend.header_rlp_from_json`) and its hash computed here, so a
:class:`ChainHeader` is exactly what its bytes say, whoever sent them: a node can send a
header that does not belong to the chain, but not one whose hash and fields disagree.  Which
headers to believe is the policies' business (:mod:`.checkpoint`, :mod:`.quorum`).

The reads batch: :func:`headers_by_number` asks a JSON-RPC node for a whole range in one
request, so linking a new head back to the last accepted block costs one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp

from ethvoip.impl.chain.backend import Chain, EmbeddedChain, RpcChain, header_fields_from_json
from ethvoip.impl.chain.mpt import decode_rlp, encode_flat_list, keccak
from ethvoip.spec.errors import ChainError, Check, DecodeError, ProofInvalid

# Yellow Paper 4.3: positions of the fields the policies read (unchanged since Frontier).
_PARENT, _STATE_ROOT, _NUMBER, _TIMESTAMP = 0, 3, 8, 11


@dataclass(frozen=True)
class ChainHeader:
    """What a header's own bytes establish (``block_hash`` is their keccak256)."""

    block_hash: bytes
    parent_hash: bytes
    state_root: bytes
    number: int
    timestamp: int


def parse_header(header_rlp: bytes) -> ChainHeader:
    """Decode a header's RLP and hash it; :class:`ProofError` if it is not a header."""
    try:
        fields = decode_rlp(header_rlp)
    except DecodeError as exc:
        raise ProofInvalid("header is not RLP", check=Check.DECODE) from exc
    if not isinstance(fields, list):
        raise ProofInvalid("header has too few fields", check=Check.DECODE)
    return _header(keccak(header_rlp), fields)


def _header(block_hash: bytes, fields: Sequence[object]) -> ChainHeader:
    """The fields the policies read, checked, under the hash of the header they came from."""
    if len(fields) < 15:
        raise ProofInvalid("header has too few fields", check=Check.DECODE)
    parent, root, number, stamp = (fields[i] for i in (_PARENT, _STATE_ROOT, _NUMBER, _TIMESTAMP))
    if not (
        isinstance(parent, bytes)
        and len(parent) == 32
        and isinstance(root, bytes)
        and len(root) == 32
        and isinstance(number, bytes)
        and isinstance(stamp, bytes)
        and len(number) <= 8
        and len(stamp) <= 8
    ):
        raise ProofInvalid("header fields are malformed", check=Check.DECODE)
    return ChainHeader(
        block_hash,
        parent,
        root,
        int.from_bytes(number, "big"),
        int.from_bytes(stamp, "big"),
    )


def _minimal(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def header_from_json(block: dict[str, Any]) -> ChainHeader:
    """:func:`parse_header` of the header a JSON-RPC block encodes, without decoding again the
    bytes just encoded: the hash is of exactly those bytes, the fields are the ones encoded."""
    fields = header_fields_from_json(block)
    # as RLP-decoding the encoding would give them: integers as minimal big-endian bytes
    raw = [
        f.to_bytes((f.bit_length() + 7) // 8, "big") if isinstance(f, int) else f for f in fields
    ]
    return _header(keccak(encode_flat_list(fields)), raw)


def _from_json(block: Any, what: str) -> ChainHeader:
    if not isinstance(block, dict):
        raise ChainError(f"{what}: no block in the answer")
    return header_from_json(block)


def latest_header(chain: Chain) -> ChainHeader:
    """The header the node calls its head (believed by nobody until a policy links it)."""
    if isinstance(chain, RpcChain):
        return _from_json(chain.rpc.call("eth_getBlockByNumber", ["latest", False]), "latest")
    if isinstance(chain, EmbeddedChain):
        head = chain.tester.backend.chain.get_canonical_head()
        return parse_header(bytes(rlp.encode(head)))
    return parse_header(chain.header_rlp(bytes(chain.latest_block()["hash"])))


def headers_by_number(chain: Chain, numbers: Sequence[int]) -> list[ChainHeader]:
    """The node's headers at ``numbers``, in order (one batch on a JSON-RPC node)."""
    if not numbers:
        return []
    if isinstance(chain, RpcChain):
        answers = chain.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return [_from_json(a, f"block {n}") for n, a in zip(numbers, answers, strict=True)]
    if isinstance(chain, EmbeddedChain):
        from eth.exceptions import HeaderNotFound

        db = chain.tester.backend.chain.chaindb
        out = []
        for n in numbers:
            try:
                header = db.get_canonical_block_header_by_number(n)
            except HeaderNotFound as exc:
                raise ChainError(f"no block {n}") from exc
            out.append(parse_header(bytes(rlp.encode(header))))
        return out
    return [
        parse_header(chain.header_rlp(bytes(chain.w3.eth.get_block(n)["hash"]))) for n in numbers
    ]
