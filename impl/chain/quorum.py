"""The quorum policy: ``k`` of ``n`` independent JSON-RPC endpoints must agree on a block.

:class:`QuorumPolicy` asks every endpoint for its head, picks the highest height that at
least ``k`` of them have reached, steps ``depth`` blocks below it (the confirmation depth),
and asks each endpoint that reached it for its header there.  Each header is re-hashed here
(:mod:`.headers`), so the vote is on what the bytes are, not on what a node says they are.

* Every endpoint that answers must report the same block: two different hashes are a
  :class:`~ethvoip.impl.chain.trust.QuorumDisagreement` naming which endpoints said which,
  never a silent pick (one lying endpoint can therefore stop look-ups, but not forge one).
* The endpoints are asked in parallel (one thread each), so a look-up costs two round trips
  to the slowest endpoint, not ``2 n``.
* An endpoint that fails to answer, or has not reached the height, does not vote; fewer than
  ``k`` votes is :class:`~ethvoip.impl.chain.trust.QuorumUnavailable`.
* The agreed block passes :class:`~ethvoip.impl.chain.trust.Freshness` (a quorum of nodes
  that all lag is still refused).
* Given the provisioned ``chain_id`` (the checkpoint's), an endpoint on another chain never
  votes (a testnet, or a fork under another id, could otherwise make up a quorum of its own
  whose blocks all agree with each other); each endpoint is asked once it answers.

What it trusts: that fewer than ``k`` endpoints collude or share one compromised upstream.
Separate operators and providers matter more than the count; ``n`` endpoints in front of one
node are one vote in disguise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ethvoip.impl.chain.backend import Chain
from ethvoip.impl.chain.headers import ChainHeader, headers_by_number, latest_header
from ethvoip.impl.chain.trust import (
    Freshness,
    QuorumDisagreement,
    QuorumUnavailable,
    TrustedBlock,
)
from ethvoip.spec.errors import ChainError, ConfigError

T = TypeVar("T")


class QuorumPolicy:
    """Vouches for the block ``k`` of the ``endpoints`` agree on, ``depth`` below the head."""

    name = "quorum"

    def __init__(
        self,
        endpoints: Mapping[str, Chain],
        k: int,
        *,
        depth: int,
        freshness: Freshness,
        chain_id: int | None = None,
    ) -> None:
        if not 1 <= k <= len(endpoints) or depth < 0:
            raise ConfigError(
                f"quorum needs 1 <= k <= n and depth >= 0 (k={k}, n={len(endpoints)})"
            )
        self.endpoints = dict(endpoints)
        self.k = k
        self.depth = depth
        self.freshness = freshness
        self.chain_id = chain_id
        self._chains: dict[str, int] = {}  # endpoint -> the chain id it answered
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the threads that ask the endpoints (started at the first look-up)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _ask(self, names: list[str], read: Callable[[Chain], T]) -> dict[str, T | ChainError]:
        """``read`` on each named endpoint, all at once (one round trip for all, not ``n``)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(self.endpoints), "quorum")

        def one(name: str) -> T | ChainError:
            try:
                return read(self.endpoints[name])
            except ChainError as exc:  # ProofError too: an answer that is not a header
                return exc

        return dict(zip(names, self._pool.map(one, names), strict=True))

    def _on_our_chain(self) -> tuple[list[str], dict[str, str]]:
        """The endpoints that may vote (all, or those on ``chain_id``), and why the others
        may not.  An endpoint's chain id is asked once it answers, then remembered."""
        if self.chain_id is None:
            return list(self.endpoints), {}
        unknown = [n for n in self.endpoints if n not in self._chains]
        if unknown:
            for name, got in self._ask(unknown, lambda chain: chain.chain_id).items():
                if not isinstance(got, ChainError):
                    self._chains[name] = got
        why: dict[str, str] = {}
        for name in self.endpoints:
            known = self._chains.get(name)
            if known is None:
                why[name] = "no chain id"
            elif known != self.chain_id:
                why[name] = f"on chain {known}, not {self.chain_id}"
        return [n for n in self.endpoints if n not in why], why

    def trusted_block(self) -> TrustedBlock:
        voting, missing = self._on_our_chain()
        heads: dict[str, int] = {}
        for name, got in self._ask(voting, latest_header).items():
            if isinstance(got, ChainError):
                missing[name] = f"no head: {got}"
            else:
                heads[name] = got.number
        if len(heads) < self.k:
            raise QuorumUnavailable(f"{len(heads)} of {self.k} endpoints answered", missing)
        reached = sorted(heads.values(), reverse=True)[self.k - 1]
        height = max(0, reached - self.depth)
        for name, number in heads.items():
            if number < height:
                missing[name] = f"head {number} below block {height}"
        voters = [name for name, number in heads.items() if number >= height]
        votes: dict[bytes, list[str]] = {}
        agreed: dict[bytes, ChainHeader] = {}
        at = self._ask(voters, lambda chain: headers_by_number(chain, [height])[0])
        for name, header in at.items():
            if isinstance(header, ChainError):
                missing[name] = f"no block {height}: {header}"
                continue
            votes.setdefault(header.block_hash, []).append(name)
            agreed[header.block_hash] = header
        if len(votes) > 1:
            raise QuorumDisagreement(height, votes)
        count = len(next(iter(votes.values()))) if votes else 0
        if count < self.k:
            raise QuorumUnavailable(
                f"{count} of {self.k} endpoints vouch for block {height}", missing
            )
        [chosen] = agreed.values()
        block = TrustedBlock(
            chosen.number, chosen.block_hash, chosen.state_root, chosen.timestamp, self.name
        )
        return self.freshness.check(block)
