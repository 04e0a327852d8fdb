"""Benchmark: one complete hardened psk_handshake and one hardened sts between two machines.

Both machines run in-process (no network), with real randomness.  Prints the median wall time
of a whole handshake over ``--runs`` runs (default 200) and the share of that time spent in
each cryptographic operation, plus the machine it ran on.

    .venv/bin/python bench/handshake.py [--runs N] [--json PATH]

The per-operation split wraps the crypto functions the handshake modules call with a timer;
the wrapper itself costs well under a microsecond per call, which the "rest" line absorbs
(record encoding, the machine's bookkeeping, timer overhead).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl import crypto
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.handshake import Env, RoleMachine, Sent, StaticDirectory, create
from ethvoip.impl.handshake import mikey as mikey_impl
from ethvoip.impl.handshake import psk as psk_impl
from ethvoip.impl.handshake import sts as sts_impl

SPENT: defaultdict[str, float] = defaultdict(float)

# (owner object, attribute, label): every crypto entry point the handshakes use
_TARGETS: list[tuple[Any, str, str]] = [
    (mod, name, label)
    for mod in (psk_impl, sts_impl, mikey_impl)
    for name, label in (
        ("encrypt_to", "ECIES encrypt"),
        ("decrypt_with", "ECIES decrypt"),
        ("aead_encrypt", "AES-GCM"),
        ("aead_decrypt", "AES-GCM"),
        ("hkdf_sha256", "HKDF"),
    )
    if hasattr(mod, name)
] + [
    (crypto.IdentityKey, "sign", "ECDSA sign"),
    (crypto.IdentityPublicKey, "verify", "ECDSA verify"),
    (crypto.DhKey, "exchange", "X25519 exchange"),
    (crypto.DhKey, "generate", "X25519 keygen"),
]


def _timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - t

    return wrapper


@contextmanager
def instrumented() -> Iterator[None]:
    saved = []
    for owner, name, label in _TARGETS:
        original = owner.__dict__[name]
        saved.append((owner, name, original))
        if isinstance(original, classmethod):
            setattr(owner, name, classmethod(_timed(original.__func__, label)))
        else:
            setattr(owner, name, _timed(original, label))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def one_run(protocol: str, keys: dict[str, IdentityKey], directory: StaticDirectory) -> None:
    a = create(protocol, "hardened", "I", Env("alice", keys["alice"], directory), B="bob")
    # the responder of a mutually named protocol (sts) is told its initiator too
    peers = {"A": "alice"} if protocol == "sts" else {}
    b = create(protocol, "hardened", "R", Env("bob", keys["bob"], directory), **peers)
    pending: list[tuple[RoleMachine, bytes]] = [
        (b, e.data) for e in a.start() if isinstance(e, Sent)
    ]
    while pending:
        dest, data = pending.pop(0)
        other = a if dest is b else b
        pending += [(other, e.data) for e in dest.receive(data) if isinstance(e, Sent)]
    if a.state.value != "done" or b.state.value != "done":
        raise SystemExit(f"{protocol}: handshake did not complete")


def bench(protocol: str, runs: int) -> tuple[list[float], dict[str, float], float]:
    keys = {n: IdentityKey.generate() for n in ("alice", "bob")}
    directory = StaticDirectory({n: k.public_key for n, k in keys.items()})
    for _ in range(5):  # warm-up
        one_run(protocol, keys, directory)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        one_run(protocol, keys, directory)
        times.append(time.perf_counter() - t)
    SPENT.clear()
    with instrumented():
        t = time.perf_counter()
        for _ in range(runs):
            one_run(protocol, keys, directory)
        total = time.perf_counter() - t
    return times, dict(SPENT), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    add_json_option(parser)
    args = parser.parse_args()
    print(f"machine: {machine_line()}")
    report = Report("handshake", {"runs": args.runs, "variant": "hardened"})
    for protocol in ("psk_handshake", "sts"):
        times, spent, total = bench(protocol, args.runs)
        fig = report.samples(f"{protocol}/handshake_ms", [t * 1e3 for t in times], "ms")
        print(
            f"\n{protocol}/hardened: median {fig['median']:.2f} ms per handshake ({args.runs} runs)"
        )
        # every operation for both protocols (0 % where unused), so one table can pair them
        shares = {label: 0.0 for *_, label in _TARGETS}
        shares.update({label: 100 * secs / total for label, secs in spent.items()})
        shares["rest"] = 100 * (total - sum(spent.values())) / total
        for label, share in sorted(shares.items(), key=lambda kv: -kv[1] if kv[0] != "rest" else 1):
            report.value(f"{protocol}/share/{label}", share, "%")
            print(f"  {label:<16} {share:5.1f} %")
    report.write(args.json)


if __name__ == "__main__":
    main()
