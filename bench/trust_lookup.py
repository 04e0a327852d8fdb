"""A key look-up under each trust policy vs a raw ``eth_call``, warm and cold, on anvil.

Variants (each its own :class:`~ethvoip.impl.call.directory.ChainDirectory`, default cache):

* ``eth_call``: raw JSON-RPC ``lookup(id)`` on a kept-alive connection (the node's word);
* ``unverified``: proof against the node's own head (one batch: head + proof at latest);
* ``checkpoint d=0`` / ``checkpoint d=1``: :class:`CheckpointPolicy`, confirmation depth 0/1;
* ``quorum 2/3``: :class:`QuorumPolicy`, 2 of 3 endpoints (asked in parallel), depth 1.
  The three endpoints are three connections to the same anvil: the cost of asking three
  nodes on loopback, not the independence (a quorum for real needs three operators).

**warm**: the head has not moved since the last look-up (the policy reads the head, finds it
already linked; the key is cached for that block).  **cold**: one block was mined before
each round, so every variant links a new head and fetches and checks a new proof.  The
variants take turns in an order shuffled every round (seeded), so load bursts on the shared
machine hit them alike.  Mining is outside the timed part.

The ``ethvoip.directory`` log (a warning per unverified look-up) is silenced while timing.

Run: ``.venv/bin/python bench/trust_lookup.py [N]`` (medians of N rounds, N >= 30).
"""

from __future__ import annotations

import logging
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import RpcChain, identifier, start_anvil
from ethvoip.impl.chain.checkpoint import CheckpointPolicy, checkpoint_at
from ethvoip.impl.chain.headers import latest_header
from ethvoip.impl.chain.quorum import QuorumPolicy
from ethvoip.impl.chain.trust import Freshness
from ethvoip.impl.crypto import IdentityKey, seeded_rng

NUMBER = "+33612345678"
DAY = 86400.0


def rounds(
    fns: dict[str, Callable[[], object]], n: int, before: Callable[[], None]
) -> dict[str, float]:
    """Median ms of each function over ``n`` rounds; ``before()`` runs untimed each round."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    rng = random.Random(1)
    for _ in range(n):
        before()
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) * 1e3 for name, s in samples.items()}


def main() -> None:
    n = max(30, int(sys.argv[1]) if len(sys.argv) > 1 else 100)
    logging.getLogger("ethvoip.directory").setLevel(logging.ERROR)
    with start_anvil() as node:
        chain = RpcChain(node.url)
        world = deploy(chain, bytes(32))
        key = IdentityKey.generate(seeded_rng(b"bench"))
        register_numbers(world, {NUMBER: key})
        checkpoint = checkpoint_at(chain, latest_header(chain).block_hash)
        chain.rpc.call("evm_mine", [])
        ks = world.keystore

        def fresh() -> Freshness:
            return Freshness(DAY, time.time)

        quorum = {f"n{i}": RpcChain(node.url) for i in range(3)}
        policies = {
            "unverified": None,
            "checkpoint d=0": CheckpointPolicy(chain, checkpoint, depth=0, freshness=fresh()),
            "checkpoint d=1": CheckpointPolicy(chain, checkpoint, depth=1, freshness=fresh()),
            "quorum 2/3": QuorumPolicy(quorum, 2, depth=1, freshness=fresh()),
        }
        dirs = {name: ChainDirectory(ks, world.salt, p) for name, p in policies.items()}
        data = ks.contract.encode_abi("lookup", args=[identifier(NUMBER, world.salt)])
        call = [{"to": "0x" + ks.address.hex(), "data": data}, "latest"]

        def raw() -> bytes:
            return bytes.fromhex(chain.rpc.call("eth_call", call)[2:])[96:160]

        fns: dict[str, Callable[[], object]] = {"eth_call": raw}
        for name, d in dirs.items():
            fns[name] = lambda d=d: d.lookup(NUMBER)  # type: ignore[misc]
        want = key.public_key
        assert raw() == want.to_bytes() and all(d.lookup(NUMBER) == want for d in dirs.values())

        def mine() -> None:
            chain.rpc.call("evm_mine", [])

        warm = rounds(fns, n, lambda: None)
        cold = rounds(fns, n, mine)
        assert all(d.lookup(NUMBER) == want for d in dirs.values())
        policies["quorum 2/3"].close()  # type: ignore[union-attr]
        for c in (chain, *quorum.values()):
            c.close()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"anvil, medians of {n} rounds; {machine}")
    print(f"{'look-up':<16}{'warm ms':>9}{'ratio':>7}{'cold ms':>10}{'ratio':>7}")
    for name in fns:
        w, c = warm[name], cold[name]
        print(
            f"{name:<16}{w:9.3f}{w / warm['eth_call']:6.2f}x{c:10.3f}{c / cold['eth_call']:6.2f}x"
        )


if __name__ == "__main__":
    main()
