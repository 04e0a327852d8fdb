"""Packaging: every subpackage is listed, and a built wheel imports without the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "spec": "ethvoip.spec",
    "model": "ethvoip.model",
    "impl": "ethvoip.impl",
    "attacks": "ethvoip.attacks",
}


def test_every_package_directory_is_listed() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {k: v for k, v in cfg["package-dir"].items()} == {v: k for k, v in FOLDERS.items()}
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == set(cfg["packages"])


@pytest.mark.slow
def _copy_of_the_sources(to: Path) -> Path:
    """What a wheel is built from, copied: setuptools writes ``build/`` and ``*.egg-info``
    beside the sources, which in the tree would be leftovers (and stale modules in
    ``build/lib`` would end up in the next wheel)."""
    src = to / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    return src


def test_wheel_builds_and_imports_outside_the_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    source = _copy_of_the_sources(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("ethvoip-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ethvoip/spec/catalogue.py" in names and "ethvoip/attacks/cli.py" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    # The dependencies come from this venv's site-packages, added as a plain path: .pth files
    # there (the editable finder) are not processed, so ethvoip can only come from the wheel.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import ethvoip.spec.catalogue as c, ethvoip.spec.checks as k;"
            "import ethvoip.spec.library as lib;"
            "[k.check_protocol(p) for p in c.CATALOGUE.values()];print(c.__file__);"
            "print(' '.join(lib.modules()))",
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    where, classics = out.stdout.splitlines()
    assert where.startswith(str(target))
    # the classic library is found by listing its package, in the wheel as in the tree
    shipped = {
        Path(n).stem for n in names if n.startswith("ethvoip/spec/classics/") and n.endswith(".py")
    }
    assert classics.split() == sorted(shipped - {"__init__"})
    assert len(classics.split()) >= 7
