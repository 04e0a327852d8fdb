"""The public-key work a secure call and a registration do that the certificate-TLS + SDES
baseline does not, measured in isolation: the floor under issue 17's ratios.

Each operation is the library call the protocol makes (``ethvoip.impl.crypto``: ECIES on
libsecp256k1 ECDH + AES-GCM, ECDSA on libsecp256k1), on a message of the size the protocol
signs or seals.  Composites are timed as one unit, not added up:

* ``mikey caller`` - one ECIES encrypt of the envelope key + one signature (SIGNi);
* ``mikey callee`` - one ECIES decrypt + one verification;
* ``psk_handshake A`` / ``B`` - the hardened psk_handshake's initiator (3 encrypts, 1 decrypt,
  1 signature) and responder (1 encrypt, 3 decrypts, 1 verification);
* ``psk_handshake machines`` - both role machines run to the end in process, no I/O
  (``bench/handshake.py``'s run): the public-key work plus the machines and the codec;
* ``loopback round trip`` - 64 bytes there and back over TCP on 127.0.0.1, both ends on one
  asyncio loop as in the call benchmark: what each message the psk_handshake adds before TLS
  can start costs on the wire here.

Every figure is taken twice: ``hot`` back to back, and ``cold`` after 20 ms asleep, which is
how a call meets it (a look-up's wait before, the event loop between).  Figures are named
``hot_ms/<operation>`` and ``cold_ms/<operation>``.

    .venv/bin/python bench/pk_floor.py [--runs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable

from handshake import one_run  # bench/handshake.py, beside this script
from report import Report, add_json_option, machine_line

from ethvoip.impl.crypto import IdentityKey, decrypt_with, encrypt_to
from ethvoip.impl.handshake import StaticDirectory

SIG_TAG = b"bench/pk_floor"
KEY = os.urandom(30)  # an SRTP master key + salt, the size MIKEY's envelope carries
SIGNED = os.urandom(300)  # about the size of the I_MESSAGE SIGNi covers
INNER = os.urandom(100)  # about the size of a psk_handshake message's sealed body
COLD_GAP = 0.020


def operations() -> dict[str, Callable[[], object]]:
    alice, bob = IdentityKey.generate(), IdentityKey.generate()
    a_pub, b_pub = alice.public_key, bob.public_key
    sealed_key = encrypt_to(b_pub, KEY)
    sealed_inner = encrypt_to(a_pub, INNER)
    sig = alice.sign(SIG_TAG, SIGNED)
    keys = {"alice": alice, "bob": bob}
    directory = StaticDirectory({n: k.public_key for n, k in keys.items()})

    def mikey_caller() -> None:
        encrypt_to(b_pub, KEY)
        alice.sign(SIG_TAG, SIGNED)

    def mikey_callee() -> None:
        decrypt_with(bob, sealed_key)
        a_pub.verify(SIG_TAG, SIGNED, sig)

    def psk_a() -> None:
        for _ in range(3):
            encrypt_to(b_pub, INNER)
        decrypt_with(alice, sealed_inner)
        alice.sign(SIG_TAG, SIGNED)

    def psk_b() -> None:
        encrypt_to(a_pub, INNER)
        for _ in range(3):
            decrypt_with(alice, sealed_inner)
        a_pub.verify(SIG_TAG, SIGNED, sig)

    return {
        "ECIES encrypt": lambda: encrypt_to(b_pub, KEY),
        "ECIES decrypt": lambda: decrypt_with(bob, sealed_key),
        "ECDSA sign": lambda: alice.sign(SIG_TAG, SIGNED),
        "ECDSA verify": lambda: a_pub.verify(SIG_TAG, SIGNED, sig),
        "mikey caller": mikey_caller,
        "mikey callee": mikey_callee,
        "psk_handshake A": psk_a,
        "psk_handshake B": psk_b,
        "psk_handshake machines": lambda: one_run("psk_handshake", keys, directory),
    }


def timed(op: Callable[[], object], runs: int, gap: float) -> list[float]:
    """``runs`` wall times of ``op`` in ms, each after ``gap`` seconds asleep (0: back to back)."""
    for _ in range(5):  # warm-up: imports, first-use tables
        op()
    out = []
    for _ in range(runs):
        if gap:
            time.sleep(gap)
        t = time.perf_counter()
        op()
        out.append((time.perf_counter() - t) * 1e3)
    return out


async def _round_trips(runs: int, gap: float) -> list[float]:
    echoed = asyncio.Event()  # set when the echo end has seen the client's EOF

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(await reader.readexactly(64))
        except asyncio.IncompleteReadError:
            writer.close()
            echoed.set()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
    out = []
    for i in range(runs + 5):  # the first five warm up
        await asyncio.sleep(gap)
        t = time.perf_counter()
        writer.write(b"x" * 64)
        await reader.readexactly(64)
        if i >= 5:
            out.append((time.perf_counter() - t) * 1e3)
    writer.close()
    await writer.wait_closed()
    await echoed.wait()
    server.close()
    await server.wait_closed()
    return out


def round_trips(runs: int, gap: float) -> list[float]:
    """``runs`` loopback round trips in ms, each after ``gap`` seconds asleep."""
    return asyncio.run(_round_trips(runs, gap))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    add_json_option(ap)
    args = ap.parse_args()
    report = Report("pk_floor", {"runs": args.runs, "cold_gap_s": COLD_GAP})
    print(f"machine: {machine_line()}; medians of {args.runs}")
    print(f"  {'operation':<24}{'hot (ms)':>10}{'p99':>8}{'cold (ms)':>11}{'p99':>8}")
    for name, op in operations().items():
        hot = report.samples(f"hot_ms/{name}", timed(op, args.runs, 0.0), "ms")
        cold = report.samples(f"cold_ms/{name}", timed(op, args.runs, COLD_GAP), "ms")
        print(
            f"  {name:<24}{hot['median']:>10.3f}{hot['p99']:>8.3f}"
            f"{cold['median']:>11.3f}{cold['p99']:>8.3f}"
        )
    name = "loopback round trip"
    hot = report.samples(f"hot_ms/{name}", round_trips(args.runs, 0.0), "ms")
    cold = report.samples(f"cold_ms/{name}", round_trips(args.runs, COLD_GAP), "ms")
    print(
        f"  {name:<24}{hot['median']:>10.3f}{hot['p99']:>8.3f}"
        f"{cold['median']:>11.3f}{cold['p99']:>8.3f}"
    )
    report.write(args.json)


if __name__ == "__main__":
    main()
