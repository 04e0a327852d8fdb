"""Benchmark: SRTP protect + unprotect (AES_CM_128_HMAC_SHA1_80 via libsrtp) for 20 ms PCMA
packets, plus one MIKEY public-key I_MESSAGE build and open.

    .venv/bin/python bench/srtp.py [--packets N] [--rounds R] [--json PATH]

Prints, with the machine it ran on: the median time per packet of protect and of unprotect
through our API (:class:`SrtpSender` / :class:`SrtpReceiver`), pylibsrtp's own
``Session.protect`` on the same packets (the floor our wrapper adds to),
(each round times N packets and divides; the median is over R rounds), the resulting
throughput in packets/s and payload Mbit/s, and the median MIKEY build/open time.  One call
needs 50 packets/s per direction, so the margin is the throughput divided by 50.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from report import Report, add_json_option, machine_line  # bench/report.py, beside this script

from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.media import mikey as m
from ethvoip.impl.media.mikey_identity import (
    SIG_LEN,
    ecdsa_signer,
    ecdsa_verifier,
    ecies_envelope,
    ecies_open,
)
from ethvoip.impl.media.mikey_pk import build_i_message, open_i_message
from ethvoip.impl.media.mikey_replay import ReplayGuard
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.rtp import encode_rtp
from ethvoip.impl.media.srtp import SrtpReceiver, SrtpSender, new_session


def bench_srtp(n: int, rounds: int) -> tuple[list[float], list[float]]:
    master = os.urandom(30)
    samples = [((i * 37) % 2000) - 1000 for i in range(160 * n)]
    packets = [encode_rtp(p) for p in packetize(samples, ssrc=0x1234, seq=0)]
    protect, unprotect = [], []
    seq_base = 0
    sender, receiver = SrtpSender(master, 0x1234), SrtpReceiver(master, 0x1234)
    for _ in range(rounds):
        # fresh sequence numbers every round so the receiver's replay window never refuses
        batch = [
            p[:2] + ((seq_base + i) & 0xFFFF).to_bytes(2, "big") + p[4:]
            for i, p in enumerate(packets)
        ]
        seq_base += len(batch)
        t0 = time.perf_counter()
        protected = [sender.protect(p) for p in batch]
        t1 = time.perf_counter()
        for p in protected:
            receiver.unprotect(p)
        t2 = time.perf_counter()
        protect.append((t1 - t0) / n)
        unprotect.append((t2 - t1) / n)
    return protect, unprotect


def bench_floor(n: int, rounds: int) -> list[float]:
    """pylibsrtp's own Session.protect on the same packets: the floor our wrapper adds to."""
    master = os.urandom(30)
    samples = [((i * 37) % 2000) - 1000 for i in range(160 * n)]
    packets = [encode_rtp(p) for p in packetize(samples, ssrc=0x1234, seq=0)]
    times, seq_base = [], 0
    session = new_session(master, 0x1234, 0, inbound=False)
    for _ in range(rounds):
        batch = [
            p[:2] + ((seq_base + i) & 0xFFFF).to_bytes(2, "big") + p[4:]
            for i, p in enumerate(packets)
        ]
        seq_base += len(batch)
        t0 = time.perf_counter()
        for p in batch:
            session.protect(p)
        times.append((time.perf_counter() - t0) / n)
    return times


def bench_mikey(rounds: int) -> tuple[list[float], list[float]]:
    alice, bob = IdentityKey.generate(), IdentityKey.generate()
    build, open_ = [], []
    for i in range(rounds):
        t0 = time.perf_counter()
        msg = build_i_message(
            tgk=os.urandom(32),
            env_key=os.urandom(16),
            rand=os.urandom(16),
            now=1_800_000_000.0 + i,
            csb_id=i,
            crypto_sessions=(m.CryptoSession(0, 0x1234, 0),),
            encrypt_envelope=ecies_envelope(bob.public_key),
            sign=ecdsa_signer(alice),
            sig_len=SIG_LEN,
            id_i=b"sip:alice@ethvoip",
            id_r=b"sip:bob@ethvoip",
            policies=(m.srtp_policy_aes_cm_128_hmac_sha1_80(),),
        )
        t1 = time.perf_counter()
        open_i_message(
            msg,
            now=1_800_000_000.0 + i,
            replay=ReplayGuard(),
            decrypt_envelope=ecies_open(bob),
            verify=ecdsa_verifier(lambda _id: alice.public_key),
            expected_id_r=b"sip:bob@ethvoip",
        )
        t2 = time.perf_counter()
        build.append(t1 - t0)
        open_.append(t2 - t1)
    return build, open_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=21)
    add_json_option(ap)
    args = ap.parse_args()
    print(f"machine: {machine_line()}")
    # Named time/<figure>: one column of the transposed table in docs/media.rst.
    report = Report("srtp", {"packets": args.packets, "rounds": args.rounds, "codec": "PCMA 20 ms"})
    prot, unprot = bench_srtp(args.packets, args.rounds)
    for what, samples in (("protect", prot), ("unprotect", unprot)):
        report.samples(f"time/srtp_{what}_us", [x * 1e6 for x in samples], "us/packet")
        t = statistics.median(samples)
        pps = 1 / t
        print(
            f"SRTP {what:9s}: median {t * 1e6:7.2f} us/packet  {pps:10.0f} packets/s  "
            f"{pps * 160 * 8 / 1e6:7.1f} Mbit/s payload  ({pps / 50:.0f}x one call direction)"
        )
    floor_samples = bench_floor(args.packets, args.rounds)
    report.samples("time/pylibsrtp_protect_us", [x * 1e6 for x in floor_samples], "us/packet")
    report.ratio("time/protect_over_pylibsrtp", "time/srtp_protect_us", "time/pylibsrtp_protect_us")
    floor, p = statistics.median(floor_samples), statistics.median(prot)
    print(
        f"pylibsrtp Session.protect alone: median {floor * 1e6:7.2f} us/packet "
        f"{1 / floor:10.0f} packets/s (our protect adds {(p - floor) * 1e6:.2f} us)"
    )
    build, open_ = bench_mikey(max(5, args.rounds))
    b = report.samples("time/mikey_build_ms", [x * 1e3 for x in build], "ms")["median"]
    o = report.samples("time/mikey_open_ms", [x * 1e3 for x in open_], "ms")["median"]
    print(f"MIKEY I_MESSAGE: build median {b:.2f} ms, open median {o:.2f} ms")
    report.write(args.json)


if __name__ == "__main__":
    main()
