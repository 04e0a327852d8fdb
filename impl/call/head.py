"""The node's own latest block, read in one round trip: the UNVERIFIED look-up's root.

:class:`~ethvoip.impl.call.directory.ChainDirectory` without a trust policy proves a look-up
against the head the queried node reports.  That catches a node whose answers contradict
each other, and nothing more: the node chooses the header, so it can forge one whose state
root commits to a forged record.  Such look-ups are labelled "unverified" (see
docs/lightclient.rst); the trust policies (:mod:`ethvoip.impl.chain.checkpoint`,
:mod:`ethvoip.impl.chain.quorum`) choose the block instead.

This module reads the head as cheaply as each backend allows:

* :class:`~ethvoip.impl.chain.RpcChain`: ``eth_getBlockByNumber("latest", false)`` on the
  lean JSON-RPC client (about 0.2 ms on loopback, against 1.3 ms through web3's formatters),
  in one batch with ``eth_getProof`` at ``"latest"``: on a chain that moves (a block every
  12 s on a public one) nearly every look-up is at a new head and needs the proof, which then
  costs no second round trip; at a head already proven the proof is simply not used.  The
  answer carries the whole header, so a new checkpoint needs no request for it either: the
  header is re-encoded and checked against the hash by the light client.
* :class:`~ethvoip.impl.chain.EmbeddedChain`: py-evm's canonical head, in process; the proof
  is made only when asked for (walking py-evm's trie costs more than the look-up it saves).
* any other :class:`~ethvoip.impl.chain.Chain`: web3's ``latest`` block, the proof on demand.

Nothing here goes beyond the head's hash: the header must hash to it
(:meth:`VerifiedCache.verify_header <ethvoip.impl.chain.proofs.VerifiedCache.verify_header>`)
and a proof fetched with it must verify against that header's state root.  A proof asked for
at ``"latest"`` may come from a block mined between the two answers of the batch; it then
fails to verify and the caller asks again by hash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain
from ethvoip.impl.chain.backend import header_rlp_from_json
from ethvoip.impl.chain.proofs import AccountProof, parse_eip1186
from ethvoip.spec.errors import ChainError


@dataclass(frozen=True)
class Head:
    """The node's latest block hash, and on demand its header's RLP and the proof of ``slots``
    (for a JSON-RPC node: at ``latest`` when the head was read, possibly a block later)."""

    block_hash: bytes
    header_rlp: Callable[[], bytes]
    proof: Callable[[], AccountProof]


def read_head(chain: Chain, address: bytes, slots: Sequence[bytes]) -> Head:
    """The head of ``chain`` and (see :class:`Head`) an EIP-1186 proof of ``slots`` at it."""
    if isinstance(chain, RpcChain):
        return _rpc_head(chain, address, slots)
    if isinstance(chain, EmbeddedChain):
        block_hash = bytes(chain.tester.backend.chain.get_canonical_head().hash)
    else:
        block_hash = bytes(chain.latest_block()["hash"])
    return Head(
        block_hash,
        lambda: chain.header_rlp(block_hash),
        lambda: chain.get_proof(address, slots, block_hash),
    )


def _rpc_head(chain: RpcChain, address: bytes, slots: Sequence[bytes]) -> Head:
    keys = ["0x" + s.hex() for s in slots]  # 32-byte hex: anvil refuses short quantities
    answers = chain.rpc.batch(
        [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_getProof", ["0x" + address.hex(), keys, "latest"]),
        ]
    )
    block = answers[0]
    if not isinstance(block, dict):
        raise ChainError("eth_getBlockByNumber(latest): answer is not a block")
    claimed = block.get("hash")
    if not isinstance(claimed, str) or not claimed.startswith("0x") or len(claimed) != 66:
        raise ChainError("eth_getBlockByNumber(latest): no 32-byte block hash")
    try:
        block_hash = bytes.fromhex(claimed[2:])
    except ValueError as exc:
        raise ChainError("eth_getBlockByNumber(latest): block hash is not hex") from exc
    return Head(
        block_hash,
        lambda: header_rlp_from_json(block),
        lambda: parse_eip1186(answers[1]),  # DecodeError on a bad shape
    )
