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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ethvoip.spec.errors import ChainError, Check, ConfigError, Refused

#: The label of a look-up that no policy vouched for.
UNVERIFIED = "unverified"


class TrustError(Refused, ChainError):
    """A trust policy refused to vouch for a block (base of the policies' typed refusals;
    each names its check)."""


class StaleHead(TrustError):
    """The block is older than the freshness bound, or below the highest block already seen."""

    check = Check.FRESHNESS


class CheckpointMismatch(TrustError):
    """The node's chain does not hold the pinned checkpoint (another chain id, or another
    block at the checkpoint's number): it is not the network the operator provisioned."""

    check = Check.CHECKPOINT


class BrokenLink(TrustError):
    """A header does not extend the accepted chain: its parent hash is not the hash of the
    block below it, its number is not the next one, or its timestamp goes back."""

    check = Check.HEADER_CHAIN

    def __init__(self, message: str, number: int) -> None:
        super().__init__(message)
        self.number = number  # the height of the header that does not link


class QuorumDisagreement(TrustError):
    """Endpoints reported different blocks at one height; ``groups`` maps each block hash to
    the endpoints that reported it.  Never resolved by picking one."""

    check = Check.QUORUM

    def __init__(self, height: int, groups: Mapping[bytes, Sequence[str]]) -> None:
        self.height = height
        self.groups = {h: tuple(names) for h, names in groups.items()}
        said = "; ".join(
            f"{', '.join(names)} say 0x{h.hex()[:16]}..." for h, names in self.groups.items()
        )
        super().__init__(f"endpoints disagree on block {height}: {said}")

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Every endpoint involved, in the order of the groups."""
        return tuple(n for names in self.groups.values() for n in names)


class QuorumUnavailable(TrustError):
    """Fewer than ``k`` endpoints answered (or reached the chosen height): no block is vouched
    for.  ``missing`` names the endpoints that did not count, with why."""

    check = Check.QUORUM

    def __init__(self, message: str, missing: Mapping[str, str]) -> None:
        self.missing = dict(missing)
        why = "; ".join(f"{n}: {w}" for n, w in self.missing.items())
        super().__init__(f"{message}" + (f" ({why})" if why else ""))


@dataclass(frozen=True)
class Checkpoint:
    """A block the operator vouches for at provisioning: (chain id, number, hash).

    It is handed to a new subscriber in the service's sealed approval reply and pinned in the
    phone's ``trust.json``; :class:`~ethvoip.impl.chain.checkpoint.CheckpointPolicy` accepts
    later heads only if they link back to it.
    """

    chain_id: int
    number: int
    block_hash: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "number": self.number,
            "hash": "0x" + self.block_hash.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Parse :meth:`to_json`'s shape; :class:`ConfigError` on anything else."""
        if not isinstance(data, dict):
            raise ConfigError("checkpoint: expected an object")
        chain_id, number, text = data.get("chain_id"), data.get("number"), data.get("hash")
        if not (type(chain_id) is int and chain_id > 0 and type(number) is int and number >= 0):
            raise ConfigError("checkpoint: chain_id and number must be non-negative integers")
        if not isinstance(text, str) or not text.startswith("0x") or len(text) != 66:
            raise ConfigError("checkpoint: hash must be 32 bytes of 0x-hex")
        try:
            block_hash = bytes.fromhex(text[2:])
        except ValueError as exc:
            raise ConfigError("checkpoint: hash is not hex") from exc
        if len(block_hash) != 32:  # fromhex skips spaces: "0x" + 64 characters is not enough
            raise ConfigError("checkpoint: hash must be 32 bytes of 0x-hex")
        return cls(chain_id, number, block_hash)


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
                " (a lagging or replaying node)",
                check=Check.ROLLBACK,
            )
        age = self.clock() - block.timestamp
        if age > self.max_age:
            raise StaleHead(
                f"block {block.number} is {age:.0f} s old, over the freshness bound of"
                f" {self.max_age:.0f} s"
            )
        self.highest = block.number
        return block
