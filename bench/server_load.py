"""Servers under stalled and slow clients: legitimate work with and without an attack held
open against it; medians on loopback.

* **SIP server** (psk_handshake + TLS-PSK, :class:`~ethvoip.impl.call.SecureSipServer`):
  registration (connect, psk_handshake, TLS-PSK, REGISTER) and call setup (hardened MIKEY
  call, keys on both ends), first unloaded, then with ``--silent`` connections that never
  send a byte and ``--stalled`` subscribers that finish the psk_handshake and never send a
  ClientHello (the attack that stopped every registration when TLS ran on a thread pool),
  all held open while measuring.  The attack comes from 40 loopback addresses
  (127.0.0.2 ..) so that the per-source limit does not simply refuse it: the point is what
  admitted stalled peers cost.
* **Operator service** (aiohttp behind :class:`~ethvoip.impl.service.gate.ConnectionGate`):
  ``GET /v1/info`` (a chain read on the service's chain worker), unloaded, then with
  ``--slow-http`` clients trickling header bytes.
* **Concurrency**: ``--pairs`` caller/callee pairs each making ``--calls`` calls at once
  through one SIP server: p50 and p99 of call setup.

    .venv/bin/python bench/server_load.py [--silent 1000] [--stalled 50] [--slow-http 200]
        [--json PATH]

In the JSON, each row is a figure ``<row>/registration_ms``, ``<row>/call_setup_ms`` or
``<row>/info_ms`` (rows ``unloaded``, ``silent``, ``silent+stalled``, ``slow_http``) with a
ratio to the unloaded row, and ``concurrent/call_setup_ms`` (p50 is the median).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

from call_setup import BOB, DOMAIN, Ours  # the call-setup bench's world, as it is
from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.call import IncomingSession
from ethvoip.impl.call.provision import register_numbers
from ethvoip.impl.call.signaling import PROTOCOL, ServerLimits, drive_handshake
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.handshake import create
from ethvoip.impl.service.app import make_app
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.runtime import build_service
from ethvoip.impl.service.server import BackgroundServer
from ethvoip.impl.service.store import TestStore

SOURCES = [f"127.0.0.{i}" for i in range(2, 42)]
SAMPLES = 15


async def _open_from(source: str, address: tuple[str, int]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.bind((source, 0))
    await asyncio.get_running_loop().sock_connect(sock, address)
    return sock


Samples = list[float]


async def _samples(ours: Ours) -> tuple[Samples, Samples]:
    reg = [await ours.registration() for _ in range(SAMPLES)]
    calls = [(await ours.call())[-1] for _ in range(SAMPLES)]
    return reg, calls


async def sip_server(silent: int, stalled: int) -> list[tuple[str, str, Samples, Samples]]:
    chain = EmbeddedChain()
    ours = Ours(chain, cache=True, new_block=False)
    await ours.start()
    # the attack is held for the whole measurement: no deadline cuts it meanwhile
    ours.server.limits = ServerLimits(handshake_timeout=3600.0, per_source=64)
    rows = [("unloaded", "unloaded", *await _samples(ours))]
    held: list[socket.socket] = []
    try:
        for i in range(silent):
            held.append(await _open_from(SOURCES[i % len(SOURCES)], ours.server.address))
        label = f"{silent} silent connections held"
        rows.append(("silent", label, *await _samples(ours)))
        bob = ours.phone(BOB)
        for i in range(stalled):
            sock = await _open_from(SOURCES[i % len(SOURCES)], ours.server.address)
            held.append(sock)
            await drive_handshake(
                create(PROTOCOL, "hardened", "I", bob.env(), B=ours.server.env.name), sock
            )
        await bob.close()
        label = f"{silent} silent + {stalled} stalled before ClientHello"
        rows.append(("silent+stalled", label, *await _samples(ours)))
    finally:
        for s in held:
            s.close()
        await ours.close()
        chain.close()
    return rows


async def concurrent_calls(pairs: int, calls: int) -> Samples:
    chain = EmbeddedChain()
    ours = Ours(chain, cache=True, new_block=False)
    numbers = [f"+9617{i:07d}" for i in range(2 * pairs)]
    keys = {n: IdentityKey.generate() for n in numbers}
    register_numbers(ours.world, keys)
    ours.keys.update(keys)
    await ours.start()
    # all the phones of this run share 127.0.0.1: lift the per-source limit that would
    # (rightly) refuse a 33rd connection from one address
    ours.server.limits = ServerLimits(per_source=4 * pairs + 8)
    store = ours.server.gate.core.verifier.store  # the demo server's in-memory passwords
    for n in numbers:
        store.add(n, DOMAIN, f"pw-{n}")  # type: ignore[attr-defined]
    phones = {n: ours.phone(n) for n in numbers}
    for p in phones.values():
        await p.connect(ours.server.address)
    setups: list[float] = []

    async def pair(caller: str, callee: str) -> None:
        for _ in range(calls):
            answering = asyncio.create_task(phones[callee].answer())
            call = await phones[caller].call(callee)
            session = await answering
            assert isinstance(session, IncomingSession)
            setups.append(call.times.total)
            await phones[caller].hang_up(call.call_id)
            await phones[callee].hang_up(session.call_id)

    try:
        assert all(await asyncio.gather(*(p.register() for p in phones.values())))
        await asyncio.gather(*(pair(numbers[2 * i], numbers[2 * i + 1]) for i in range(pairs)))
    finally:
        for p in phones.values():
            await p.close()
        await ours.close()
        chain.close()
    return setups


def _info_latency(url: str) -> Samples:
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        with urllib.request.urlopen(url + "/v1/info", timeout=60) as answer:
            answer.read()
        samples.append(time.perf_counter() - started)
    return samples


def operator_service(slow: int) -> list[tuple[str, str, Samples]]:
    chain = EmbeddedChain()
    with tempfile.TemporaryDirectory() as tmp:
        config = ServiceConfig(TestStore().public_key_pem)
        built = build_service(
            config,
            chain,
            Path(tmp) / "svc.sqlite",
            Path(tmp) / "sip.sqlite",
            passphrase="bench passphrase",
            key_scrypt_n=2**10,
        )
        with BackgroundServer(make_app(built.service)) as server:
            rows = [("unloaded", "unloaded", _info_latency(server.url))]
            port = int(server.url.rsplit(":", 1)[1])
            held = []
            try:
                for i in range(slow):
                    s = socket.create_connection(
                        ("127.0.0.1", port), source_address=(SOURCES[i % 40], 0)
                    )
                    s.sendall(b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # never ends
                    held.append(s)
                label = f"{slow} slow clients held"
                rows.append(("slow_http", label, _info_latency(server.url)))
            finally:
                for s in held:
                    s.close()
        built.close()
    chain.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--silent", type=int, default=1000)
    ap.add_argument("--stalled", type=int, default=50)
    ap.add_argument("--slow-http", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--calls", type=int, default=10, help="calls per pair")
    ap.add_argument("--only-concurrency", action="store_true", help="skip the attack runs")
    add_json_option(ap)
    args = ap.parse_args()
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    report = Report("server_load", {**settings, "samples": SAMPLES, "chain": "embedded"})
    print(f"{machine_line()}; medians of {SAMPLES}")
    if not args.only_concurrency:
        attacked(args, report)
    setups = asyncio.run(concurrent_calls(args.pairs, args.calls))
    fig = report.samples("concurrent/call_setup_ms", [t * 1e3 for t in setups], "ms")
    print(
        f"{fig['samples']} call setups, {args.pairs} at a time through one SIP server:"
        f" p50 {fig['median']:.2f} ms, p99 {fig['p99']:.2f} ms"
    )
    report.write(args.json)


def attacked(args: argparse.Namespace, report: Report) -> None:
    """Legitimate work with and without the stalled peers and slow clients held open."""
    print("SIP server (embedded chain)        registration      call setup")
    for key, label, reg, call in asyncio.run(sip_server(args.silent, args.stalled)):
        r = report.samples(f"{key}/registration_ms", [t * 1e3 for t in reg], "ms")["median"]
        c = report.samples(f"{key}/call_setup_ms", [t * 1e3 for t in call], "ms")["median"]
        print(f"  {label:<48} {r:8.2f} ms {c:8.2f} ms")
        if key != "unloaded":
            rr = report.ratio(
                f"{key}/registration/over_unloaded",
                f"{key}/registration_ms",
                "unloaded/registration_ms",
            )
            rc = report.ratio(
                f"{key}/call_setup/over_unloaded", f"{key}/call_setup_ms", "unloaded/call_setup_ms"
            )
            print(f"  {label}: {rr:.2f}x registration, {rc:.2f}x call setup")
    print("operator service                   GET /v1/info")
    for key, label, samples in operator_service(args.slow_http):
        t = report.samples(f"{key}/info_ms", [x * 1e3 for x in samples], "ms")["median"]
        print(f"  {label:<48} {t:8.2f} ms")
        if key != "unloaded":
            ratio = report.ratio(f"{key}/info/over_unloaded", f"{key}/info_ms", "unloaded/info_ms")
            print(f"  {label}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
