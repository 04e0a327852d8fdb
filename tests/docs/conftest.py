"""Docs tests: the local Sphinx extensions (``docs/_ext``) importable, and one shared build.

The ``site`` fixture builds the whole site once per test session into a temporary folder
(``sphinx -W``, offline), for every test that reads the HTML: the build checks and the
browser test share it, so the suite pays for one build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXT = DOCS / "_ext"
if str(EXT) not in sys.path:
    sys.path.insert(0, str(EXT))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML of ``docs/``, built afresh (``-E``) with warnings as errors."""
    out = tmp_path_factory.mktemp("html")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html", DOCS, out],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out
