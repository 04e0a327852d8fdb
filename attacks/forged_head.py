"""A malicious RPC node forges a block header and the state under it (issue 12).

The node a's phone asks is e's (or compromised).  It builds a state trie in which b's record
in the KeyStore holds pk(e), puts that trie's root in a block header, and serves the header
and EIP-1186 proofs out of its trie (:class:`~ethvoip.attacks.lying_rpc.ForgeBlock`, a proxy
in front of a real anvil).  Every Merkle branch checks out against the forged header.

* Unverified look-up (the node's own head as the trust root, what the phones did before
  trust policies): a gets pk(e) for b, and a MIKEY call to b opens to e.
* Checkpoint policy (depth 1): the forged block must have a linked child; the real child's
  parent hash is the real block's hash, so the link breaks: ``BrokenLink``.
* Quorum policy (2 of 3, depth 1), against the stronger forger who also invents every block
  above, which no parent-hash check can see: the two honest endpoints report another block
  at the height: ``QuorumDisagreement`` naming the liar.  (The checkpoint policy does not
  stop that forger: docs/lightclient.rst says so, and tests/call/test_trust_policies.py
  shows it.)

Run: ``ethvoip attack forged_head`` (needs anvil: ``make node``).
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult, Blocked, Line, refused_by
from ethvoip.attacks.node_world import NodeWorld, node_world
from ethvoip.attacks.world import PHONES
from ethvoip.impl.chain import RpcChain
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.quorum import QuorumPolicy
from ethvoip.impl.chain.trust import BrokenLink, Freshness, QuorumDisagreement, TrustError
from ethvoip.spec import checknames as C

B = PHONES["b"]
DAY = 86400.0  # freshness is not what this attack is about (see stale_head)


def paper_half(w: NodeWorld) -> tuple[bool, list[Line], str]:
    lie = w.forge_b(below_head=0)
    lines = [
        Line("-", "o", f"pins checkpoint block {w.checkpoint.number} (a's trust.json)"),
        Line(
            "-",
            "node",
            f"forges block {lie.height}: state root 0x{lie.forged.block['stateRoot'][2:18]}... "
            f"commits to a trie where records[b] = pk(e); hash {lie.forged.block['hash'][:18]}...",
        ),
    ]
    with w.proxy(lie, "e's node") as node:
        got = w.directory(node.url, lambda _: None).resolve(B)
    lines.append(Line("lookup", "a", f"look-up of b: {w.owner(got.key)} [{got.label}]"))
    ends = f"a holds {w.owner(got.key)} as b's key, every proof verified against e's header"
    return got.key == w.keys["e"].public_key, lines, ends


def _checkpoint(w: NodeWorld) -> tuple[TrustError | None, Line]:
    lie = w.forge_b(below_head=1)

    def policy(chain: RpcChain) -> CheckpointPolicy:
        fresh = Freshness(DAY, w.chain_time)
        return CheckpointPolicy(chain, w.checkpoint, depth=1, freshness=fresh)

    with w.proxy(lie, "e's node") as node:
        try:
            got = w.directory(node.url, policy).resolve(B)
            return None, Line("lookup", "a", f"checkpoint: ACCEPTED {w.owner(got.key)}")
        except TrustError as exc:
            text = (
                f"node forges block {lie.height}; checkpoint refuses: {type(exc).__name__}: {exc}"
            )
            return exc, Line("lookup", "a", text)


def _quorum(w: NodeWorld) -> tuple[TrustError | None, Line]:
    lie = w.forge_b(below_head=1, descendants=True)
    with (
        w.proxy(lie, "e's node") as liar,
        w.proxy(None, "node 2") as n2,
        w.proxy(None, "node 3") as n3,
    ):
        endpoints = {p.name: RpcChain(p.url) for p in (liar, n2, n3)}
        policy = QuorumPolicy(endpoints, 2, depth=1, freshness=Freshness(DAY, w.chain_time))
        try:
            got = w.directory(liar.url, lambda _: policy).resolve(B)
            return None, Line("lookup", "a", f"quorum: ACCEPTED {w.owner(got.key)}")
        except TrustError as exc:
            text = (
                f"node forges block {lie.height} and invents blocks up to {lie.top}; quorum"
                f" refuses: {type(exc).__name__}: {exc}"
            )
            return exc, Line("lookup", "a", text)
        finally:
            policy.close()


def hardened_half(w: NodeWorld) -> Blocked:
    link, first = _checkpoint(w)
    vote, second = _quorum(w)
    blocked = (
        isinstance(link, BrokenLink)
        and isinstance(vote, QuorumDisagreement)
        and "e's node" in vote.endpoints
    )
    why = f"BrokenLink (checkpoint policy: {link}) and QuorumDisagreement (quorum policy: {vote})"
    return blocked, [first, second], why, (*refused_by(link), *refused_by(vote))


def run() -> AttackResult:
    with node_world(b"ethvoip/forged_head") as w:
        w.mine(3)  # blocks above the checkpoint
        paper = paper_half(w)
        hardened = hardened_half(w)
    return AttackResult.of_halves(
        "forged_head", "key_lookup (a lying JSON-RPC proxy in front of anvil)", paper, hardened
    )


ATTACK = Attack(
    "forged_head",
    "key_lookup",
    "a forged header and state from the RPC node",
    run,
    checks=(C.STATE_PROOF,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
