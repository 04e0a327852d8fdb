"""Call-setup time on loopback, per phase, in the layout of the paper's Table I, against a
baseline secure call; medians of N calls.

* **ours** - a hardened call through the TLS-PSK SIP server (psk_handshake + TLS-PSK done at
  registration, as in the paper), keys looked up on the KeyStore contract with light-client
  proof verification, MIKEY in the INVITE, SRTP keys for both directions installed on both
  ends.  Run on the embedded chain (eth-tester) and on anvil (``--anvil`` starts
  ``node_modules``' anvil, ``--rpc URL`` uses a running node).
* **baseline** - the same SIP stack over certificate TLS (stdlib ``ssl``, a throwaway P-256 CA
  made here with pyca/cryptography), SRTP keys as RFC 4568 ``a=crypto`` lines in the SDP.

Each party (caller, callee, SIP server) has its own :class:`ChainDirectory`, as separate
devices would: nothing one proves is reused by another.  Each runs the checkpoint trust
policy (:mod:`ethvoip.impl.chain.checkpoint`) with a checkpoint pinned after provisioning
and confirmation depth 0 (the bench's chain moves only when it mines).
By default the chain does not move between calls, so after the first call each look-up
finds the peer's key proven at the current head (one round trip for the head);
``--new-block`` mines a block before every call, so every look-up proves afresh (what a
phone on a public chain sees, with a block every 12 s).

Call setup is timed from the caller's decision to INVITE (before the key look-up) until the
caller has installed its SRTP keys, which is after the callee installed its own (the callee
keys its streams before it answers).  Registration (TCP connect, psk_handshake, TLS-PSK
handshake, REGISTER with digest) is measured separately, before the calls, Eve's and the
baseline's registrations interleaved like the calls.

    .venv/bin/python bench/call_setup.py --calls 30 --anvil [--new-block] [--no-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from report import Report, add_json_option, machine_line  # bench/report.py, beside this script
from testbed.baseline import SdesPhone, TlsSipServer, throwaway_pki

from ethvoip.attacks.demo import ALICE, BOB, DOMAIN, EVE, HOST, SERVER, start_sip_server
from ethvoip.impl.call import ChainDirectory, IncomingSession, SecurePhone, Subscriber
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain, start_anvil
from ethvoip.impl.chain.checkpoint import checkpoint_at
from ethvoip.impl.chain.policies import TrustSettings, build_policy
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


class Ours:
    """The hardened system on ``chain``: server, Alice and Bob registered, one call at a time."""

    def __init__(self, chain: Chain, cache: bool, new_block: bool) -> None:
        self.chain, self.cache, self.new_block = chain, cache, new_block
        world = deploy(chain, salt=b"\x05" * 32)
        self.keys = {n: IdentityKey.generate() for n in (ALICE, BOB, EVE, SERVER)}
        register_numbers(world, self.keys)
        self.world = world
        checkpoint = checkpoint_at(chain, bytes(chain.latest_block()["hash"]))
        self.trust = TrustSettings(checkpoint, "checkpoint", depth=0, max_age=86400.0)

    def directory(self) -> ChainDirectory:  # one per party: no device reuses another's proofs
        policy = build_policy(self.trust, self.chain)
        return ChainDirectory(self.world.keystore, self.world.salt, policy, cache=self.cache)

    def phone(self, n: str) -> SecurePhone:
        sub = Subscriber(n, self.keys[n], f"pw-{n}")
        return SecurePhone(sub, self.directory(), DOMAIN, SERVER)

    async def start(self) -> None:
        """Start the server, register Alice and Bob."""
        self.server = await start_sip_server(self.directory(), self.keys[SERVER])
        self.phones = [self.phone(ALICE), self.phone(BOB)]
        for p in self.phones:
            await p.connect(self.server.address)
            assert await p.register()

    async def registration(self) -> float:
        """Eve registers afresh (connect, psk_handshake, TLS-PSK, REGISTER); the time it took."""
        p = self.phone(EVE)
        t = time.perf_counter()
        await p.connect(self.server.address)
        assert await p.register()
        spent = time.perf_counter() - t
        await p.close()
        return spent

    async def call(self) -> tuple[float, ...]:
        """One call, hung up after; the value of each of :data:`PHASES`."""
        if self.new_block:
            self.chain.increase_time(1)  # mines a block: both look-ups prove at a new head
        alice, bob = self.phones
        answering = asyncio.create_task(bob.answer())
        call = await alice.call(BOB)
        session = await answering
        assert isinstance(session, IncomingSession)
        ct, ce = call.times, session.times
        await alice.hang_up(call.call_id)
        await bob.hang_up(session.call_id)
        return (
            ct.key_retrieval,
            ce.key_retrieval,
            ct.key_generation,
            ct.pk_encryption,
            ct.invite_to_answer - ce.key_retrieval - ce.decryption - ce.srtp_derivation,
            ce.decryption,
            ct.srtp_derivation + ce.srtp_derivation,
            ct.total,
        )

    async def close(self) -> None:
        for p in self.phones:
            await p.close()
        await self.server.close()


class Baseline:
    """The same SIP stack on certificate TLS with SDES keys."""

    async def start(self) -> None:
        server_ctx, self.client_ctx = throwaway_pki(DOMAIN)
        store = InMemoryCredentialStore()
        for n in (ALICE, BOB, EVE):
            store.add(n, DOMAIN, f"pw-{n}")
        verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"bench-digest-secret-000000")
        core = RegistrarProxy(domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS")
        self.server = TlsSipServer(core, server_ctx)
        _, core.port = await self.server.start(HOST)
        self.phones = [self.phone(ALICE), self.phone(BOB)]
        for p in self.phones:
            await p.connect(self.server.address, DOMAIN)
            assert await p.register()

    async def registration(self) -> float:
        """Eve registers afresh (connect, certificate TLS, REGISTER); the time it took."""
        p = self.phone(EVE)
        t = time.perf_counter()
        await p.connect(self.server.address, DOMAIN)
        assert await p.register()
        spent = time.perf_counter() - t
        await p.close()
        return spent

    def phone(self, n: str) -> SdesPhone:
        return SdesPhone(Subscriber(n, None, f"pw-{n}"), DOMAIN, self.client_ctx)  # type: ignore[arg-type]

    async def call(self) -> float:
        alice, bob = self.phones
        answering = asyncio.create_task(bob.answer())
        call = await alice.call(BOB)
        inc = await answering
        await alice.hang_up(call.call_id)
        await bob.hang_up(inc.call_id)
        return call.setup

    async def close(self) -> None:
        for p in self.phones:
            await p.close()
        await self.server.close()


Samples = dict[str, list[float]]


async def _interleaved(
    rounds: int, ours: Callable[[], Awaitable[float]], base: Callable[[], Awaitable[float]]
) -> tuple[list[float], list[float]]:
    """``rounds`` samples of each, in an order shuffled every round."""
    mine: list[float] = []
    theirs: list[float] = []
    turns = [True, False]
    for _ in range(rounds):
        random.shuffle(turns)
        for turn in turns:
            (mine if turn else theirs).append(await (ours() if turn else base()))
            await asyncio.sleep(0.02)
    return mine, theirs


async def measure(
    chain: Chain, calls: int, cache: bool, new_block: bool, registrations: int
) -> tuple[Samples, Samples]:
    """Samples (seconds) of ours on ``chain`` and of the baseline, their registrations and then
    their calls interleaved in an order shuffled every round, so that load bursts on the
    shared machine fall on both alike."""
    ours, base = Ours(chain, cache, new_block), Baseline()
    await ours.start()
    await base.start()
    out: dict[str, list[float]] = {p: [] for p in PHASES}
    setups: list[float] = []
    turns = [True, False]
    try:
        ours_reg, base_reg = await _interleaved(registrations, ours.registration, base.registration)
        for _ in range(calls):
            random.shuffle(turns)
            for mine in turns:
                if mine:
                    for name, v in zip(PHASES, await ours.call(), strict=True):
                        out[name].append(v)
                else:
                    setups.append(await base.call())
                await asyncio.sleep(0.02)
    finally:
        await ours.close()
        await base.close()
    out[REGISTRATION] = ours_reg
    return out, {PHASES[-1]: setups, REGISTRATION: base_reg}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--registrations", type=int, default=20)
    ap.add_argument("--anvil", action="store_true", help="also run on a fresh local anvil")
    ap.add_argument("--rpc", help="also run on this node's JSON-RPC URL")
    ap.add_argument("--no-cache", action="store_true", help="prove every look-up afresh")
    ap.add_argument("--new-block", action="store_true", help="mine a block before each call")
    add_json_option(ap)
    args = ap.parse_args()
    cache = not args.no_cache
    columns: dict[str, Samples] = {}
    embedded = EmbeddedChain()
    try:
        columns["ours, eth-tester"], columns["baseline (with eth-tester)"] = asyncio.run(
            measure(embedded, args.calls, cache, args.new_block, args.registrations)
        )
    finally:
        embedded.close()
    node = start_anvil() if args.anvil else None
    url = node.url if node is not None else args.rpc
    if url:
        rpc = RpcChain(url)
        try:
            columns["ours, anvil"], columns["baseline (with anvil)"] = asyncio.run(
                measure(rpc, args.calls, cache, args.new_block, args.registrations)
            )
        finally:
            rpc.close()
            if node is not None:
                node.close()

    print(f"{machine_line()}; median of {args.calls} calls, {args.registrations} registrations")
    print(f"per-block key cache: {'on' if cache else 'off (every look-up proven)'}")
    print(f"chain between calls: {'a new block before each' if args.new_block else 'still'}")
    print("each 'ours' column ran interleaved with the baseline column after it")
    names = list(columns)
    print(f"  {'phase':<50}" + "".join(f"{n:>28}" for n in names))
    for row in (*PHASES, REGISTRATION):
        cells = [statistics.median(columns[n][row]) if row in columns[n] else None for n in names]
        print(
            f"  {row:<50}"
            + "".join("{:>28}".format("-" if c is None else f"{c * 1e3:.2f} ms") for c in cells)
        )
    report = json_report(columns, args)
    for backend, entry in report.backends.items():
        for what in ("call_setup_ms", "registration_ms"):
            ratio = entry[what]["ratio"]
            print(f"  {backend} {what.removesuffix('_ms')}, ours / baseline: {ratio:.2f}x")
    print("  paper, Table I (testnet, Android): key retrieval 507 ms, call setup 1218 ms")
    report.write(args.json)


class CallReport(Report):
    """The run's report, with the per-backend summary issue 17 asks for: ``backends[name]`` has
    ``call_setup_ms`` and ``registration_ms``, each with ``ours``, ``baseline`` and ``ratio``."""

    backends: dict[str, dict[str, dict[str, float]]]

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "backends": self.backends}


def json_report(columns: dict[str, Samples], args: argparse.Namespace) -> CallReport:
    settings = {
        "calls": args.calls,
        "registrations": args.registrations,
        "cache": not args.no_cache,
        "new_block": args.new_block,
    }
    report = CallReport("call_setup", settings)
    report.backends = {}
    names = list(columns)
    for ours, base in zip(names[::2], names[1::2], strict=True):
        backend = ours.removeprefix("ours, ")
        entry: dict[str, dict[str, float]] = {}
        for what, row in (("call_setup_ms", PHASES[-1]), ("registration_ms", REGISTRATION)):
            mine = report.samples(
                f"{backend}/{what}/ours", [v * 1e3 for v in columns[ours][row]], "ms"
            )
            theirs = report.samples(
                f"{backend}/{what}/baseline", [v * 1e3 for v in columns[base][row]], "ms"
            )
            ratio = report.ratio(
                f"{backend}/{what}", f"{backend}/{what}/ours", f"{backend}/{what}/baseline"
            )
            entry[what] = {"ours": mine["median"], "baseline": theirs["median"], "ratio": ratio}
        for phase in PHASES[:-1]:
            report.samples(
                f"{backend}/phase/{phase}", [v * 1e3 for v in columns[ours][phase]], "ms"
            )
        report.backends[backend] = entry
    return report


if __name__ == "__main__":
    main()
