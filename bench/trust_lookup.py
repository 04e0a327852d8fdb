"""A key look-up under each trust policy vs a raw ``eth_call``, warm and cold, on anvil.

Variants (each its own :class:`~ethvoip.impl.call.directory.ChainDirectory`, default cache):

* ``eth_call``: raw JSON-RPC ``lookup(id)`` on a kept-alive connection (the node's word);
* ``eth_getProof``: raw JSON-RPC proof of the record's slots at latest, not checked: what the
  node alone spends on a verified look-up, hence the floor of every verified variant;
* ``header+proof``: the raw batch a cold look-up at depth 0 sends (the head's block and the
  proof at latest, one round trip), not parsed nor checked: that look-up's floor, the node's
  answer and the transport without any of our work;
* ``unverified``: proof against the node's own head (one batch: head + proof at latest);
* ``checkpoint d=0`` / ``checkpoint d=1``: :class:`CheckpointPolicy`, confirmation depth 0/1;
* ``quorum 2-of-3``: :class:`QuorumPolicy`, 2 of 3 endpoints (asked in parallel), depth 1.
  The three endpoints are three connections to the same anvil: the cost of asking three
  nodes on loopback, not the independence (a quorum for real needs three operators).

**warm**: the head has not moved since the last look-up (the policy reads the head, finds it
already linked; the key is cached for that block).  **cold**: one block was mined before
each round, so every variant links a new head and fetches and checks a new proof.  The
variants take turns in an order shuffled every round (seeded), so load bursts on the shared
machine hit them alike.  Mining is outside the timed part.

The ``ethvoip.directory`` log (a warning per unverified look-up) is silenced while timing.

Run: ``.venv/bin/python bench/trust_lookup.py [N] [--json PATH]`` (medians of N rounds,
N >= 30); ``--profile VARIANT`` profiles N cold look-ups of one variant instead.  Figures
``<variant>/<warm or cold>`` (ms) and ``<variant>/<warm or cold>_x`` (the ratio to the raw
``eth_call``); ratios ``*/over_floor`` divide each policy by the raw header+proof batch.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections.abc import Callable

from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import RpcChain, identifier, start_anvil
from ethvoip.impl.chain.checkpoint import CheckpointPolicy, checkpoint_at
from ethvoip.impl.chain.headers import latest_header
from ethvoip.impl.chain.quorum import QuorumPolicy
from ethvoip.impl.chain.trust import Freshness
from ethvoip.impl.crypto import IdentityKey, seeded_rng

NUMBER = "+33612345678"
WHEN = ("warm", "cold")
DAY = 86400.0


def rounds(
    fns: dict[str, Callable[[], object]], n: int, before: Callable[[], None]
) -> dict[str, list[float]]:
    """Samples (ms) of each function over ``n`` rounds; ``before()`` runs untimed each round."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    rng = random.Random(1)
    for _ in range(n):
        before()
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


def profile_cold(fn: Callable[[], object], n: int, mine: Callable[[], None]) -> None:
    """Print where ``n`` cold calls of ``fn`` spend their time (pyinstrument, wall clock:
    ``pip install pyinstrument``; it is not a dependency of the project)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0001)
    for _ in range(n):
        mine()  # untimed, as in the cold rounds
        profiler.start()
        fn()
        profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rounds", nargs="?", type=int, default=100)
    ap.add_argument(
        "--profile",
        metavar="VARIANT",
        help="instead of timing, profile N cold look-ups of VARIANT (e.g. 'checkpoint d=0')",
    )
    add_json_option(ap)
    args = ap.parse_args()
    n = max(30, args.rounds)
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
            "quorum 2-of-3": QuorumPolicy(quorum, 2, depth=1, freshness=fresh()),
        }
        dirs = {name: ChainDirectory(ks, world.salt, p) for name, p in policies.items()}
        data = ks.contract.encode_abi("lookup", args=[identifier(NUMBER, world.salt)])
        call = [{"to": "0x" + ks.address.hex(), "data": data}, "latest"]

        def raw() -> bytes:
            return bytes.fromhex(chain.rpc.call("eth_call", call)[2:])[96:160]

        slots = ["0x" + s.hex() for s in ks.layout.slots(identifier(NUMBER, world.salt))]
        proof_request = ["0x" + ks.address.hex(), slots, "latest"]

        def raw_proof() -> object:
            # the node's share of a verified look-up: the proof alone, not checked (the floor)
            return chain.rpc.call("eth_getProof", proof_request)

        head_and_proof = [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_getProof", proof_request),
        ]

        def raw_batch() -> object:
            # what a cold look-up at depth 0 asks, in one round trip, left unparsed
            return chain.rpc.batch(head_and_proof)

        fns: dict[str, Callable[[], object]] = {
            "eth_call": raw,
            "eth_getProof": raw_proof,
            "header+proof": raw_batch,
        }
        for name, d in dirs.items():
            fns[name] = lambda d=d: d.lookup(NUMBER)  # type: ignore[misc]
        want = key.public_key
        assert raw() == want.to_bytes() and all(d.lookup(NUMBER) == want for d in dirs.values())

        def mine() -> None:
            chain.rpc.call("evm_mine", [])

        if args.profile is not None:
            profile_cold(fns[args.profile], n, mine)
            return
        warm = rounds(fns, n, lambda: None)
        cold = rounds(fns, n, mine)
        assert all(d.lookup(NUMBER) == want for d in dirs.values())
        policies["quorum 2-of-3"].close()  # type: ignore[union-attr]
        for c in (chain, *quorum.values()):
            c.close()
    report = Report("trust_lookup", {"rounds": n, "node": "anvil"})
    for when, samples in (("warm", warm), ("cold", cold)):
        for name in fns:
            report.samples(f"{name}/{when}", samples[name], "ms")
            r = report.ratio(f"{name}/{when}/over_eth_call", f"{name}/{when}", f"eth_call/{when}")
            report.value(f"{name}/{when}_x", r, "x")  # the ratio as a figure, for the docs' table
        for name in policies:  # what our parsing and checking add to the node's answer
            report.ratio(f"{name}/{when}/over_floor", f"{name}/{when}", f"header+proof/{when}")
    print(f"anvil, medians of {n} rounds; {machine_line()}")
    print(f"{'look-up':<16}{'warm ms':>9}{'ratio':>7}{'cold ms':>10}{'ratio':>7}")
    for name in fns:
        w, c = (report.figures[f"{name}/{when}"]["median"] for when in WHEN)
        rw, rc = (report.figures[f"{name}/{when}_x"]["median"] for when in WHEN)
        print(f"{name:<16}{w:9.3f}{rw:6.2f}x{c:10.3f}{rc:6.2f}x")
    report.write(args.json)


if __name__ == "__main__":
    main()
