"""The load run (bench/service_load.py) at a test's size, on anvil with the real service
process: an injected crash between recording and sending a funding, then a kill -9 during
approvals; nothing is paid twice and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.testbed.loadgen import run_load

pytestmark = pytest.mark.integration


def test_crash_and_kill9_lose_nothing_pay_nothing_twice(tmp_path: Path) -> None:
    report = run_load(
        tmp_path, subscribers=40, crash_after_intents=15, kill_after_approvals=15, seed=7
    )
    assert report.problems == []
    assert report.restarts == 2  # the injected crash and the kill -9
    # The restart after the crash found the intent it died before sending (and settled it).
    assert report.reconciled[0] == 0 and report.reconciled[1] >= 1
    assert report.duplicates == 8
