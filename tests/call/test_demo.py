"""``ethvoip demo`` end to end on the embedded chain: exit 0 and every step reported ok."""

from __future__ import annotations

import pytest

from ethvoip.attacks.demo import main


@pytest.mark.slow
def test_demo_runs_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "[FAIL]" not in out and "TABLE I (ours)" in out
    assert "paper    ACCEPTED Eve's key" in out and "hardened refused" in out
