"""Stopping the child processes ethvoip starts (anvil, the service under test, Kamailio).

A child is stopped by its own PID: SIGTERM, a bounded wait, then SIGKILL, so no test or
demo leaves a process behind and none waits forever on one that ignores SIGTERM.
"""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate ``process`` if it still runs; kill it if it has not exited after ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
