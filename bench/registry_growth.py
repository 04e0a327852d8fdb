"""Costs as the registry grows: gas per registration, verified look-up time and proof size at
10^2 .. 10^5 subscribers, on anvil, the same KeyStore contract throughout.

What a subscriber pays and waits for must not grow with the number of other subscribers.  The
registry is filled by a fast scripted path, then measured with the real one:

* **filling** - one subscriber is registered for real (commit, register, approve); the storage
  words that left behind (the three ``records[identifier]`` slots and the ``keys[keyHash]``
  mark) are read back, and every further subscriber gets the same words at its own slots
  (its identifier, its own 64-byte key) with ``anvil_setStorageAt``, in JSON-RPC batches,
  then a block is mined so that the state root commits to them.  The storage trie ends up with
  the shape real registrations give it (commitments are deleted by ``register``, so none stay);
* **measuring** - at each size, a fresh subscriber is registered for real (gas of commit,
  register and approve, from the receipts) and random subscribers are looked up: a raw
  ``eth_call`` of ``lookup`` (trusts the node) against a cold verified look-up (header and
  EIP-1186 proof in one batched round trip, every hash checked), interleaved.  The proof size
  is the bytes of the account branch plus the record's storage branches.

Goal (issue 17): a look-up at 10^5 within 1.2x of one at 10^2.

    .venv/bin/python bench/registry_growth.py [--sizes 100,1000,10000,100000] [--lookups 200]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from eth_utils import keccak
from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.chain import KeyStoreClient, RpcChain, identifier, key_hash, start_anvil
from ethvoip.impl.chain.proofs import LookupProof, RecordLayout, verify_lookup
from ethvoip.impl.crypto import IdentityKey

SALT = bytes(32)
BATCH = 2000  # setStorageAt calls per JSON-RPC batch


def number(i: int) -> str:
    return f"+3361{i:07d}"


def mapping_slot(ks: KeyStoreClient, label: str) -> int:
    [entry] = [e for e in ks.artifact.storage_layout["storage"] if e["label"] == label]
    return int(entry["slot"])


def word(n: int | bytes) -> str:
    raw = n if isinstance(n, bytes) else n.to_bytes(32, "big")
    return "0x" + raw.rjust(32, b"\0").hex()


class Registry:
    """A KeyStore on anvil, filled to a size by the scripted path, measured by the real one."""

    def __init__(self, chain: RpcChain, rng: random.Random) -> None:
        self.chain, self.rng = chain, rng
        self.op = chain.accounts[0]
        self.ks = KeyStoreClient.deploy(chain, self.op)
        self.layout: RecordLayout = self.ks.layout
        self.keys_slot = mapping_slot(self.ks, "keys")
        self.size = 0
        self.gas: list[dict[str, int]] = []
        self.register_real()
        template = self.storage_of(identifier(number(0), SALT), self.first_key)
        self.record_words, self.key_word = template

    def register_real(self) -> None:
        """Commit, register and approve a fresh subscriber; record the gas of each call."""
        i = self.size
        key = IdentityKey.from_private_bytes(keccak(b"registry growth %d" % i))
        who = self.chain.accounts[1 + i % 8]
        ident = identifier(number(i), SALT)
        reg = self.ks.registration(ident, key, who, secret=keccak(b"secret %d" % i))
        gas = {"commit": self.ks.commit(reg.commitment, who).gas_used}
        self.chain.increase_time(self.ks.call("minCommitmentAge"))
        gas["register"] = self.ks.register(reg, who).gas_used
        gas["approve"] = self.ks.approve(ident, reg.public_key, 0, self.op, registrant=who).gas_used
        if i == 0:
            self.first_key = reg.public_key
        self.gas.append(gas)
        self.size += 1

    def storage_of(self, ident: bytes, public_key: bytes) -> tuple[list[str], str]:
        """The words a registration left: the record's slots and the key's spent mark."""
        addr = "0x" + self.ks.address.hex()
        slots = self.layout.slots(ident)
        words = [self.chain.rpc.call("eth_getStorageAt", [addr, word(s), "latest"]) for s in slots]
        mark = self.key_slot(public_key)
        return words, self.chain.rpc.call("eth_getStorageAt", [addr, word(mark), "latest"])

    def key_slot(self, public_key: bytes) -> bytes:
        return keccak(key_hash(public_key) + self.keys_slot.to_bytes(32, "big"))

    def fill_to(self, size: int) -> float:
        """Scripted subscribers up to ``size``; returns the seconds it took."""
        start = time.perf_counter()
        addr = "0x" + self.ks.address.hex()
        calls: list[tuple[str, list[str]]] = []
        for i in range(self.size, size):
            public_key = keccak(b"x%d" % i) + keccak(b"y%d" % i)
            slots = self.layout.slots(identifier(number(i), SALT))
            x, y = public_key[:32], public_key[32:]
            values = [word(x), word(y), self.record_words[2]]
            calls += [
                ("anvil_setStorageAt", [addr, word(s), v])
                for s, v in zip(slots, values, strict=True)
            ]
            calls.append(
                ("anvil_setStorageAt", [addr, word(self.key_slot(public_key)), self.key_word])
            )
            if len(calls) >= BATCH:
                self.chain.rpc.batch(calls)
                calls = []
        if calls:
            self.chain.rpc.batch(calls)
        self.chain.rpc.call("evm_mine", [])
        self.size = max(self.size, size)
        return time.perf_counter() - start


def interleaved(
    fns: dict[str, Callable[[], object]], n: int, rng: random.Random
) -> dict[str, list[float]]:
    """Samples of each function, taking turns in a shuffled order (load hits all alike)."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for _ in range(n):
        rng.shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            fns[name]()
            out[name].append((time.perf_counter() - t0) * 1e3)
    return out


def proof_bytes(proof: LookupProof) -> int:
    account = sum(len(n) for n in proof.account.nodes)
    return account + sum(len(n) for s in proof.account.storage for n in s.nodes)


def measure(reg: Registry, report: Report, lookups: int) -> None:
    ks, chain, rng = reg.ks, reg.chain, reg.rng
    reg.register_real()
    n = reg.size
    gas = reg.gas[-1]
    for call, used in gas.items():
        report.value(f"{n}/gas_{call}", used, "gas")
    report.value(f"{n}/gas_total", sum(gas.values()), "gas")
    trusted = bytes(chain.latest_block()["hash"])
    idents = [identifier(number(rng.randrange(n)), SALT) for _ in range(lookups)]
    it = iter(idents * 2)
    sizes: list[int] = []

    def raw() -> bytes:
        data = ks.contract.encode_abi("lookup", args=[next(it)])
        out = chain.rpc.call("eth_call", [{"to": "0x" + ks.address.hex(), "data": data}, "latest"])
        return bytes.fromhex(out[2:])

    def cold() -> object:
        ident = next(it)
        proof = ks.lookup_proof(ident, trusted)
        sizes.append(proof_bytes(proof))
        return verify_lookup(trusted, ks.address, ident, ks.layout, proof)

    for _ in range(5):  # warm the connection and the interpreter's caches
        raw(), cold()
    it = iter(idents * 2)
    proofs = [(i, ks.lookup_proof(i, trusted)) for i in idents[:lookups]]
    checks = iter(proofs * 2)

    def check() -> object:
        ident, proof = next(checks)
        return verify_lookup(trusted, ks.address, ident, ks.layout, proof)

    samples = interleaved({"eth_call": raw, "verified_cold": cold, "check": check}, lookups, rng)
    report.samples(f"{n}/check_ms", samples["check"], "ms")
    report.samples(f"{n}/eth_call_ms", samples["eth_call"], "ms")
    report.samples(f"{n}/verified_cold_ms", samples["verified_cold"], "ms")
    report.samples(f"{n}/proof_bytes", sizes, "bytes")
    report.ratio(f"{n}/verified_over_eth_call", f"{n}/verified_cold_ms", f"{n}/eth_call_ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--lookups", type=int, default=200)
    add_json_option(ap)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    report = Report("registry_growth", {"sizes": sizes, "lookups": args.lookups})
    rng = random.Random(7)
    with start_anvil() as node:
        chain = RpcChain(node.url)
        reg = Registry(chain, rng)
        for size in sizes:
            took = reg.fill_to(size - 1)  # the measured registration makes it `size`
            report.value(f"{size}/fill_seconds", took, "s")
            measure(reg, report, args.lookups)
        chain.close()
    first, last = sizes[0], sizes[-1]
    growth = report.ratio(
        f"verified_cold_{last}_over_{first}",
        f"{last}/verified_cold_ms",
        f"{first}/verified_cold_ms",
    )
    print(f"registry growth on anvil; {machine_line()}; {args.lookups} look-ups per size")
    head = ("subscribers", "gas c+r+a", "eth_call", "verified", "ratio", "proof", "checking")
    print("{:>12} {:>10} {:>10} {:>10} {:>6} {:>8} {:>10}".format(*head))
    for size in sizes:
        f = report.figures
        print(
            f"{size:>12} {f[f'{size}/gas_total']['median']:>10.0f}"
            f" {f[f'{size}/eth_call_ms']['median']:>8.3f}ms"
            f" {f[f'{size}/verified_cold_ms']['median']:>8.3f}ms"
            f" {report.ratios[f'{size}/verified_over_eth_call']['ratio']:>5.2f}x"
            f" {f[f'{size}/proof_bytes']['median']:>7.0f}B"
            f" {f[f'{size}/check_ms']['median']:>8.3f}ms"
        )
    print(f"verified look-up at {last} / at {first}: {growth:.2f}x (goal <= 1.2x)")
    report.write(args.json)


if __name__ == "__main__":
    main()
