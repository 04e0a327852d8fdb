"""Call-setup time, per phase, in the layout of the paper's Table I (median of N setups).

Each setup is one hardened call on loopback through the TLS-PSK SIP server, with the keys
looked up on the KeyStore contract with light-client proof verification: the caller's
look-up, key generation, the MIKEY message, INVITE .. 200 OK, the callee's look-up and
decryption, SRTP derivation, and the total from dial to SRTP ready.  Both phones are
registered once; every call is a new INVITE with a new MIKEY exchange.

    .venv/bin/python bench/call_setup.py --calls 20 [--rpc http://127.0.0.1:8545]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics

from ethvoip.attacks.demo import ALICE, BOB, DOMAIN, EVE, SERVER, _server
from ethvoip.impl.call import ChainDirectory, IncomingSession, SecurePhone, Subscriber
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain
from ethvoip.impl.crypto import IdentityKey

PHASES = (
    "key retrieval, caller (proof verified)",
    "key retrieval, callee (proof verified)",
    "symmetric key generation",
    "public-key encryption + signature",
    "SIP signalling (INVITE .. 200 OK)",
    "private-key decryption + verification",
    "SRTP key derivation",
    "call setup (dial .. SRTP ready)",
)


async def measure(chain: Chain, calls: int) -> dict[str, list[float]]:
    world = deploy(chain, salt=b"\x05" * 32)
    keys = {n: IdentityKey.generate() for n in (ALICE, BOB, EVE, SERVER)}
    register_numbers(world, keys)
    directory = ChainDirectory(world.keystore, world.salt)
    server = await _server(directory, keys[SERVER])
    phones = [
        SecurePhone(Subscriber(n, keys[n], f"pw-{n}"), directory, DOMAIN, SERVER)
        for n in (ALICE, BOB)
    ]
    out: dict[str, list[float]] = {p: [] for p in PHASES}
    try:
        for p in phones:
            await p.connect(server.address)
            assert await p.register()
        alice, bob = phones
        for _ in range(calls):
            answering = asyncio.create_task(bob.answer())
            call = await alice.call(BOB)
            session = await answering
            assert isinstance(session, IncomingSession)
            ct, ce = call.times, session.times
            values = (
                ct.key_retrieval,
                ce.key_retrieval,
                ct.key_generation,
                ct.pk_encryption,
                ct.invite_to_answer - ce.key_retrieval - ce.decryption - ce.srtp_derivation,
                ce.decryption,
                ct.srtp_derivation + ce.srtp_derivation,
                ct.total,
            )
            for name, v in zip(PHASES, values, strict=True):
                out[name].append(v * 1000)
            await alice.hang_up(call.call_id)
            await asyncio.sleep(0.05)
    finally:
        for p in phones:
            await p.close()
        await server.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--rpc", help="a real node's JSON-RPC URL (anvil) instead of eth-tester")
    args = ap.parse_args()
    chain: Chain = RpcChain(args.rpc) if args.rpc else EmbeddedChain()
    try:
        results = asyncio.run(measure(chain, args.calls))
    finally:
        chain.close()
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{'anvil' if args.rpc else 'eth-tester'}, median of {args.calls} call setups"
    )
    for name in PHASES:
        print(f"  {name:<42} {statistics.median(results[name]):8.2f} ms")
    print("  paper, Table I: key retrieval 507 ms, call setup 1218 ms")


if __name__ == "__main__":
    main()
