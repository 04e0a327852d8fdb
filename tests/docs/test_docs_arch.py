"""The architecture page's pictures are read from the code: they refuse to draw what is not so."""

from __future__ import annotations

from pathlib import Path

import pytest
from ethvoip_arch import DriftError, resolve, scan


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_boxes_and_edges_come_from_the_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "spec/terms.py": "",
            "impl/crypto.py": "from ethvoip.spec.terms import x\n",
            "impl/chain/proofs.py": "from ethvoip.impl.crypto import k\n",
            "impl/call/phone.py": "from ethvoip.impl import chain\nimport ethvoip.spec\n",
        },
    )
    g = scan(root, ("spec", "impl"))
    assert g.modules == {"spec": 1, "impl": 1, "impl.chain": 1, "impl.call": 1}
    assert g.edges == {
        "impl": {"spec"},
        "impl.chain": {"impl"},
        "impl.call": {"impl.chain", "spec"},
    }


def test_an_upward_import_refuses_the_picture(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"spec/terms.py": "from ethvoip.model.search import check\n"})
    with pytest.raises(DriftError, match="not downward"):
        scan(root, ("spec",))


def test_a_call_stage_that_moved_fails_the_build() -> None:
    assert resolve("ethvoip.impl.chain.proofs.verify_lookup") == "ethvoip.impl.chain.proofs"
    with pytest.raises(DriftError, match="has no 'gone'"):
        resolve("ethvoip.impl.chain.proofs.gone")
    with pytest.raises(DriftError, match="no such module"):
        resolve("nowhere.at.all")
