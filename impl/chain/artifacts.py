"""The committed compiler output of ``contracts/*.sol`` (written by ``make contracts``).

Python never needs Node: it reads ``contracts/artifacts/<Name>.json``.  The source hash in each
artifact lets :func:`stale_artifacts` (and the test that calls it) notice an edited contract
that was not recompiled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ethvoip.impl.crypto import sha256
from ethvoip.spec.errors import ConfigError

#: Where the artifacts live: the repository's contracts/ folder (override with ETHVOIP_CONTRACTS).
CONTRACTS_DIR = Path(
    os.environ.get("ETHVOIP_CONTRACTS", Path(__file__).resolve().parents[2] / "contracts")
)


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: what deployment, calls, decoding and proofs need."""

    name: str
    source_name: str
    source_sha256: str
    compiler: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    storage_layout: dict[str, Any]


@cache
def load_artifact(name: str) -> Artifact:
    """Read ``contracts/artifacts/<name>.json``."""
    path = CONTRACTS_DIR / "artifacts" / f"{name}.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read contract artifact {path}: run `make contracts`") from exc
    return Artifact(
        name=raw["contractName"],
        source_name=raw["sourceName"],
        source_sha256=raw["sourceSha256"],
        compiler=raw["compiler"],
        abi=raw["abi"],
        bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(raw["deployedBytecode"].removeprefix("0x")),
        storage_layout=raw["storageLayout"],
    )


def stale_artifacts(names: tuple[str, ...] = ("KeyStore", "KeyStorePaper")) -> list[str]:
    """Names of artifacts whose recorded source sha256 differs from the source on disk."""
    stale = []
    for name in names:
        art = load_artifact(name)
        digest = sha256((CONTRACTS_DIR / art.source_name).read_bytes()).hex()
        if digest != art.source_sha256:
            stale.append(name)
    return stale
