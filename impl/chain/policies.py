"""The one place that says which trust policy a phone uses, with what bounds, and builds it.

A phone's ``trust.json`` (written at onboarding from the operator's sealed approval reply)
holds a :class:`TrustSettings`: the checkpoint the operator pinned, the policy's name, the
confirmation depth and the freshness bound.  :func:`build_policy` turns it into a
:class:`~ethvoip.impl.chain.trust.TrustPolicy`.  The embedded default (``make run``,
``ethvoip demo``, a ``trust.json`` that names no policy) is :data:`DEFAULT_POLICY`: switching
every default to another policy is a change of that one constant (and a branch in
:func:`build_policy` for a new policy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ethvoip.impl.chain.backend import Chain, RpcChain
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.quorum import QuorumPolicy
from ethvoip.impl.chain.trust import Checkpoint, Freshness, TrustPolicy
from ethvoip.spec.errors import ConfigError

#: The policy of every default.  "sync-committee" runs a simulated beacon chain over the
#: development chain (:mod:`.sync_committee`); switching the defaults to it is this line.
DEFAULT_POLICY = "sync-committee"
#: Freshness bound (seconds): a block older than this by the phone's clock is refused, so a
#: revocation reaches every caller within it.  Ten minutes is fifty 12-second slots.
DEFAULT_MAX_AGE = 600.0
#: Confirmation depth: look-ups are proven against ``head - depth``.
DEFAULT_DEPTH = 1
#: Quorum: how many endpoints must agree (of those listed).
DEFAULT_QUORUM = 2

POLICIES = ("checkpoint", "quorum", "sync-committee")


@dataclass(frozen=True)
class TrustSettings:
    """What a phone is provisioned with to choose the blocks its look-ups are proven at."""

    checkpoint: Checkpoint
    policy: str = DEFAULT_POLICY
    depth: int = DEFAULT_DEPTH
    max_age: float = DEFAULT_MAX_AGE
    quorum: int = DEFAULT_QUORUM
    endpoints: tuple[str, ...] = ()  # JSON-RPC URLs, for the quorum policy

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ConfigError(f"unknown trust policy {self.policy!r} (known: {POLICIES})")
        if self.depth < 0 or self.max_age <= 0 or self.quorum < 1:
            raise ConfigError("trust settings: depth >= 0, max_age > 0 and quorum >= 1")

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint.to_json(),
            "policy": self.policy,
            "depth": self.depth,
            "max_age": self.max_age,
            "quorum": self.quorum,
            "endpoints": list(self.endpoints),
        }

    @classmethod
    def from_json(cls, data: Any) -> TrustSettings:
        """Parse :meth:`to_json`'s shape (absent fields take the defaults); ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError("trust settings: expected an object")
        extra = set(data) - {"checkpoint", "policy", "depth", "max_age", "quorum", "endpoints"}
        if extra:
            raise ConfigError(f"trust settings: unknown fields {sorted(extra)}")
        policy, depth = data.get("policy", DEFAULT_POLICY), data.get("depth", DEFAULT_DEPTH)
        max_age, quorum = data.get("max_age", DEFAULT_MAX_AGE), data.get("quorum", DEFAULT_QUORUM)
        endpoints = data.get("endpoints", [])
        if not (
            isinstance(policy, str)
            and type(depth) is int
            and type(quorum) is int
            and type(max_age) in (int, float)
            and isinstance(endpoints, list)
            and all(isinstance(e, str) for e in endpoints)
        ):
            raise ConfigError("trust settings: a field has the wrong type")
        return cls(
            Checkpoint.from_json(data.get("checkpoint")),
            policy,
            depth,
            float(max_age),
            quorum,
            tuple(endpoints),
        )


def build_policy(
    settings: TrustSettings,
    chain: Chain,
    *,
    clock: Callable[[], float] = time.time,
    endpoints: Mapping[str, Chain] | None = None,
) -> TrustPolicy:
    """The policy ``settings`` name, reading ``chain`` (and, for a quorum, ``endpoints``, by
    default one :class:`RpcChain` per URL of ``settings.endpoints``)."""
    if settings.policy == "sync-committee":
        # Imported here: the consensus-specs package and its BLS backend take a while to
        # load, and a phone on another policy never needs them.
        from ethvoip.impl.chain.sync_committee import SyncCommitteePolicy

        # A simulated beacon chain over ``chain`` (its checkpoint root comes from the
        # simulation; a real network's would be pinned at provisioning, see
        # docs/lightclient_sync_committee.rst).
        return SyncCommitteePolicy.for_chain(chain, max_age=settings.max_age, clock=clock)
    freshness = Freshness(settings.max_age, clock)
    if settings.policy == "checkpoint":
        return CheckpointPolicy(
            chain, settings.checkpoint, depth=settings.depth, freshness=freshness
        )
    if endpoints is None:
        endpoints = {url: RpcChain(url) for url in settings.endpoints}
    return QuorumPolicy(
        endpoints,
        settings.quorum,
        depth=settings.depth,
        freshness=freshness,
        chain_id=settings.checkpoint.chain_id,
    )
