"""Trust policies: which block a key look-up may be proven against, and why.

A Merkle proof only moves trust: it shows that a record is in the state whose root a block
header commits to.  Whoever chooses that block chooses the answer, so the choice is never left
to the node being queried.  A :class:`TrustPolicy` makes it, from a root of trust that the
queried node cannot forge (a checkpoint pinned at provisioning, a quorum of independent nodes,
or the signatures of an Ethereum sync committee), and every verified result carries the
:class:`TrustedBlock` that says which policy vouched for which block.

A look-up made without a policy is *unverified* and is labelled so (:data:`UNVERIFIED`): it
never says "verified".

Freshness is common to every policy (:class:`Freshness`): a block older than the configured
bound is refused, and so is a block below the highest one already accepted, so that a
revocation reaches every caller within the bound and a lagging or replaying node cannot hide it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ethvoip.spec.errors import ChainError

#: The label of a look-up that no policy vouched for.
UNVERIFIED = "unverified"


class TrustError(ChainError):
    """A trust policy refused to vouch for a block (base of the policies' typed refusals)."""


class StaleHead(TrustError):
    """The block is older than the freshness bound, or below the highest block already seen."""


@dataclass(frozen=True)
class TrustedBlock:
    """A block a policy vouches for: proofs are checked against ``state_root``."""

    number: int
    block_hash: bytes
    state_root: bytes
    timestamp: int
    policy: str  # "checkpoint", "quorum", "sync-committee", ...: who vouched


class TrustPolicy(Protocol):
    """Chooses the block a look-up is proven against, or raises a :class:`TrustError`."""

    name: str

    def trusted_block(self) -> TrustedBlock:
        """The newest block this policy vouches for now (after :class:`Freshness`)."""
        ...


@dataclass
class Freshness:
    """Refuses blocks older than ``max_age`` seconds by ``clock``, or below the highest seen."""

    max_age: float
    clock: Callable[[], float]
    highest: int = -1

    def check(self, block: TrustedBlock) -> TrustedBlock:
        if block.number < self.highest:
            raise StaleHead(
                f"block {block.number} is below block {self.highest} already accepted"
                " (a lagging or replaying node)"
            )
        age = self.clock() - block.timestamp
        if age > self.max_age:
            raise StaleHead(
                f"block {block.number} is {age:.0f} s old, over the freshness bound of"
                f" {self.max_age:.0f} s"
            )
        self.highest = block.number
        return block
