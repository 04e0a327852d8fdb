"""A lagging (or replaying) node serves the state from before a revocation (issue 12).

b's key is revoked (say his phone was stolen); the node a's phone asks stays at the block
before the revocation (:class:`~ethvoip.attacks.lying_rpc.Lag`: ``latest`` is that block,
nothing above it exists).  It forges nothing: every proof is genuine, only old.

* Unverified look-up (the node's own head): a gets b's revoked key; whoever stole it can
  answer a's calls as b.
* Checkpoint policy with the default freshness bound
  (:data:`~ethvoip.impl.chain.policies.DEFAULT_MAX_AGE`):
  a phone that has already accepted a block after the revocation refuses the lagging head
  (``StaleHead``: below a block already accepted); a phone with no history refuses it once it
  is older than the bound by its clock (``StaleHead``: over the freshness bound).  That is the
  promise: a revocation reaches every caller within the bound.

Run: ``ethvoip attack stale_head`` (needs anvil: ``make node``).
"""

from __future__ import annotations

from collections.abc import Callable

from ethvoip.attacks.base import Attack, AttackResult, Blocked, Line, refused_by
from ethvoip.attacks.lying_rpc import Lag
from ethvoip.attacks.node_world import NodeWorld, node_world
from ethvoip.attacks.world import PHONES
from ethvoip.impl.chain import RpcChain, identifier
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.policies import DEFAULT_MAX_AGE
from ethvoip.impl.chain.trust import Freshness, StaleHead
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import ChainError, Check

B = PHONES["b"]


def _phone_policy(w: NodeWorld) -> Callable[[RpcChain], CheckpointPolicy]:
    """a's policy as provisioned: the checkpoint, depth 1, the default freshness bound (her
    clock is in step with the real chain's)."""

    def make(chain: RpcChain) -> CheckpointPolicy:
        fresh = Freshness(DEFAULT_MAX_AGE, w.chain_time)
        return CheckpointPolicy(chain, w.checkpoint, depth=1, freshness=fresh)

    return make


def paper_half(w: NodeWorld, old: int) -> tuple[bool, list[Line], str]:
    lines = [
        Line("-", "o", f"revokes b's key after block {old}; {DEFAULT_MAX_AGE + 60:.0f} s pass"),
        Line("-", "node", f"stays at block {old}: its 'latest' is that block"),
    ]
    with w.proxy(Lag(old), "lagging node") as node:
        got = w.directory(node.url, lambda _: None).resolve(B)
    lines.append(Line("lookup", "a", f"look-up of b: {w.owner(got.key)} [{got.label}]"))
    ends = f"a holds {w.owner(got.key)}, revoked since block {old + 1}, as b's key"
    return got.key == w.keys["b"].public_key, lines, ends


def _seen_later(w: NodeWorld, old: int) -> tuple[StaleHead | None, list[Line]]:
    """A phone that already accepted a block after the revocation, then its node lags."""
    with w.proxy(None, "a's node") as node:
        directory = w.directory(node.url, _phone_policy(w))
        lines = []
        try:
            directory.resolve(B)
            lines.append(Line("lookup", "a", "look-up of b: ACCEPTED (the revocation missed)"))
        except ChainError as exc:
            lines.append(Line("lookup", "a", f"look-up of b, node in sync: refused ({exc})"))
        node.lie = Lag(old)
        try:
            got = directory.resolve(B)
            lines.append(Line("lookup", "a", f"node now lags: ACCEPTED {w.owner(got.key)}"))
            return None, lines
        except StaleHead as exc:
            lines.append(Line("lookup", "a", f"node now lags: StaleHead: {exc}"))
            return exc, lines


def _fresh_phone(w: NodeWorld, old: int) -> tuple[StaleHead | None, Line]:
    """A phone with no history asks the lagging node."""
    with w.proxy(Lag(old), "lagging node") as node:
        try:
            got = w.directory(node.url, _phone_policy(w)).resolve(B)
            return None, Line("lookup", "a'", f"new phone: ACCEPTED {w.owner(got.key)}")
        except StaleHead as exc:
            return exc, Line("lookup", "a'", f"new phone, lagging node: StaleHead: {exc}")


def hardened_half(w: NodeWorld, old: int) -> Blocked:
    below, lines = _seen_later(w, old)
    aged, line = _fresh_phone(w, old)
    lines.append(line)
    checks = (*refused_by(below), *refused_by(aged))
    blocked = checks == (Check.ROLLBACK, Check.FRESHNESS)
    why = (
        f"StaleHead (freshness: below a block already accepted: {below}; "
        f"older than the {DEFAULT_MAX_AGE:.0f} s bound: {aged})"
    )
    return blocked, lines, why, checks


def revoke_b(w: NodeWorld) -> int:
    """b's key revoked, then more than the freshness bound passes; the last block before."""
    w.mine(2)
    old = w.head()
    w.world.keystore.operator_revoke(identifier(B, w.world.salt), w.world.operator)
    w.chain.rpc.call("evm_increaseTime", [int(DEFAULT_MAX_AGE) + 60])
    w.mine(2)
    return old


def run() -> AttackResult:
    with node_world(b"ethvoip/stale_head") as w:
        old = revoke_b(w)
        paper = paper_half(w, old)
        hardened = hardened_half(w, old)
    return AttackResult.of_halves(
        "stale_head",
        "key_lookup (a lagging JSON-RPC node: a proxy in front of anvil)",
        paper,
        hardened,
    )


ATTACK = Attack(
    "stale_head",
    "key_lookup",
    "pre-revocation state from a lagging node",
    run,
    checks=(C.LOOKUP_FRESHNESS,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
