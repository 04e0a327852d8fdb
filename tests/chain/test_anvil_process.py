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


def test_anvil_is_found_on_path_outside_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed wheel has no node_modules beside it: anvil then comes from PATH, and
    $ETHVOIP_ANVIL, when set, wins over both."""
    found = tmp_path / "bin" / "anvil"
    found.parent.mkdir()
    found.write_text("#!/bin/sh\n")
    found.chmod(0o755)
    monkeypatch.delenv("ETHVOIP_ANVIL", raising=False)
    monkeypatch.setattr(anvil, "_REPO", tmp_path)  # no node_modules here
    monkeypatch.setenv("PATH", str(found.parent))
    assert anvil.anvil_binary() == found
    monkeypatch.setenv("ETHVOIP_ANVIL", str(tmp_path / "chosen"))
    assert anvil.anvil_binary() == tmp_path / "chosen"
