"""The node's own floor under a verified look-up: ``eth_getProof`` against ``eth_call`` on anvil
as the chain grows.

A verified look-up cannot cost less than the node's answer to ``eth_getProof``.  This bench
asks anvil, at several chain lengths (``--blocks``, mined in bulk with ``anvil_mine``), for:

* ``eth_call``: the raw ``lookup(id)`` call (the unverified baseline);
* ``eth_getProof``: the proof of the record's three slots at ``latest``, unparsed;
* ``header_proof``: the batch a cold checkpoint look-up at depth 0 sends (the head's block and
  that proof), unparsed;
* ``verified``: that look-up itself (``ChainDirectory`` with the checkpoint policy, depth 0):
  the batch plus our parsing and checking.

Each round mines one block first (untimed), so every figure is cold; the four take turns in an
order shuffled every round (seeded).  Figures ``<blocks>/<name>_ms`` (medians of ``--rounds``)
and ratios ``<blocks>/<name>/over_eth_call``; the docs render the committed run
``docs/bench/proof_floor.json`` (docs/lightclient.rst).

    .venv/bin/python bench/proof_floor.py [--blocks 100 300 1000 3000] [--rounds 60] [--json PATH]
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
from ethvoip.impl.chain.trust import Freshness
from ethvoip.impl.crypto import IdentityKey, seeded_rng

NUMBER = "+33612345678"
NAMES = ("eth_call", "eth_getProof", "header_proof", "verified")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, nargs="+", default=[100, 300, 1000, 3000])
    ap.add_argument("--rounds", type=int, default=60)
    add_json_option(ap)
    args = ap.parse_args()
    logging.getLogger("ethvoip.directory").setLevel(logging.ERROR)
    report = Report("proof_floor", {"rounds": args.rounds, "node": "anvil", "cold": True})
    with start_anvil() as node:
        chain = RpcChain(node.url)
        world = deploy(chain, bytes(32))
        key = IdentityKey.generate(seeded_rng(b"bench"))
        register_numbers(world, {NUMBER: key})
        ks = world.keystore
        ident = identifier(NUMBER, world.salt)
        checkpoint = checkpoint_at(chain, latest_header(chain).block_hash)
        policy = CheckpointPolicy(chain, checkpoint, depth=0, freshness=Freshness(86400, time.time))
        directory = ChainDirectory(ks, world.salt, policy)
        call = [
            {"to": "0x" + ks.address.hex(), "data": ks.contract.encode_abi("lookup", args=[ident])},
            "latest",
        ]
        proof = [
            "0x" + ks.address.hex(),
            ["0x" + s.hex() for s in ks.layout.slots(ident)],
            "latest",
        ]
        batch = [("eth_getBlockByNumber", ["latest", False]), ("eth_getProof", proof)]
        fns: dict[str, Callable[[], object]] = {
            "eth_call": lambda: chain.rpc.call("eth_call", call),
            "eth_getProof": lambda: chain.rpc.call("eth_getProof", proof),
            "header_proof": lambda: chain.rpc.batch(batch),
            "verified": lambda: directory.lookup(NUMBER),
        }
        rng = random.Random(1)
        for blocks in sorted(args.blocks):
            height = int(chain.rpc.call("eth_blockNumber", []), 16)
            if blocks > height:
                chain.rpc.call("anvil_mine", [hex(blocks - height)])
            assert directory.lookup(NUMBER) == key.public_key  # links the new blocks, untimed
            samples: dict[str, list[float]] = {n: [] for n in NAMES}
            order = list(NAMES)
            for _ in range(args.rounds):
                chain.rpc.call("evm_mine", [])
                rng.shuffle(order)
                for name in order:
                    start = time.perf_counter()
                    fns[name]()
                    samples[name].append((time.perf_counter() - start) * 1e3)
            for name in NAMES:
                report.samples(f"{blocks}/{name}_ms", samples[name], "ms")
            for name in NAMES[1:]:
                r = report.ratio(f"{blocks}/{name}/over_eth_call", f"{blocks}/{name}_ms",
                                 f"{blocks}/eth_call_ms")  # fmt: skip
                report.value(f"{blocks}/{name}_x", r, "x")
        chain.close()
    print(f"anvil, cold, medians of {args.rounds} rounds per length; {machine_line()}")
    print(f"{'blocks':>7}" + "".join(f"{n:>16}" for n in NAMES))
    for blocks in sorted(args.blocks):
        row = f"{blocks:7d}"
        for name in NAMES:
            ms = report.figures[f"{blocks}/{name}_ms"]["median"]
            ratio = (
                ""
                if name == "eth_call"
                else f" {report.figures[f'{blocks}/{name}_x']['median']:4.2f}x"
            )
            row += f"{ms:10.3f}{ratio:>6}"
        print(row)
    report.write(args.json)


if __name__ == "__main__":
    main()
