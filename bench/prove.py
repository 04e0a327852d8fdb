"""Benchmark: the z3 model checker on the protocol catalogue.

Prints medians over ``--repeat`` runs (default 5; the whole matrix 3) of:

* each paper attack at its smallest bound (the expected run count), one claim at a time;
* each hardened variant, every claim, searched up to 3 and up to 4 runs;
* the whole matrix (every protocol, variant and claim up to 4 runs, as ``ethvoip prove``
  without trace export);

plus the machine it ran on.  Targets (not asserted anywhere): each paper attack <= 0.1 s at
its smallest bound (STS <= 0.5 s), each hardened variant <= 1 s at 3 runs and <= 5 s at 4,
the whole matrix <= 30 s.

    .venv/bin/python bench/prove.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import z3

from ethvoip.model.search import check_variant
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.protocol import Verdict


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"z3 {z3.get_version_string()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--unbounded-only", action="store_true", help="only the unbounded mode")
    args = ap.parse_args()
    if args.unbounded_only:
        print(f"machine: {machine()}")
        print_unbounded(args.repeat)
        return
    print(f"machine: {machine()}")
    print(f"medians over {args.repeat} runs\n")

    print("paper attacks at their smallest bound")
    for p in CATALOGUE.values():
        v = p.variant("paper")
        for c in v.claims:
            e = v.expected[c.name]
            if e.verdict is not Verdict.ATTACK or e.runs is None:
                continue

            def one(v=v, c=c, n=e.runs) -> object:  # type: ignore[no-untyped-def]
                return check_variant(v, [c], max_runs=n)

            print(
                f"  {p.name:22} {c.name:18} {e.runs} runs  {median_time(one, args.repeat):7.3f} s"
            )

    print("\nhardened variants, every claim")
    for p in CATALOGUE.values():
        v = p.variant("hardened")
        t3 = median_time(lambda v=v: check_variant(v, max_runs=3), args.repeat)
        t4 = median_time(lambda v=v: check_variant(v, max_runs=4), args.repeat)
        print(f"  {p.name:22} <= 3 runs {t3:7.3f} s   <= 4 runs {t4:7.3f} s")

    def whole() -> None:
        for p in CATALOGUE.values():
            for v in p.variants.values():
                check_variant(v, max_runs=4)

    print(f"\nwhole matrix, up to 4 runs: {median_time(whole, max(1, min(3, args.repeat))):.2f} s")
    print_unbounded(args.repeat)


def unbounded_medians(repeat: int) -> list[tuple[str, str, float, float, dict[str, float]]]:
    """Per variant: median wall and CPU seconds of every claim unbounded (a fresh checker each
    time: no abstraction reused), and the median per claim; target: each hardened variant
    <= 2 s.  CPU time is printed too because the shared machine inflates wall time."""
    from ethvoip.model.unbounded import Checker

    out = []
    for p in CATALOGUE.values():
        for vname, v in p.variants.items():
            walls, cpus, per_claim = [], [], {}
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                results = Checker(v).check()
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                for r in results:
                    per_claim.setdefault(r.claim.name, []).append(r.seconds)
            medians = {c: statistics.median(ts) for c, ts in per_claim.items()}
            out.append((p.name, vname, statistics.median(walls), statistics.median(cpus), medians))
    return out


def print_unbounded(repeat: int) -> None:
    print("\nunbounded (Horn-clause abstraction), every claim of each variant")
    for pname, vname, wall, cpu, claims in unbounded_medians(repeat):
        slowest = max(claims.items(), key=lambda kv: kv[1])
        print(
            f"  {pname + '/' + vname:32} {wall:7.3f} s wall {cpu:7.3f} s CPU   slowest claim "
            f"{slowest[0]} {slowest[1]:.3f} s"
        )


if __name__ == "__main__":
    main()
