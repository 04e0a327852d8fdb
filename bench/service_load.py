"""Load on the wallet-management service: sustained onboardings per second, and a burst with a
crash and a kill -9 in the middle.

**Sustained** (``--sustained SECONDS``): ``--clients`` subscribers at a time onboard one after
the other against ``ethvoip serve`` on anvil over loopback HTTP, each as a phone would: buy
the product, ``fund`` (sealed request; the service sends the Ether and answers once it is
mined), commit and register the identity key from the new wallet (the subscriber's own
transactions; the contracts are deployed with ``--min-commitment-age 0`` so that no clock has
to be moved), ``approve`` (the service approves on chain and writes the SIP account).  Closed
loop: a client starts its next subscriber when the last one is approved.  Each number of
clients in ``--clients`` runs in turn against the same service.  Figures, per number of
clients ``c``: completed onboardings per second (``c/onboardings_per_s``; the first
``--warmup`` seconds left out), and p50/p99 of each ``fund`` and ``approve`` request, of the
subscriber's own two transactions (``chain``) and of the whole onboarding (``c/fund_ms``,
``c/fund_p99_ms``, ...).  The clients run in this
process (threads), the service and anvil in theirs: on a small machine they share the cores.

**Burst** (the default): 200 subscribers (plus 20% duplicate requests) onboard concurrently.
The service is made to die right after committing funding intent number ``--crash-after``
(before broadcasting it), and is killed with SIGKILL after ``--kill-after`` approvals have
been answered; each time it is restarted and the clients retry.  The run then checks, on the
chain and in the databases, that every receipt was paid exactly once and every approval (and
SIP account) exists, and prints latency medians.  Its latencies are queueing times (every
request is sent at once), not a rate.

    .venv/bin/python bench/service_load.py --sustained 30 [--clients 1 2 4 8] [--json PATH]
    .venv/bin/python bench/service_load.py [--subscribers 200] [--crash-after 100]
        [--kill-after 100] [--rpc URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from report import Report, add_json_option, machine_line  # bench/report.py, beside this script
from testbed.loadgen import ServiceProcess, run_load

from ethvoip.impl.chain import KeyStoreClient, RpcChain, identifier, start_anvil
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber.client import OnboardingClient
from ethvoip.spec.files import PRIVATE, atomic_write

PHASES = ("fund", "chain", "approve", "onboarding")


@dataclass
class Done:
    """One finished onboarding: when it ended and what each phase took (seconds)."""

    ended: float
    seconds: dict[str, float]


@dataclass
class Sustained:
    started: float
    finished: float = 0.0
    done: list[Done] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(n: int, url: str, rpc: str, store: TestStore, deadline: float, out: Sustained) -> None:
    """One subscriber after another until ``deadline``, as the phone's app does it."""
    chain = RpcChain(rpc)
    client = OnboardingClient(url, chain, store)
    info = client.fetch_info()
    ks = KeyStoreClient(chain, info["keystore"])
    salt = bytes.fromhex(info["identifier_salt"])
    i = 0
    try:
        while time.monotonic() < deadline:
            i += 1
            phone = f"+44{n:03d}{i:07d}"
            wallet, key = Account.create(), IdentityKey.generate()
            with out.lock:  # one store, one order counter
                receipt = store.purchase(info["product_id"])
            order_id = str(json.loads(receipt.purchase_data)["orderId"])
            t0 = time.monotonic()
            client.fund(key, receipt, bytes.fromhex(wallet.address[2:]), phone)
            t1 = time.monotonic()
            install_signers(chain, wallet)
            reg = ks.registration(identifier(phone, salt), key, wallet.address)
            ks.commit(reg.commitment, wallet.address)
            ks.register(reg, wallet.address)
            t2 = time.monotonic()
            client.approve(key, order_id)
            t3 = time.monotonic()
            spent = {"fund": t1 - t0, "chain": t2 - t1, "approve": t3 - t2, "onboarding": t3 - t0}
            with out.lock:
                out.done.append(Done(t3, spent))
    except Exception as exc:  # the run reports it and fails; the other clients go on
        with out.lock:
            out.errors.append(f"client {n}: {type(exc).__name__}: {exc}")
    finally:
        chain.close()


def _level(
    url: str, rpc: str, store: TestStore, clients: int, args: argparse.Namespace
) -> Sustained:
    out = Sustained(time.monotonic())
    deadline = out.started + args.warmup + args.sustained
    threads = [
        threading.Thread(target=_client, args=(1000 * clients + n, url, rpc, store, deadline, out))
        for n in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.finished = time.monotonic()
    return out


def sustained(args: argparse.Namespace, report: Report) -> bool:
    """Each number of clients in turn, against one service on one node."""
    anvil = None if args.rpc else start_anvil()
    rpc = args.rpc or (anvil.url if anvil else "")
    levels: dict[int, Sustained] = {}
    with tempfile.TemporaryDirectory(prefix="ethvoip-rate-") as tmp:
        state = Path(tmp)
        store = TestStore()
        atomic_write(state / "store-key.pem", store.private_key_pem(), mode=PRIVATE)
        service = ServiceProcess(rpc, state, ["--min-commitment-age", "0"])
        try:
            service.start()
            url = f"http://127.0.0.1:{service.port}"
            for clients in args.clients:
                levels[clients] = _level(url, rpc, store, clients, args)
        finally:
            service.stop()
            if anvil is not None:
                anvil.close()
    ok = True
    print(f"{args.sustained} s per level after {args.warmup} s of warm-up; p50 / p99 in ms")
    print(f"{'clients':>7} {'per s':>7}" + "".join(f"{p:>18}" for p in PHASES))
    for clients, out in levels.items():
        counted = [d for d in out.done if d.ended >= out.started + args.warmup]
        for e in out.errors:
            print("ERROR:", e)
        if not counted or out.errors:
            print(f"{clients:7d}: no onboarding finished in the measured window")
            ok = False
            continue
        rate = len(counted) / (out.finished - out.started - args.warmup)
        report.value(f"{clients}/onboardings_per_s", rate, "1/s")
        report.value(f"{clients}/onboardings", len(counted), "count")
        line = f"{clients:7d} {rate:7.2f}"
        for phase in PHASES:
            fig = report.samples(
                f"{clients}/{phase}_ms", [d.seconds[phase] * 1e3 for d in counted], "ms"
            )
            report.value(f"{clients}/{phase}_p99_ms", fig["p99"], "ms")
            line += f"{fig['median']:9.1f} {fig['p99']:8.1f}"
        print(line)
    return ok


def burst(args: argparse.Namespace, report: Report) -> bool:
    # Named burst/<figure>: one column of the transposed table in docs/service.rst.
    with tempfile.TemporaryDirectory(prefix="ethvoip-load-") as tmp:
        r = run_load(
            Path(tmp),
            subscribers=args.subscribers,
            duplicate_fraction=args.duplicates,
            crash_after_intents=args.crash_after,
            kill_after_approvals=args.kill_after,
            rpc=args.rpc,
        )
    print(f"{r.subscribers} subscribers, {r.duplicates} duplicate requests per phase")
    print(f"service restarts: {r.restarts}; intents settled at each start: {r.reconciled}")
    print(f"client retries (connection refused/reset while down): {r.retries}")
    for phase, seconds, latencies in (
        ("fund", r.fund_seconds, r.fund_latencies),
        ("approve", r.approve_seconds, r.approve_latencies),
    ):
        report.value(f"burst/{phase}_phase_s", seconds, "s")
        fig = report.samples(f"burst/{phase}_ms", [t * 1e3 for t in latencies], "ms")
        print(
            f"{phase:<7} phase {seconds:6.1f} s; per request median {fig['median']:8.1f} ms,"
            f" p99 {fig['p99']:8.1f} ms"
        )
    report.value("burst/restarts", r.restarts, "count")
    report.value("burst/retries", r.retries, "count")
    report.value("burst/problems", len(r.problems), "count")
    for problem in r.problems:
        print("PROBLEM:", problem)
    print("exactly-once: OK" if r.ok else f"exactly-once: {len(r.problems)} problem(s)")
    return r.ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sustained", type=float, metavar="SECONDS", help="the sustained-rate run")
    p.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=[1, 2, 4, 8],
        help="sustained: subscribers at a time, each number in turn",
    )
    p.add_argument("--warmup", type=float, default=5.0, help="sustained: seconds left out")
    p.add_argument("--subscribers", type=int, default=200)
    p.add_argument("--duplicates", type=float, default=0.2)
    p.add_argument("--crash-after", type=int, default=100)
    p.add_argument("--kill-after", type=int, default=100)
    p.add_argument("--rpc", help="an existing node (default: start anvil)")
    add_json_option(p)
    args = p.parse_args()
    print(f"machine: {machine_line()}")
    if args.sustained is not None:
        settings = {"mode": "sustained", "seconds": args.sustained, "clients": args.clients}
        report = Report("service_load", {**settings, "warmup": args.warmup, "node": "anvil"})
        ok = sustained(args, report)
    else:
        report = Report(
            "service_load",
            {
                "mode": "burst",
                "subscribers": args.subscribers,
                "duplicates": args.duplicates,
                "crash_after": args.crash_after,
                "kill_after": args.kill_after,
                "node": "anvil",
            },
        )
        ok = burst(args, report)
    report.write(args.json)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
