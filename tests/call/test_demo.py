"""``ethvoip demo`` end to end: the real command, its exit status and the lines that matter.

The embedded run and the anvil run go through the ``ethvoip`` front door in a child process
(what a user types); a third run, in process, breaks the SIP server's credential look-up and
checks that the demo then says FAIL and exits 1, so the exit status is known to mean
something.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ethvoip.attacks import demo
from ethvoip.attacks.demo import ALICE, BOB, main

# The key lines of a good run, whichever chain it ran on.
EXPECTED = [
    "== 2. onboarding through the operator service",
    f"{ALICE} funding ",
    f"{ALICE} commit    commitment 0x",
    f"{BOB} approval  approved as version 1",
    f"[ok] {ALICE} onboarded in",
    f"[ok] {BOB} registered over TLS-PSK",
    "digest checked against the service's subscriber table",
    "[ok] REGISTER with a wrong SIP password refused",
    "[ok] Bob accepted the MIKEY offer",
    "[ok] both ends show the same short authentication string",
    "[ok] tampered and replayed SRTP dropped: {'auth': 1, 'replay': 1}",
    "paper    ACCEPTED Eve's key",
    "hardened refused",
    "TABLE I (ours)",
    "everything did what it should",
]


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    ethvoip = Path(sys.executable).with_name("ethvoip")
    return subprocess.run(
        [str(ethvoip), "demo", *args],
        capture_output=True,
        text=True,
        timeout=900,  # a bound for a hung demo only (it takes ~30 s on a loaded machine)
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _check_clean(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "[FAIL]" not in run.stdout
    missing = [line for line in EXPECTED if line not in run.stdout]
    assert not missing, f"missing {missing} in:\n{run.stdout}"


@pytest.mark.slow
def test_demo_on_the_embedded_chain() -> None:
    _check_clean(_run_cli())


@pytest.mark.slow
@pytest.mark.integration
def test_demo_on_anvil_started_and_stopped_by_it() -> None:
    run = _run_cli("--anvil")
    _check_clean(run)
    match = re.search(r"anvil started at http://127\.0\.0\.1:\d+ \(pid (\d+)\)", run.stdout)
    assert match, run.stdout
    assert not _anvil_running(match.group(1)), "the demo left its anvil running"


def _anvil_running(pid: str) -> bool:
    # The PID could have been reused by now: only an anvil under it counts.
    try:
        return "anvil" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


class _NobodyKnown:
    """A credential store that knows no one: every REGISTER must then fail."""

    def __init__(self, path: object) -> None:
        pass

    def ha1(self, username: str, realm: str) -> str | None:
        return None

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_a_failing_step_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "SubscriberCredentials", _NobodyKnown)
    assert main([]) == 1
    out = capsys.readouterr().out
    assert f"[FAIL] {ALICE} onboarded" in out  # the subscriber table check
    assert f"[FAIL] {ALICE} registered over TLS-PSK" in out
    assert "FAILED:" in out and "everything did what it should" not in out
