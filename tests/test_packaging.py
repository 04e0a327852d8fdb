"""Packaging: every subpackage is listed, the editable install holds every file of the tree,
and a built wheel runs without the source tree.

The wheel is installed in a fresh virtual environment (``--without-pip``, the wheel put in by
this venv's pip with ``--no-deps``); its dependencies come from this venv's site-packages,
added by a ``.pth`` line, which does not process the editable install's own ``.pth`` there,
so ``ethvoip`` can only come from the wheel.  The commands run from a folder outside the
tree.  The four commands of issue 16 run, ``attack all`` and ``demo`` included (about 45 s in
all on two cores).
"""

from __future__ import annotations

import importlib.util
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
#: Folders of data the runtime reads, shipped as packages without modules.
DATA = {
    "contracts": "ethvoip.contracts",
    "contracts/artifacts": "ethvoip.contracts.artifacts",
    "tests/traces": "ethvoip.traces",
}
#: Where each packaged data file comes from: wheel member prefix -> (source folder, pattern).
SHIPPED = {
    "ethvoip/traces/": ("tests/traces", "*.json"),
    "ethvoip/contracts/artifacts/": ("contracts/artifacts", "*.json"),
    "ethvoip/contracts/": ("contracts", "*.sol"),
}
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def test_every_package_directory_is_listed() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {**FOLDERS, "contracts": DATA["contracts"], "tests/traces": DATA["tests/traces"]}
    assert {k: v for k, v in cfg["package-dir"].items()} == {v: k for k, v in mapped.items()}
    found = set(DATA.values())
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == set(cfg["packages"])


def _installed_folder(package: str) -> Path:
    """Where the running Python finds ``package`` (no module of it is imported)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    return Path(next(iter(spec.submodule_search_locations)))


def test_the_editable_install_holds_every_file_of_the_tree() -> None:
    """The editable install links files, not folders (strict mode, pyproject.toml), so that
    mypy and IDEs see the package as installed: a module or trace added since then is missing
    from the package until ``make install`` relinks (it runs when the list of files changes)."""
    wanted = {package: (folder, "**/*.py") for folder, package in FOLDERS.items()}
    for prefix, (folder, pattern) in SHIPPED.items():
        wanted[prefix.rstrip("/").replace("/", ".")] = (folder, pattern)
    missing = []
    for package, (folder, pattern) in wanted.items():
        where = _installed_folder(package)
        for path in (ROOT / folder).glob(pattern):
            rel = path.relative_to(ROOT / folder)
            if "__pycache__" not in rel.parts and not (where / rel).is_file():
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"run `make install`: the installed package lacks {sorted(missing)}"


def _copy_of_the_sources(to: Path) -> Path:
    """What a wheel is built from, copied: setuptools writes ``build/`` and ``*.egg-info``
    beside the sources, which in the tree would be leftovers (and stale modules in
    ``build/lib`` would end up in the next wheel)."""
    src = to / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in [*FOLDERS, "contracts", "tests/traces"]:
        shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    return src


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("wheel")
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
    (built,) = dist.glob("ethvoip-*.whl")
    return built


@pytest.mark.slow
def test_wheel_builds_and_imports_outside_the_tree(wheel: Path, tmp_path: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "ethvoip/spec/catalogue.py" in names and "ethvoip/attacks/cli.py" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    # The dependencies come from this venv's site-packages, added as a plain path: .pth files
    # there (the editable install's) are not processed, so ethvoip can only come from the wheel.
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


def test_the_wheel_carries_a_copy_of_the_data_the_runtime_reads(wheel: Path) -> None:
    """Every trace and artifact of the source tree is in the wheel, byte for byte, and
    nothing else is under those folders (``make traces``/``make contracts`` write the tree)."""
    with zipfile.ZipFile(wheel) as z:
        for prefix, (folder, pattern) in SHIPPED.items():
            members = {
                n[len(prefix) :]: z.read(n)
                for n in z.namelist()
                if n.startswith(prefix) and "/" not in n[len(prefix) :]
            }
            source = {p.name: p.read_bytes() for p in (ROOT / folder).glob(pattern)}
            assert source and members == source, prefix


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel (see the module docstring)."""
    where = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "ethvoip_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
    subprocess.run(
        [*pip, "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    return where


def _run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ETHVOIP_CONTRACTS")}
    env["ETHVOIP_ANVIL"] = str(ANVIL)  # outside the tree, node_modules is not beside the code
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_the_installed_wheel_reads_its_own_data(venv: Path, tmp_path: Path) -> None:
    out = _run(
        venv,
        tmp_path,
        "python",
        "-c",
        "import ethvoip.attacks.base as b, ethvoip.impl.chain.artifacts as a;"
        "a.load_artifact('KeyStore'); assert a.stale_artifacts() == [];"
        "print(b.TRACES); print(a.CONTRACTS_DIR);"
        "print(b.load_trace('key_lookup.paper.honest').protocol)",
    )
    assert out.returncode == 0, out.stderr
    traces, contracts, protocol = out.stdout.splitlines()
    assert Path(traces).is_relative_to(venv) and Path(contracts).is_relative_to(venv)
    assert protocol == "key_lookup"


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [("check",), ("prove", "--max-runs", "2", "key_lookup"), ("attack", "lowe")],
)
def test_the_installed_command_runs_outside_the_tree(
    venv: Path, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    out = _run(venv, tmp_path, "ethvoip", *argv)
    assert out.returncode == 0, out.stdout + out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("argv", [("prove", "--max-runs", "3"), ("attack", "all"), ("demo",)])
def test_the_installed_wheel_proves_attacks_and_demos(
    venv: Path, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    out = _run(venv, tmp_path, "ethvoip", *argv)
    assert out.returncode == 0, out.stdout + out.stderr
