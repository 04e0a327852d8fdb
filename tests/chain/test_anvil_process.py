"""``start_anvil`` leaves nothing behind when anvil cannot even be started."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from ethvoip.impl.chain import anvil


def test_a_failed_start_leaves_no_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its log would go
    monkeypatch.setattr(anvil, "anvil_binary", lambda: tmp_path / "no-such-anvil")
    with pytest.raises(FileNotFoundError):
        anvil.start_anvil()
    assert list(tmp_path.iterdir()) == []
