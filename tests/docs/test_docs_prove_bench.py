"""The committed run of ``bench/prove.py`` that the docs render, and the directive's parts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ethvoip_prove_bench import (
    ProveBenchError,
    load_prove_bench,
    provenance,
    svg_chart,
    variant_figures,
)

from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.protocol import Verdict

RECORD = Path(__file__).resolve().parents[2] / "docs" / "model" / "prove_bench.json"


def test_committed_run_covers_every_hardened_variant_from_3_to_8_runs() -> None:
    rec = load_prove_bench(RECORD)
    got = {(f["protocol"], f["runs"]) for f in variant_figures(rec) if f["search"] == "reduced"}
    assert got == {(p, n) for p in CATALOGUE for n in range(3, 9)}
    for f in rec["figures"]:
        assert f["mode"] == "bounded"
        if f["claim"] is not None and f["variant"] == "hardened":
            # the figures were taken on the search that gives the pinned verdicts
            assert f["verdict"] == Verdict.NO_ATTACK.value, f
    assert rec["made"].endswith("UTC") and "cores" in rec["machine"]
    assert "load average" in provenance(rec)


def test_chart_is_svg_with_a_line_per_protocol_and_search() -> None:
    rec = load_prove_bench(RECORD)
    root = ET.fromstring(svg_chart(rec, "cpu_median"))
    assert root.tag.endswith("svg")
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    searches = {f["search"] for f in variant_figures(rec)}
    assert len(lines) == len(CATALOGUE) * len(searches)


def test_a_record_of_another_format_is_refused(tmp_path: Path) -> None:
    rec = json.loads(RECORD.read_text())
    for broken in ({**rec, "format": "other/1"}, {**rec, "figures": [{"protocol": "sts"}]}):
        path = tmp_path / "bench.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(ProveBenchError, match="not a bench record"):
            load_prove_bench(path)
