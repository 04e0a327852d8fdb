"""Cost of the sync-committee trust policy: BLS per update, and per look-up amortised.

On the embedded chain (eth-tester) with the simulated beacon chain (minimal preset: 32-member
committee).  Medians of N runs:

* **BLS verify**: one ``FastAggregateVerify`` of 32 public keys (the spec's arkworks backend),
  and once the pure-Python py_ecc backend for comparison (a few runs: it is slow);
* **update**: ``LightClient.process`` of one served update (SSZ decode, fork digest, branches,
  the signature, the spec's ``process_light_client_update``);
* **look-up, new head**: ``SyncCommitteePolicy.trusted_block()`` when the head moved (one
  update verified, plus the node's header checked against the vouched hash);
* **look-up, same head**: the same when nothing new was finalized (the served update is not
  newer: decoded and skipped before any BLS work);
* **amortised**: one update serving L look-ups costs ``(new + (L - 1) * same) / L``.  On a real
  network one update per period (about 27 h on mainnet) carries the committee forward and a
  finality update about every 6.4 min moves the head.

Signing (the simulated full node's side) is shown too, though no client pays it.

Run: ``.venv/bin/python bench/sync_committee.py [N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from eth_consensus_specs.utils import bls
from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.chain.beacon_sim import SimulatedBeacon, aggregate_signature, committee_keys
from ethvoip.impl.chain.sync_committee import COMMITTEE_SIZE, LightClient, SyncCommitteePolicy


def samples_ms(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="?", type=int, default=50)
    add_json_option(ap)
    args = ap.parse_args()
    n = max(20, args.runs)
    # Named ms/<figure>: one column of the transposed table in docs/lightclient_sync_committee.rst.
    report = Report("sync_committee", {"runs": n, "committee": COMMITTEE_SIZE, "preset": "minimal"})
    secrets, committee = committee_keys(b"bench", 0)
    pubkeys = list(committee.pubkeys)
    message = b"\x01" * 32
    signature = aggregate_signature(secrets, range(COMMITTEE_SIZE), message)
    verify = report.samples(
        "ms/bls_verify_arkworks",
        samples_ms(lambda: bls.FastAggregateVerify(pubkeys, message, signature), n),
        "ms",
    )["median"]

    from py_ecc.bls import G2ProofOfPossession  # web3's dependency: the pure-Python backend

    raw_keys = [bytes(pk) for pk in pubkeys]
    py_ecc = report.samples(
        "ms/bls_verify_py_ecc",
        samples_ms(
            lambda: G2ProofOfPossession.FastAggregateVerify(raw_keys, message, signature), 3
        ),
        "ms",
    )["median"]

    chain = EmbeddedChain()
    beacon = SimulatedBeacon(chain, b"bench")
    client = LightClient(
        beacon.checkpoint_root, beacon.bootstrap(), beacon.genesis_validators_root, lambda: 10**9
    )
    client.process(beacon.latest_update())
    served = []
    signing = []
    for _ in range(n):
        chain.increase_time(1)
        start = time.perf_counter()
        beacon.follow_head()
        signing.append(time.perf_counter() - start)
        served.append(beacon.latest_update())
    updates = iter(served)
    update = report.samples(
        "ms/update", samples_ms(lambda: client.process(next(updates)), n), "ms"
    )["median"]

    policy = SyncCommitteePolicy.for_chain(chain, clock=lambda: 0.0)
    policy.trusted_block()
    new_head, same_head = [], []
    for _ in range(n):
        chain.increase_time(1)
        start = time.perf_counter()
        policy.trusted_block()  # the beacon signs the new head inside: subtract its signing
        new_head.append(time.perf_counter() - start)
        start = time.perf_counter()
        policy.trusted_block()
        same_head.append(time.perf_counter() - start)
    sign = report.samples("ms/sign_update", [x * 1e3 for x in signing], "ms")["median"]
    # the new head's look-up less the beacon's signing inside it (median of each)
    new = statistics.median(new_head) * 1e3 - sign
    report.value("ms/lookup_new_head", new, "ms")
    same = report.samples("ms/lookup_same_head", [x * 1e3 for x in same_head], "ms")["median"]

    print(f"# {machine_line()}")
    print(f"# N = {n}, committee = {COMMITTEE_SIZE} (minimal preset), medians in ms")
    print(f"BLS FastAggregateVerify, arkworks      {verify:8.2f}")
    print(f"BLS FastAggregateVerify, py_ecc        {py_ecc:8.2f}   (3 runs)")
    print(f"update verified (LightClient.process)  {update:8.2f}")
    print(f"look-up, new head (minus signing)      {new:8.2f}")
    print(f"look-up, same head                     {same:8.2f}")
    for looks in (1, 10, 100):
        amortised = (new + (looks - 1) * same) / looks
        report.value(f"ms/amortised_{looks}", amortised, "ms")
        print(f"amortised, 1 update per {looks:3d} look-ups  {amortised:8.2f}")
    print(f"simulated full node: sign one update   {sign:8.2f}")
    report.write(args.json)


if __name__ == "__main__":
    main()
