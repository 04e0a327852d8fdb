"""Call-setup time on loopback, per phase, in the layout of the paper's Table I, against a
baseline secure call; medians of N calls.

* **ours** - a hardened call through the TLS-PSK SIP server (psk_handshake + TLS-PSK done at
  registration, as in the paper), keys looked up on the KeyStore contract with light-client
  proof verification, MIKEY in the INVITE, SRTP keys for both directions installed on both
  ends.  Run on the embedded chain (eth-tester) and on anvil (``--anvil`` starts
  ``node_modules``' anvil, ``--rpc URL`` uses a running node).
* **baseline** - the same SIP stack over certificate TLS (stdlib ``ssl``, a throwaway P-256 CA
  made here with pyca/cryptography), SRTP keys as RFC 4568 ``a=crypto`` lines in the SDP.

Call setup is timed from the caller's decision to INVITE (before the key look-up) until the
caller has installed its SRTP keys, which is after the callee installed its own (the callee
keys its streams before it answers).  Registration (TCP connect, psk_handshake, TLS-PSK
handshake, REGISTER with digest) is measured separately.

    .venv/bin/python bench/call_setup.py --calls 30 --anvil [--no-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ethvoip.attacks.demo import ALICE, BOB, DOMAIN, EVE, HOST, SERVER, _server
from ethvoip.impl.call import ChainDirectory, IncomingSession, SecurePhone, Subscriber
from ethvoip.impl.call.baseline import SdesPhone, TlsSipServer, throwaway_pki
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain, start_anvil
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy

PHASES = (
    "key retrieval, caller (proof verified)",
    "key retrieval, callee (proof verified)",
    "symmetric key generation",
    "public-key encryption + signature",
    "SIP signalling (INVITE .. 200 OK)",
    "private-key decryption + verification",
    "SRTP key derivation (both directions)",
    "call setup (INVITE decision .. keys on both ends)",
)
REGISTRATION = "registration (handshake + TLS-PSK + REGISTER)"
REGISTRATIONS = 10


async def _median_of(n: int, once: Callable[[], Coroutine[Any, Any, float]]) -> float:
    return statistics.median([await once() for _ in range(n)])


async def measure(chain: Chain, calls: int, cache: bool) -> dict[str, float]:
    world = deploy(chain, salt=b"\x05" * 32)
    keys = {n: IdentityKey.generate() for n in (ALICE, BOB, EVE, SERVER)}
    register_numbers(world, keys)
    directory = ChainDirectory(world.keystore, world.salt, cache=cache)
    server = await _server(directory, keys[SERVER])

    def phone(n: str) -> SecurePhone:
        return SecurePhone(Subscriber(n, keys[n], f"pw-{n}"), directory, DOMAIN, SERVER)

    async def registration() -> float:
        p = phone(EVE)
        t = time.perf_counter()
        await p.connect(server.address)
        assert await p.register()
        spent = time.perf_counter() - t
        await p.close()
        return spent

    out: dict[str, list[float]] = {p: [] for p in PHASES}
    phones = [phone(ALICE), phone(BOB)]
    try:
        reg = await _median_of(REGISTRATIONS, registration)
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
                out[name].append(v)
            await alice.hang_up(call.call_id)
            await bob.hang_up(session.call_id)
            await asyncio.sleep(0.02)
    finally:
        for p in phones:
            await p.close()
        await server.close()
    medians = {name: statistics.median(v) for name, v in out.items()}
    medians[REGISTRATION] = reg
    return medians


async def measure_baseline(calls: int) -> dict[str, float]:
    server_ctx, client_ctx = throwaway_pki(DOMAIN)
    store = InMemoryCredentialStore()
    for n in (ALICE, BOB, EVE):
        store.add(n, DOMAIN, f"pw-{n}")
    verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"bench-digest-secret-000000")
    core = RegistrarProxy(domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS")
    server = TlsSipServer(core, server_ctx)
    _, core.port = await server.start(HOST)

    def phone(n: str) -> SdesPhone:
        return SdesPhone(Subscriber(n, None, f"pw-{n}"), DOMAIN, client_ctx)  # type: ignore[arg-type]

    async def registration() -> float:
        p = phone(EVE)
        t = time.perf_counter()
        await p.connect(server.address, DOMAIN)
        assert await p.register()
        spent = time.perf_counter() - t
        await p.close()
        return spent

    phones = [phone(ALICE), phone(BOB)]
    setups = []
    try:
        reg = await _median_of(REGISTRATIONS, registration)
        for p in phones:
            await p.connect(server.address, DOMAIN)
            assert await p.register()
        alice, bob = phones
        for _ in range(calls):
            answering = asyncio.create_task(bob.answer())
            call = await alice.call(BOB)
            inc = await answering
            setups.append(call.setup)
            await alice.hang_up(call.call_id)
            await bob.hang_up(inc.call_id)
            await asyncio.sleep(0.02)
    finally:
        for p in phones:
            await p.close()
        await server.close()
    return {PHASES[-1]: statistics.median(setups), REGISTRATION: reg}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cpu, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--anvil", action="store_true", help="also run on a fresh local anvil")
    ap.add_argument("--rpc", help="also run on this node's JSON-RPC URL")
    ap.add_argument("--no-cache", action="store_true", help="prove every look-up afresh")
    args = ap.parse_args()
    cache = not args.no_cache
    columns: dict[str, dict[str, float]] = {}
    embedded = EmbeddedChain()
    try:
        columns["ours, eth-tester"] = asyncio.run(measure(embedded, args.calls, cache))
    finally:
        embedded.close()
    node = start_anvil() if args.anvil else None
    url = node.url if node is not None else args.rpc
    if url:
        rpc = RpcChain(url)
        try:
            columns["ours, anvil"] = asyncio.run(measure(rpc, args.calls, cache))
        finally:
            rpc.close()
            if node is not None:
                node.close()
    columns["baseline TLS+SDES"] = asyncio.run(measure_baseline(args.calls))

    print(f"{machine()}; median of {args.calls} calls, {REGISTRATIONS} registrations")
    print(f"per-block key cache: {'on' if cache else 'off (every look-up proven)'}")
    names = list(columns)
    print(f"  {'phase':<50}" + "".join(f"{n:>20}" for n in names))
    for row in (*PHASES, REGISTRATION):
        cells = [columns[n].get(row) for n in names]
        print(
            f"  {row:<50}"
            + "".join("{:>20}".format("-" if c is None else f"{c * 1e3:.2f} ms") for c in cells)
        )
    base = columns["baseline TLS+SDES"][PHASES[-1]]
    for n in names[:-1]:
        print(f"  {n} call setup / baseline: {columns[n][PHASES[-1]] / base:.2f}x")
    print("  paper, Table I (testnet, Android): key retrieval 507 ms, call setup 1218 ms")


if __name__ == "__main__":
    main()
