"""Real SIP peers for the integration tests: Kamailio (registrar reading the service's
subscriber database) and sipp (the registering client), each started and stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ethvoip.impl import processes

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "kamailio" / "kamailio.cfg.in"
SCENARIOS = HERE / "sipp"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _options_answered(port: int) -> bool:
    """Is Kamailio answering yet?  (Our config answers any OPTIONS with 405.)"""
    msg = (
        f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-ping\r\nMax-Forwards: 70\r\n"
        "From: <sip:ping@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\n"
        "Call-ID: ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        msg = msg.replace(b"127.0.0.1:9", f"127.0.0.1:{s.getsockname()[1]}".encode())
        s.sendto(msg, ("127.0.0.1", port))
        try:
            return s.recv(4096).startswith(b"SIP/2.0 405")
        except TimeoutError:
            return False


@dataclass
class Kamailio:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        processes.stop(self.process)


def start_kamailio(db: Path, realm: str, workdir: Path) -> Kamailio:
    port = free_udp_port()
    cfg = workdir / "kamailio.cfg"
    cfg.write_text(
        CONFIG.read_text()
        .replace("@PORT@", str(port))
        .replace("@DB@", str(db.resolve()))
        .replace("@REALM@", realm)
    )
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    log = workdir / "kamailio.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-f", str(cfg), "-DD", "-E", "-Y", str(workdir), "-w", str(workdir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    k = Kamailio(proc, port, log)
    deadline = time.monotonic() + 60  # generous: only a Kamailio that never answers waits it out
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _options_answered(port):
            return k
    k.stop()
    raise RuntimeError(f"kamailio did not start:\n{log.read_text()[-3000:]}")


def sipp_register(port: int, scenario: str, user: str, domain: str, password: str) -> int:
    """Run one sipp REGISTER call; its exit status (0: the scenario's call succeeded)."""
    binary = shutil.which("sipp") or "/usr/bin/sipp"
    proc = subprocess.run(
        [
            binary, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / scenario),
            "-m", "1", "-i", "127.0.0.1", "-p", "0",
            "-key", "sipuser", user, "-key", "sipdomain", domain,
            "-au", user, "-ap", password,
            "-timeout", "60s", "-timeout_error", "-nostdin",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    return proc.returncode
