"""The checkpoint policy: later heads are believed only if they link back to a pinned block.

The operator hands each new subscriber a :class:`~ethvoip.impl.chain.trust.Checkpoint`
(chain id, block number, block hash) in its sealed approval reply; the phone pins it
(``trust.json``).  From then on :class:`CheckpointPolicy` accepts a head only if:

* the node is on the provisioned chain: same chain id, and its block at the checkpoint's
  number hashes to the checkpoint (:class:`~ethvoip.impl.chain.trust.CheckpointMismatch`);
* every header from the last accepted block up to the head links to the one below it:
  ``parentHash`` is the keccak256 of the header below (recomputed here, never read from the
  node), numbers go up by one, timestamps never go back (Ethereum's rule is strictly
  increasing; a development node mines several blocks in one second, so equal is let by)
  (:class:`~ethvoip.impl.chain.trust.BrokenLink`);
* the head is not below the last accepted block, and the proven block passes
  :class:`~ethvoip.impl.chain.trust.Freshness`
  (:class:`~ethvoip.impl.chain.trust.StaleHead`).

Look-ups are proven against ``head - depth`` (the confirmation depth): that block has
``depth`` linked descendants, so a node that rewrites it (a forged state root changes its
hash) must also rewrite every block above it.  It is then the new anchor: the next head must
link back to it.

What this does NOT stop, on a chain without consensus proofs: nothing here checks who made a
block.  A single malicious node can invent ``depth + 1`` (or any number of) descendants of
the last accepted block, each linking to the one below, the lowest with a forged state root,
and they pass.  Only a quorum of independent nodes (:mod:`.quorum`) or the sync committee's
signatures stop that.  The checkpoint bounds the damage: no rewrite of anything at or below
the anchor, no other chain, no replay of an old head.
"""

from __future__ import annotations

from collections.abc import Sequence

from ethvoip.impl.chain.backend import Chain, RpcChain
from ethvoip.impl.chain.headers import (
    ChainHeader,
    header_from_json,
    headers_by_number,
    latest_header,
    parse_header,
)
from ethvoip.impl.chain.proofs import AccountProof, parse_eip1186
from ethvoip.impl.chain.trust import (
    BrokenLink,
    Checkpoint,
    CheckpointMismatch,
    Freshness,
    StaleHead,
    TrustedBlock,
)
from ethvoip.spec.errors import ChainError, Check, ConfigError, ProofInvalid

#: Headers asked for in one JSON-RPC batch when linking a head that is far ahead.
MAX_BATCH = 256


def checkpoint_at(chain: Chain, block_hash: bytes) -> Checkpoint:
    """The checkpoint an operator hands out for ``block_hash`` on its own node."""
    header = parse_header(chain.header_rlp(block_hash))
    if header.block_hash != block_hash:
        raise ProofInvalid(
            "the node's header does not hash to the checkpoint block", check=Check.CHECKPOINT
        )
    return Checkpoint(chain.chain_id, header.number, block_hash)


def check_links(below: ChainHeader, above: Sequence[ChainHeader]) -> None:
    """Each header of ``above`` extends the one before it, starting from ``below``."""
    prev = below
    for h in above:
        if h.number != prev.number + 1:
            raise BrokenLink(f"block {h.number} follows block {prev.number}", h.number)
        if h.parent_hash != prev.block_hash:
            raise BrokenLink(
                f"block {h.number}'s parent hash is not the hash of block {prev.number}"
                f" 0x{prev.block_hash.hex()[:16]}...",
                h.number,
            )
        if h.timestamp < prev.timestamp:  # equal happens: anvil mines blocks within a second
            raise BrokenLink(
                f"block {h.number}'s timestamp {h.timestamp} is before its parent's"
                f" {prev.timestamp}",
                h.number,
            )
        prev = h


class CheckpointPolicy:
    """Vouches for ``head - depth`` of a head that links back to the pinned checkpoint."""

    name = "checkpoint"

    def __init__(
        self,
        chain: Chain,
        checkpoint: Checkpoint,
        *,
        depth: int,
        freshness: Freshness,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if depth < 0 or max_batch < 1:
            raise ConfigError("confirmation depth must be >= 0 and the batch size >= 1")
        self.chain = chain
        self.checkpoint = checkpoint
        self.depth = depth
        self.freshness = freshness
        self.max_batch = max_batch
        self._anchor: ChainHeader | None = None  # the last block vouched for (or the checkpoint)
        self._head: bytes | None = None  # the head that block was confirmed under
        self._trusted: TrustedBlock | None = None
        self.headers_linked = 0  # headers checked so far (for tests and the benchmark)

    def _pin(self) -> ChainHeader:
        """The checkpoint's header from the node, after checking it is the provisioned chain."""
        [header] = headers_by_number(self.chain, [self.checkpoint.number])
        return self._pinned(self.chain.chain_id, header)

    def _pinned(self, chain_id: int, header: ChainHeader) -> ChainHeader:
        """``header`` (the node's block at the checkpoint's number) if it is the checkpoint's
        and ``chain_id`` (the node's) the provisioned chain's."""
        cp = self.checkpoint
        if chain_id != cp.chain_id:
            raise CheckpointMismatch(
                f"the node is on chain {chain_id}, the checkpoint on {cp.chain_id}"
            )
        if header.block_hash != cp.block_hash:
            raise CheckpointMismatch(
                f"the node's block {cp.number} is 0x{header.block_hash.hex()[:16]}..., not the"
                f" checkpoint 0x{cp.block_hash.hex()[:16]}..."
            )
        return header

    def trusted_block(self) -> TrustedBlock:
        if self._anchor is None:
            self._anchor = self._pin()
        return self._vouch(latest_header(self.chain))

    def trusted_block_with_proof(
        self, address: bytes, slots: Sequence[bytes]
    ) -> tuple[TrustedBlock, AccountProof | None]:
        """:meth:`trusted_block`, and on a JSON-RPC node at depth 0 the EIP-1186 proof of
        ``slots`` at ``latest``, asked in the same batch as the head (one round trip for a
        look-up at a new head; the first look-up also asks the chain id and the checkpoint's
        block in it, so pinning costs no round trip of its own).  The proof is unchecked: the
        caller verifies it against the returned block's state root (it may come from a block
        mined between the answers)."""
        if self.depth != 0 or not isinstance(self.chain, RpcChain):
            return self.trusted_block(), None
        keys = ["0x" + s.hex() for s in slots]
        pin = (
            []
            if self._anchor is not None
            else [
                ("eth_chainId", []),
                ("eth_getBlockByNumber", [hex(self.checkpoint.number), False]),
            ]
        )
        *pinning, block_json, proof = self.chain.rpc.batch(
            [
                *pin,
                ("eth_getBlockByNumber", ["latest", False]),
                ("eth_getProof", ["0x" + address.hex(), keys, "latest"]),
            ]
        )
        if pinning:
            chain_id, cp_json = pinning
            if not isinstance(chain_id, str) or not isinstance(cp_json, dict):
                raise ChainError("the node did not answer the chain id and checkpoint block")
            try:
                node_chain = int(chain_id, 16)
            except ValueError as exc:
                raise ChainError(f"eth_chainId: not a hex quantity: {chain_id!r}") from exc
            self._anchor = self._pinned(node_chain, header_from_json(cp_json))
        if not isinstance(block_json, dict):
            raise ChainError("latest: no block in the answer")
        head = header_from_json(block_json)
        block = self._vouch(head)
        return block, parse_eip1186(proof) if block.block_hash == head.block_hash else None

    def _vouch(self, head: ChainHeader) -> TrustedBlock:
        """The block to prove at under ``head`` (the node's head), after every check."""
        assert self._anchor is not None  # pinned by the callers
        anchor = self._anchor
        if self._trusted is not None and head.block_hash == self._head:
            return self.freshness.check(self._trusted)  # same head: only time has passed
        if head.number < anchor.number:
            raise StaleHead(
                f"the node's head {head.number} is below block {anchor.number} already"
                " accepted (a lagging or replaying node)",
                check=Check.ROLLBACK,
            )
        if head.number == anchor.number:
            if head.block_hash != anchor.block_hash:
                raise BrokenLink(
                    f"the node's block {head.number} is not the one already accepted",
                    head.number,
                )
            segment: list[ChainHeader] = []
        else:
            segment = [*self._between(anchor.number, head.number), head]
            check_links(anchor, segment)
            self.headers_linked += len(segment)
        target_number = max(anchor.number, head.number - self.depth)
        target = (
            anchor if target_number == anchor.number else segment[target_number - anchor.number - 1]
        )
        block = TrustedBlock(
            target.number, target.block_hash, target.state_root, target.timestamp, self.name
        )
        self.freshness.check(block)  # before anything is remembered: a refusal changes nothing
        self._anchor, self._head, self._trusted = target, head.block_hash, block
        return block

    def _between(self, low: int, high: int) -> list[ChainHeader]:
        """The node's headers strictly between ``low`` and ``high``, in batches."""
        out: list[ChainHeader] = []
        numbers = list(range(low + 1, high))
        for i in range(0, len(numbers), self.max_batch):
            out += headers_by_number(self.chain, numbers[i : i + self.max_batch])
        return out
