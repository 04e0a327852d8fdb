"""The committed contract artifacts: fresh, complete, compiled with the pinned settings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ethvoip.impl.chain.artifacts import CONTRACTS_DIR, load_artifact, stale_artifacts


def test_artifacts_are_fresh() -> None:
    stale = stale_artifacts()
    assert not stale, f"contracts/artifacts out of date for {stale}: run `make contracts`"


@pytest.mark.parametrize("name", ["KeyStore", "KeyStorePaper"])
def test_artifact_contents(name: str) -> None:
    art = load_artifact(name)
    source = (CONTRACTS_DIR / art.source_name).read_bytes()
    assert art.source_sha256 == hashlib.sha256(source).hexdigest()
    assert art.compiler.startswith("soljson 0.8.37+")
    assert b"pragma solidity 0.8.37;" in source
    assert art.bytecode and art.deployed_bytecode
    assert art.storage_layout["storage"]


def test_settings_are_pinned() -> None:
    import json

    raw = json.loads((CONTRACTS_DIR / "artifacts" / "KeyStore.json").read_text())
    # py-evm 0.12.1b1 (eth-tester) executes Prague; a newer target would emit opcodes it lacks.
    assert raw["settings"]["evmVersion"] == "prague"
    assert raw["settings"]["optimizer"] == {"enabled": True, "runs": 200}


def test_stale_artifact_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from ethvoip.impl.chain import artifacts

    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, copy, ignore=shutil.ignore_patterns("node_modules"))
    (copy / "KeyStore.sol").write_text((copy / "KeyStore.sol").read_text() + "\n// edited\n")
    monkeypatch.setattr(artifacts, "CONTRACTS_DIR", copy)
    artifacts.load_artifact.cache_clear()
    try:
        assert artifacts.stale_artifacts() == ["KeyStore"]
    finally:
        artifacts.load_artifact.cache_clear()
