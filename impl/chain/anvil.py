"""Run anvil (Foundry's development node, from npm) as a real JSON-RPC Ethereum node.

:func:`start_anvil` launches anvil (see :func:`anvil_binary`) on 127.0.0.1 with a
port the OS picks (``--port 0``), reads the "Listening on host:port" line, and returns a handle
that stops exactly that process (by its PID) when closed.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ethvoip.impl import processes
from ethvoip.spec.errors import ChainError

_REPO = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(rb"Listening on (127\.0\.0\.1:\d+)")


def anvil_binary() -> Path:
    """The anvil executable: $ETHVOIP_ANVIL if set, else the one npm installs in a source
    checkout (``make node``: @foundry-rs/anvil-linux-amd64), else ``anvil`` on PATH."""
    override = os.environ.get("ETHVOIP_ANVIL")
    if override:
        return Path(override)
    npm = _REPO / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if npm.exists():
        return npm
    on_path = shutil.which("anvil")
    if on_path is not None:
        return Path(on_path)
    # A missing tool is the machine's state, not a bad value: an OSError (exit status 3).
    raise FileNotFoundError(
        errno.ENOENT,
        "not found: set $ETHVOIP_ANVIL to its path, put `anvil` on PATH, "
        "or run `make node` in a source checkout",
        "anvil",
    )


@dataclass
class AnvilProcess:
    """A running anvil; ``url`` is its JSON-RPC endpoint, ``log`` its output file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def close(self) -> None:
        """Stop this anvil (by its own PID) and delete its log."""
        processes.stop(self.process)
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_anvil(*, chain_id: int = 31337, timeout: float = 30.0) -> AnvilProcess:
    """Start anvil on a free loopback port; raise :class:`ChainError` if it does not come up."""
    cmd = [
        str(anvil_binary()),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--chain-id",
        str(chain_id),
        "--hardfork",
        "prague",
        "--accounts",
        "10",
    ]
    # Output goes to a file, not a pipe: anvil logs every transaction, and a pipe nobody
    # drains would fill and stall it.
    fd, name = tempfile.mkstemp(prefix="anvil-", suffix=".log")
    log = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
    except BaseException:  # no process to own the log: do not leave it behind
        log.unlink(missing_ok=True)
        raise
    handle = AnvilProcess(proc, "", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search(log.read_bytes())
        if match:
            handle.url = "http://" + match.group(1).decode()
            return handle
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    text = log.read_bytes()[-2000:].decode(errors="replace")
    handle.close()
    raise ChainError(f"anvil did not start: {text}")
