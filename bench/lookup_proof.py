"""Look-up with light-client proof verification vs a plain eth_call, on anvil.

Both answer "what key is registered for this identifier": the plain call trusts the node;
the verified look-up fetches an EIP-1186 proof (``eth_getProof``) and checks it against a
trusted block hash.  Median of N runs each (N >= 50); target: verified <= 1.5x plain.

Both speak raw JSON-RPC over the same kept-alive connection (``RpcChain.rpc``), so the fair
baseline is a raw ``eth_call`` (its 160-byte answer decoded by hand); the call through web3's
contract layer is shown too, since that is what ``KeyStoreClient.lookup`` costs.  Two
verified figures:

* **warm**: a checkpoint already verified (what every look-up after the first one at a
  checkpoint costs): one ``eth_getProof``, storage proofs checked, header and account state
  reused from :class:`~ethvoip.impl.chain.proofs.VerifiedCache`;
* **cold**: a checkpoint seen for the first time: header and proof in one batched round
  trip, everything verified (no cache).

Run: ``.venv/bin/python bench/lookup_proof.py [N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.chain import KeyStoreClient, RpcChain, identifier, start_anvil
from ethvoip.impl.chain.proofs import VerifiedRecord, verify_lookup
from ethvoip.impl.crypto import IdentityKey

TARGET = 1.5


def samples_ms(fns: dict[str, Callable[[], object]], n: int) -> dict[str, list[float]]:
    """Times (ms) of each function.  They take turns, so that a burst of load on the shared
    machine hits them all alike, in an order shuffled every round (seeded), since whichever
    runs right after the heavy web3 call finds the CPU caches cold."""
    for fn in fns.values():
        for _ in range(5):  # warm-up (connections, caches)
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    rng = random.Random(1)
    for _ in range(n):
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="?", type=int, default=200)
    add_json_option(ap)
    args = ap.parse_args()
    n = max(50, args.runs)
    with start_anvil() as node:
        chain = RpcChain(node.url)
        op, alice = chain.accounts[0], chain.accounts[1]
        ks = KeyStoreClient.deploy(chain, op)
        key = IdentityKey.from_private_bytes(b"\x01" * 32)
        ident = identifier("+33612345678", bytes(32))
        reg = ks.registration(ident, key, alice, secret=b"\x07" * 32)
        ks.commit(reg.commitment, alice)
        chain.increase_time(ks.call("minCommitmentAge"))
        ks.register(reg, alice)
        ks.approve(ident, reg.public_key, 0, op, registrant=alice)
        trusted = bytes(chain.latest_block()["hash"])

        assert ks.verified_lookup(ident, trusted).public_key == ks.lookup(ident)[0]
        data = ks.contract.encode_abi("lookup", args=[ident])
        call = [{"to": "0x" + ks.address.hex(), "data": data}, "latest"]

        def raw_lookup() -> bytes:
            out = bytes.fromhex(chain.rpc.call("eth_call", call)[2:])
            return out[96:160]  # ABI words: offset, version, length, then the 64 key bytes

        def cold_lookup() -> VerifiedRecord:
            proof = ks.lookup_proof(ident, trusted)  # eth_getBlockByHash + eth_getProof, batched
            return verify_lookup(trusted, ks.address, ident, ks.layout, proof)

        assert raw_lookup() == ks.lookup(ident)[0] == cold_lookup().public_key
        # Checking alone, on proofs fetched once.
        proof = ks.lookup_proof(ident, trusted)
        header = ks.proven.verify_header(trusted, proof.header_rlp)
        got = samples_ms(
            {
                "plain": raw_lookup,
                "web3": lambda: ks.lookup(ident),
                "warm": lambda: ks.verified_lookup(ident, trusted),
                "cold": cold_lookup,
                "check_warm": lambda: ks.proven.verify_lookup(
                    header, ks.address, ident, ks.layout, proof.account
                ),
                "check_cold": lambda: verify_lookup(trusted, ks.address, ident, ks.layout, proof),
            },
            n,
        )
        chain.close()
    report = Report("lookup_proof", {"runs": n, "node": "anvil"})
    # Named <column>/<variant>, the shape docs/lightclient.rst's transposed table reads.
    t = {name: report.samples(f"ms/{name}", xs, "ms")["median"] for name, xs in got.items()}
    for name in got:
        report.ratio(f"over_plain/{name}", f"ms/{name}", "ms/plain")
    print(f"anvil look-up, median of {n}; {machine_line()}")
    plain = t["plain"]
    print(f"plain eth_call lookup(), raw JSON-RPC      {plain:8.3f} ms")
    print(f"plain eth_call lookup(), via web3          {t['web3']:8.3f} ms")
    print(
        f"verified, warm (eth_getProof, check)       {t['warm']:8.3f} ms  {t['warm'] / plain:5.2f}x"
    )
    print(f"  of which checking                        {t['check_warm']:8.3f} ms")
    print(
        f"verified, cold (header+proof batched, all) {t['cold']:8.3f} ms  {t['cold'] / plain:5.2f}x"
    )
    print(f"  of which checking                        {t['check_cold']:8.3f} ms")
    ratio = t["warm"] / plain
    print(f"warm ratio to raw eth_call {ratio:.2f}x (target <= {TARGET}x: ", end="")
    print("met)" if ratio <= TARGET else "MISSED)")
    report.write(args.json)


if __name__ == "__main__":
    main()
