"""cProfile of the hardened system's registrations or calls on anvil (issue 17: where the
milliseconds go), beside bench/call_setup.py whose parties it reuses; or a registration's
timeline.

    .venv/bin/python bench/call_profile.py reg|call|baseline-call [N] [--new-block]
        [--sort tottime|cumulative] [--top 40]
    .venv/bin/python bench/call_profile.py reg-timeline [N] [--eth-tester]

The profiles print the median wall time of the N profiled operations (inflated by the
profiler: compare the functions' shares, not the totals with call_setup.py's) and the top
functions.  ``reg-timeline`` times N registrations without a profiler, each step of both
ends stamped as it starts and ends (the look-ups, the psk_handshake machines, its frames,
the TLS-PSK handshake's OpenSSL calls, the SIP messages), and prints the median offset of
each stamp and the median time since the one before; beside it, in the same run and
interleaved, ours and the baseline split into connect and REGISTER.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import io
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import call_setup as cs  # bench/call_setup.py, beside this script
from report import machine_line  # bench/report.py, beside this script

from ethvoip.attacks.demo import DOMAIN, EVE
from ethvoip.impl.call import directory, openssl_psk, signaling
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain, start_anvil
from ethvoip.impl.handshake import machine
from ethvoip.impl.sip import transport


async def _timed(once: Callable[[], Awaitable[object]]) -> float:
    t = time.perf_counter()
    await once()
    return time.perf_counter() - t


async def profile(what: str, n: int, new_block: bool, sort: str, top: int) -> None:
    node = start_anvil()
    rpc = RpcChain(node.url)
    try:
        ours, base = cs.Ours(rpc, True, new_block), cs.Baseline()
        await ours.start()
        await base.start()
        for _ in range(3):  # warm: the phones' checkpoints pinned, code paths imported
            await ours.call()
            await base.call()
        once = {"reg": ours.registration, "call": ours.call, "baseline-call": base.call}[what]
        prof = cProfile.Profile()
        prof.enable()
        times = [await _timed(once) for _ in range(n)]
        prof.disable()
        await ours.close()
        await base.close()
    finally:
        rpc.close()
        node.close()
    print(f"{what}: median {statistics.median(times) * 1e3:.2f} ms of {n} (under the profiler)")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(sort).print_stats(top)
    print(out.getvalue())


Stamps = list[tuple[str, float]]


def _stamped(fn: Any, label: Callable[..., str], stamps: Stamps) -> Any:
    """``fn`` (sync or async) stamping ``label(*args)`` with < when it starts, > when it ends."""
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kw: Any) -> Any:
            stamps.append((label(*args, **kw) + " <", time.perf_counter()))
            try:
                return await fn(*args, **kw)
            finally:
                stamps.append((label(*args, **kw) + " >", time.perf_counter()))

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kw: Any) -> Any:
        stamps.append((label(*args, **kw) + " <", time.perf_counter()))
        try:
            return fn(*args, **kw)
        finally:
            stamps.append((label(*args, **kw) + " >", time.perf_counter()))

    return run


@contextlib.contextmanager
def _stamping(stamps: Stamps) -> Iterator[None]:
    """The steps of a registration stamped into ``stamps`` (the originals back after)."""
    hooks: list[tuple[Any, str, Callable[..., str]]] = [
        (directory.ChainDirectory, "resolve", lambda d, name: f"look-up of {name}"),
        (machine.RoleMachine, "start", lambda m: f"psk_handshake {m.role.name}: start"),
        (machine.RoleMachine, "receive", lambda m, d: f"psk_handshake {m.role.name}: receive"),
        (signaling, "write_frame", lambda sock, data: "frame written"),
        (
            signaling,
            "open_tls_psk",
            lambda sock, **kw: "TLS-PSK " + ("server", "client")[not kw["server"]],
        ),
        (openssl_psk.PskHandshake, "__init__", lambda h, **kw: "  SSL_CTX_new, SSL_new"),
        (openssl_psk.PskHandshake, "receive", lambda h, d: "  SSL_do_handshake"),
        (transport.SipEndpoint, "on_message", lambda e, msg, src: "SIP message handled"),
        (transport.StreamTransport, "send", lambda t, data, dest: "SIP message sent"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in hooks]
    try:
        for owner, name, label in hooks:
            setattr(owner, name, _stamped(getattr(owner, name), label, stamps))
        yield
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


async def _split(phone: Any, connect: Awaitable[object]) -> tuple[float, float]:
    """(connect, REGISTER) times of one registration of ``phone``."""
    t = time.perf_counter()
    await connect
    t1 = time.perf_counter()
    assert await phone.register()
    t2 = time.perf_counter()
    await phone.close()
    return t1 - t, t2 - t1


async def timeline(chain: Chain, n: int) -> None:
    ours, base = cs.Ours(chain, True, False), cs.Baseline()
    await ours.start()
    await base.start()
    runs: list[Stamps] = []
    split: dict[str, list[float]] = {}
    try:
        for i in range(n + 3):  # three to warm up
            stamps: Stamps = []
            p = ours.phone(EVE)
            with _stamping(stamps):
                stamps.append(("start", time.perf_counter()))
                mine = await _split(p, p.connect(ours.server.address))
            await asyncio.sleep(0.02)
            b = base.phone(EVE)
            theirs = await _split(b, b.connect(base.server.address, DOMAIN))
            await asyncio.sleep(0.02)
            if i < 3:
                continue
            runs.append(stamps)
            for who, (c, r) in (("ours", mine), ("baseline", theirs)):
                split.setdefault(f"{who}: connect", []).append(c)
                split.setdefault(f"{who}: REGISTER", []).append(r)
                split.setdefault(f"{who}: registration", []).append(c + r)
    finally:
        await ours.close()
        await base.close()
    labels = [s for s, _ in runs[0]]
    same = [r for r in runs if [s for s, _ in r] == labels]
    print(f"{machine_line()}; {n} registrations, {len(same)} with the first's sequence")
    for name, values in split.items():
        print(f"  {name:<24} median {statistics.median(values) * 1e3:6.2f} ms")
    print(f"  {'at (ms)':>8} {'step (ms)':>10}  stamp (median over the registrations)")
    for i, label in enumerate(labels):
        at = statistics.median(r[i][1] - r[0][1] for r in same)
        step = statistics.median(r[i][1] - r[i - 1][1] for r in same) if i else 0.0
        print(f"  {at * 1e3:8.2f} {step * 1e3:10.2f}  {label}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["reg", "call", "baseline-call", "reg-timeline"])
    ap.add_argument("n", type=int, nargs="?", default=30)
    ap.add_argument("--new-block", action="store_true")
    ap.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"])
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--eth-tester", action="store_true", help="reg-timeline on eth-tester")
    args = ap.parse_args()
    if args.what != "reg-timeline":
        asyncio.run(profile(args.what, args.n, args.new_block, args.sort, args.top))
        return
    if args.eth_tester:
        embedded = EmbeddedChain()
        try:
            asyncio.run(timeline(embedded, args.n))
        finally:
            embedded.close()
        return
    node = start_anvil()
    rpc = RpcChain(node.url)
    try:
        asyncio.run(timeline(rpc, args.n))
    finally:
        rpc.close()
        node.close()


if __name__ == "__main__":
    main()
