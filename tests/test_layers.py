"""Imports only go downward: spec <- model, impl <- attacks (ARCHITECTURE.md); and the
package never imports what is not installed with it (the benchmarks' and tests' testbed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"spec": set(), "model": {"spec"}, "impl": {"spec"}, "attacks": {"spec", "model", "impl"}}
#: Top-level names of the source tree that no wheel carries: bench/testbed/ is imported as
#: ``testbed`` by the benchmarks beside it and as ``bench.testbed`` by the tests.
NOT_INSTALLED = {"bench", "testbed", "tests"}


def absolute_imports(path: Path) -> set[str]:
    """The modules a file imports by absolute name (relative imports stay inside)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
    return out


def ethvoip_imports(path: Path) -> set[str]:
    """The ethvoip layers a module imports."""
    parts = (n.split(".") for n in absolute_imports(path))
    return {p[1] for p in parts if p[0] == "ethvoip" and len(p) > 1}


def outside_imports(path: Path) -> set[str]:
    """The modules a module imports from folders that are not installed."""
    return {n for n in absolute_imports(path) if n.split(".")[0] in NOT_INSTALLED}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_imports_only_downward(layer: str) -> None:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        wrong = ethvoip_imports(path) - LAYERS[layer] - {layer}
        if wrong:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_the_package_never_imports_the_testbed(layer: str) -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {sorted(outside_imports(path))}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        if outside_imports(path)
    ]
    assert not bad, "imports of what a wheel does not carry:\n" + "\n".join(bad)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("from ethvoip.model.search import x\nimport ethvoip.impl.crypto\n")
    assert ethvoip_imports(f) == {"model", "impl"}


def test_the_check_catches_a_testbed_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "from bench.testbed import sdes\nimport testbed.loadgen\nfrom tests.call import world\n"
        "from . import testbed\nimport benchmark\n"
    )
    assert outside_imports(f) == {"bench.testbed", "testbed.loadgen", "tests.call"}
