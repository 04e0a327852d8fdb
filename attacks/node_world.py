"""The world of the look-up attacks: a real node (anvil), a KeyStore, and phones behind proxies.

The trust-root attacks (``forged_head``, ``stale_head``) need a JSON-RPC node to put a lying
proxy (:mod:`.lying_rpc`) in front of, so they run on anvil (started and stopped here, by its
own PID), not on the embedded chain of the contract attacks.  a and b are approved
subscribers; e (the intruder) has a key but needs no account: he controls the node a asks.
The operator pins a checkpoint after provisioning, as it does in its approval replies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ethvoip.attacks.lying_rpc import ForgeBlock, Lie, LyingRpc, substituted_record
from ethvoip.attacks.world import PHONES
from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import Provisioned, deploy, register_numbers
from ethvoip.impl.chain import KeyStoreClient, RpcChain, identifier, start_anvil
from ethvoip.impl.chain.checkpoint import checkpoint_at
from ethvoip.impl.chain.headers import latest_header
from ethvoip.impl.chain.trust import Checkpoint, TrustPolicy
from ethvoip.impl.crypto import IdentityKey, seeded_rng


@dataclass
class NodeWorld:
    url: str  # the real node
    chain: RpcChain  # honest, straight to it
    world: Provisioned
    keys: dict[str, IdentityKey]  # each subscriber's ("a", "b"), and "e"
    checkpoint: Checkpoint

    def mine(self, blocks: int) -> None:
        for _ in range(blocks):
            self.chain.rpc.call("evm_mine", [])

    def head(self) -> int:
        return latest_header(self.chain).number

    def chain_time(self) -> float:
        """A phone's clock, in step with the chain (anvil's time moves with evm_mine)."""
        return float(latest_header(self.chain).timestamp)

    def owner(self, key: object) -> str:
        for name, k in self.keys.items():
            if k.public_key == key:
                return f"pk({name})"
        return "an unknown key"

    def directory(
        self, url: str, policy: Callable[[RpcChain], TrustPolicy | None]
    ) -> ChainDirectory:
        """a's phone, reading the chain only through ``url``."""
        chain = RpcChain(url)
        ks = KeyStoreClient(chain, "0x" + self.world.keystore.address.hex())
        return ChainDirectory(ks, self.world.salt, policy(chain))

    def forge_b(self, **kw: int | bool) -> ForgeBlock:
        """The lie that puts pk(e) in b's record."""
        words = substituted_record(
            self.world.keystore,
            identifier(PHONES["b"], self.world.salt),
            self.keys["e"].public_key.to_bytes(),
        )
        return ForgeBlock(
            self.chain.rpc,
            self.world.keystore.address,
            words,
            below_head=int(kw.get("below_head", 0)),
            descendants=bool(kw.get("descendants", False)),
        )

    def proxy(self, lie: Lie | None, name: str) -> LyingRpc:
        return LyingRpc(self.url, lie, name)


def provision(url: str, seed: bytes, subscribers: Sequence[str] = ("a", "b")) -> NodeWorld:
    """On the node at ``url``: a KeyStore, ``subscribers`` (a and b) approved, the operator's
    checkpoint.  e always has a key and never a record."""
    chain = RpcChain(url)
    rng = seeded_rng(seed)
    world = deploy(chain, rng(32))
    keys = {n: IdentityKey.generate(rng) for n in (*subscribers, "e")}
    register_numbers(world, {PHONES[n]: keys[n] for n in subscribers})
    checkpoint = checkpoint_at(chain, latest_header(chain).block_hash)
    return NodeWorld(url, chain, world, keys, checkpoint)


@contextmanager
def node_world(seed: bytes) -> Iterator[NodeWorld]:
    """:func:`provision` on an anvil started here and stopped after."""
    with start_anvil() as anvil:
        w = provision(anvil.url, seed)
        try:
            yield w
        finally:
            w.chain.close()
