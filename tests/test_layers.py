"""Imports only go downward: spec <- model, impl <- attacks (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"spec": set(), "model": {"spec"}, "impl": {"spec"}, "attacks": {"spec", "model", "impl"}}


def ethvoip_imports(path: Path) -> set[str]:
    """The ethvoip layers a module imports (absolute imports; relative ones stay inside)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for n in names:
            parts = n.split(".")
            if parts[0] == "ethvoip" and len(parts) > 1:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_imports_only_downward(layer: str) -> None:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        wrong = ethvoip_imports(path) - LAYERS[layer] - {layer}
        if wrong:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("from ethvoip.model.search import x\nimport ethvoip.impl.crypto\n")
    assert ethvoip_imports(f) == {"model", "impl"}
