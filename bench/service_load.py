"""Load on the wallet-management service, with a crash and a kill -9 in the middle.

200 subscribers (plus 20% duplicate requests) onboard concurrently against ``ethvoip serve``
on anvil over loopback HTTP.  The service is made to die right after committing funding
intent number ``--crash-after`` (before broadcasting it), and is killed with SIGKILL after
``--kill-after`` approvals have been answered; each time it is restarted and the clients
retry.  The run then checks, on the chain and in the databases, that every receipt was paid
exactly once and every approval (and SIP account) exists, and prints latency medians.

    .venv/bin/python bench/service_load.py [--subscribers 200] [--crash-after 100]
        [--kill-after 100] [--rpc URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from testbed.loadgen import run_load


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(values) * 1000:7.1f} ms, p95 {p95 * 1000:7.1f} ms"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subscribers", type=int, default=200)
    p.add_argument("--duplicates", type=float, default=0.2)
    p.add_argument("--crash-after", type=int, default=100)
    p.add_argument("--kill-after", type=int, default=100)
    p.add_argument("--rpc", help="an existing node (default: start anvil)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ethvoip-load-") as tmp:
        r = run_load(
            Path(tmp),
            subscribers=args.subscribers,
            duplicate_fraction=args.duplicates,
            crash_after_intents=args.crash_after,
            kill_after_approvals=args.kill_after,
            rpc=args.rpc,
        )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{r.subscribers} subscribers, {r.duplicates} duplicate requests per phase")
    print(f"service restarts: {r.restarts}; intents settled at each start: {r.reconciled}")
    print(f"client retries (connection refused/reset while down): {r.retries}")
    print(f"fund    phase {r.fund_seconds:6.1f} s; per request {_ms(r.fund_latencies)}")
    print(f"approve phase {r.approve_seconds:6.1f} s; per request {_ms(r.approve_latencies)}")
    for problem in r.problems:
        print("PROBLEM:", problem)
    print("exactly-once: OK" if r.ok else f"exactly-once: {len(r.problems)} problem(s)")
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
