"""Benchmark: the z3 model checker on the protocol catalogue, per protocol, claim and bound.

Measures, as medians over ``--repeat`` runs (default 3):

* every hardened variant, all claims, bounded to each of ``--runs`` (default 3..8) runs,
  with the reduction (the default search) and, up to ``--plain-max`` runs (default 6), the
  plain search (``--no-reduce``) for comparison: wall and CPU seconds of the whole variant,
  and the seconds the search accounts to each claim (its checks plus its share of building
  every world it was checked in);
* every paper attack at its pinned (smallest) bound.

``--json FILE`` writes one object: the machine, the date, the load average before and after,
the command, and the figures, each with ``mode`` (``bounded``; an unbounded mode can add its
own), ``search`` (``reduced`` or ``plain``), ``runs``, ``median`` and ``samples`` (wall
seconds) and ``cpu_median`` and ``cpu_samples`` (process CPU seconds: on a shared machine the
steadier of the two).  ``docs/model/prove_bench.json`` is such a run; the docs render it.
Targets (not asserted anywhere): every hardened variant <= 10 s at 6 runs.

    nice -n 0 .venv/bin/python bench/prove.py [--repeat N] [--runs 3 8] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import z3

from ethvoip.model.search import ClaimResult, check_variant, honest_run
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.files import PUBLIC, atomic_write
from ethvoip.spec.protocol import Verdict

#: The format of the ``--json`` object (readers check it).
FORMAT = "ethvoip-prove-bench/1"


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


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(fn: Callable[[], list[ClaimResult]], repeat: int) -> dict[str, Any]:
    """Wall and CPU samples of ``fn``, with the seconds each claim was accounted."""
    wall: list[float] = []
    cpu: list[float] = []
    claims: dict[str, list[float]] = {}
    verdicts: dict[str, str] = {}
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        results = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        for r in results:
            claims.setdefault(r.claim.name, []).append(r.seconds)
            verdicts[r.claim.name] = r.verdict.value
    return {"wall": wall, "cpu": cpu, "claims": claims, "verdicts": verdicts}


def _figure(
    protocol: str, variant: str, claim: str | None, search: str, runs: int, **samples: list[float]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "protocol": protocol,
        "variant": variant,
        "claim": claim,
        "mode": "bounded",
        "search": search,
        "runs": runs,
    }
    for name, xs in samples.items():
        prefix = "" if name == "wall" else f"{name}_"
        out[f"{prefix}median"] = round(statistics.median(xs), 4)
        out[f"{prefix}samples"] = [round(x, 4) for x in xs]
    return out


def hardened(
    repeat: int, runs: range, plain_max: int, say: Callable[[str], None]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in CATALOGUE.values():
        v = p.variant("hardened")
        honest_run(v)  # the front end once, outside the figures
        for k in runs:
            for reduce in (True, False):
                if not reduce and k > plain_max:
                    continue
                search = "reduced" if reduce else "plain"
                got = timed(
                    lambda v=v, k=k, r=reduce: check_variant(v, max_runs=k, reduce=r), repeat
                )
                out.append(
                    _figure(p.name, "hardened", None, search, k, wall=got["wall"], cpu=got["cpu"])
                )
                for claim, xs in got["claims"].items():
                    fig = _figure(p.name, "hardened", claim, search, k, accounted=xs)
                    fig["verdict"] = got["verdicts"][claim]
                    out.append(fig)
                wall, cpu = statistics.median(got["wall"]), statistics.median(got["cpu"])
                say(f"{p.name:22} <= {k} runs {search:7}  wall {wall:7.2f} s  cpu {cpu:7.2f} s")
    return out


def paper_attacks(repeat: int, say: Callable[[str], None]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in CATALOGUE.values():
        for vname, v in p.variants.items():
            if vname == "hardened":
                continue
            honest_run(v)
            for c in v.claims:
                e = v.expected.get(c.name)
                if e is None or e.verdict is not Verdict.ATTACK or e.runs is None:
                    continue
                got = timed(lambda v=v, c=c, n=e.runs: check_variant(v, [c], max_runs=n), repeat)
                fig = _figure(
                    p.name, vname, c.name, "reduced", e.runs, wall=got["wall"], cpu=got["cpu"]
                )
                fig["verdict"] = got["verdicts"][c.name]
                out.append(fig)
                say(f"{p.name:22} {vname:9} {c.name:18} attack at {e.runs}  {fig['median']:7.3f} s")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", type=int, nargs=2, default=(3, 8), metavar=("FROM", "TO"))
    ap.add_argument("--plain-max", type=int, default=6, help="plain search up to this bound")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    ap.add_argument("--unbounded-only", action="store_true", help="only the unbounded mode")
    args = ap.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    say(f"machine: {machine()}")
    if args.unbounded_only:
        print_unbounded(args.repeat)
        return
    load_before = _load()
    say(f"load average: {load_before}; medians over {args.repeat} runs\n")
    figures = hardened(args.repeat, range(args.runs[0], args.runs[1] + 1), args.plain_max, say)
    say("")
    figures += paper_attacks(args.repeat, say)
    doc = {
        "format": FORMAT,
        "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": _load(),
        "repeat": args.repeat,
        "generated_by": "bench/prove.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "figures": figures,
    }
    if args.json is not None:
        atomic_write(args.json, json.dumps(doc, indent=1) + "\n", mode=PUBLIC)
        say(f"\nwrote {args.json}")
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
