"""Look-up with light-client proof verification vs a plain eth_call, on anvil.

Both answer "what key is registered for this identifier": the plain call trusts the node;
the verified look-up fetches the header and an EIP-1186 proof (eth_getBlockByHash +
eth_getProof) and checks them against a trusted block hash.  Median of N runs each (N >= 50);
target: verified <= 1.5x plain.  The verified path speaks raw JSON-RPC, so the fair baseline
is a raw ``eth_call`` too (decoding its 96-byte answer by hand); the call through web3's
contract layer is shown as well, since that is what ``KeyStoreClient.lookup`` costs.
Run: ``.venv/bin/python bench/lookup_proof.py [N]``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from ethvoip.impl.chain import KeyStoreClient, RpcChain, identifier, key_hash, start_anvil
from ethvoip.impl.chain.proofs import verify_lookup
from ethvoip.impl.crypto import IdentityKey

TARGET = 1.5


def median_ms(fn: Callable[[], object], n: int) -> float:
    for _ in range(5):  # warm-up (connections, caches)
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    n = max(50, int(sys.argv[1]) if len(sys.argv) > 1 else 200)
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
        ks.approve(ident, key_hash(reg.public_key), 1, op)
        trusted = bytes(chain.latest_block()["hash"])

        assert ks.verified_lookup(ident, trusted).public_key == ks.lookup(ident)[0]
        data = ks.contract.encode_abi("lookup", args=[ident])
        call = [{"to": ks.address, "data": data}, "latest"]

        def raw_lookup() -> bytes:
            out = bytes.fromhex(chain._rpc("eth_call", call)[2:])
            return out[96:160]  # ABI words: offset, version, length, then the 64 key bytes

        assert raw_lookup() == ks.lookup(ident)[0]
        plain_web3 = median_ms(lambda: ks.lookup(ident), n)
        plain = median_ms(raw_lookup, n)
        verified = median_ms(lambda: ks.verified_lookup(ident, trusted), n)
        # Where the verified look-up's time goes: fetching vs checking.
        proof = ks.lookup_proof(ident, trusted)
        check = median_ms(lambda: verify_lookup(trusted, ks.address, ident, ks.layout, proof), n)
        chain.close()
    ratio = verified / plain
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"anvil look-up, median of {n}; {machine}")
    print(f"plain eth_call lookup(), raw JSON-RPC {plain:8.3f} ms")
    print(f"plain eth_call lookup(), via web3     {plain_web3:8.3f} ms")
    print(f"verified (fetch header+proof, check)  {verified:8.3f} ms")
    print(f"  of which verification alone        {check:8.3f} ms")
    print(f"ratio to raw eth_call {ratio:.2f}x (target <= {TARGET}x: ", end="")
    print("met)" if ratio <= TARGET else "MISSED)")


if __name__ == "__main__":
    main()
