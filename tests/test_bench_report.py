"""bench/report.py: the JSON every benchmark writes with --json (shape, percentile, ratio)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _report_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report_under_test", BENCH / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


report = _report_module()


def test_p99_is_the_nearest_rank_percentile() -> None:
    # nearest rank: the ceil(0.99 * n)-th smallest sample
    assert report.p99([float(i) for i in range(1, 101)]) == 99.0
    assert report.p99([float(i) for i in range(200, 0, -1)]) == 198.0
    assert report.p99([3.0]) == 3.0


def test_a_figure_without_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="no samples"):
        report.Report("b").samples("empty", [], "ms")


def test_written_json_has_the_documented_shape(tmp_path: Path) -> None:
    r = report.Report("demo", {"calls": 3})
    r.samples("ours", [2.0, 4.0, 6.0], "ms")
    r.samples("baseline", [1.0, 2.0, 3.0], "ms")
    r.value("gas", 199_793, "gas")
    assert r.ratio("ours_over_baseline", "ours", "baseline") == 2.0
    out = tmp_path / "run.json"
    r.write(out)
    got = json.loads(out.read_text())
    assert got["bench"] == "demo" and got["settings"] == {"calls": 3}
    assert got["figures"]["ours"] == {"unit": "ms", "median": 4.0, "p99": 6.0, "samples": 3}
    assert got["figures"]["gas"]["samples"] == 1
    assert got["ratios"]["ours_over_baseline"] == {
        "numerator": "ours",
        "denominator": "baseline",
        "ratio": 2.0,
    }
    assert got["date"].endswith("Z") and got["machine"]["cores"] >= 1
    assert len(got["load"]) == 3
