"""The ``ethvoip`` front door and ``ethvoip check``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ethvoip.attacks.cli import main
from ethvoip.spec.catalogue import CATALOGUE


def test_check_prints_every_variant_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    for p in CATALOGUE.values():
        for v in p.variants:
            assert any(line.split()[:2] == [p.name, v] for line in out.splitlines())
    assert "all variants pass" in out


def test_unknown_protocol_and_command_fail_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope"]) == 2
    assert "no protocol 'nope'" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ethvoip.attacks.cli", "check", "sts"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "sts" in out.stdout
