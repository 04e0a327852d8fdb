"""cProfile of the hardened system's registrations or calls on anvil (issue 17: where the
milliseconds go), beside bench/call_setup.py whose parties it reuses.

    .venv/bin/python bench/call_profile.py reg|call|baseline-call [N] [--new-block]
        [--sort tottime|cumulative] [--top 40]

Prints the median wall time of the N profiled operations (inflated by the profiler: compare
the functions' shares, not the totals with call_setup.py's) and the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable

import call_setup as cs  # bench/call_setup.py, beside this script

from ethvoip.impl.chain import RpcChain, start_anvil


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["reg", "call", "baseline-call"])
    ap.add_argument("n", type=int, nargs="?", default=30)
    ap.add_argument("--new-block", action="store_true")
    ap.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"])
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    asyncio.run(profile(args.what, args.n, args.new_block, args.sort, args.top))


if __name__ == "__main__":
    main()
