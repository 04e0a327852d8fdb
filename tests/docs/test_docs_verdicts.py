"""The model's dated verdict record that the docs render: fresh, complete, as expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ethvoip_verdicts import VerdictRecordError, load_record, record_rst

from ethvoip.spec.catalogue import CATALOGUE
from tests.literature import LIFECYCLE, expected

RECORD = Path(__file__).resolve().parents[2] / "docs" / "model" / "verdicts.json"


def test_committed_record_is_fresh_and_matches_the_literature() -> None:
    rec = load_record(RECORD)
    got = {
        (r["protocol"], r["variant"], r["claim"]): r
        for r in rec["results"]
        if r["protocol"] != "key_lifecycle"  # its own rows: the next test
    }
    claims = {
        (p.name, v, c.name)
        for p in CATALOGUE.values()
        for v in p.variants
        for c in p.variant(v).claims
    }
    assert set(got) == claims
    for key, row in got.items():
        verdict, runs = expected(*key)
        assert row["verdict"] == verdict.value
        assert row["runs"] == (runs if runs is not None else rec["max_runs"])
    assert rec["max_runs"] == 4 and rec["made"].endswith("UTC")


def test_committed_record_has_the_life_cycle_rows_the_issue_expects() -> None:
    rec = load_record(RECORD)
    got = {
        (r["variant"], r["claim"]): (r["verdict"], r["runs"] if r["verdict"] == "attack" else None)
        for r in rec["results"]
        if r["protocol"] == "key_lifecycle"
    }
    assert got == LIFECYCLE
    assert all(
        r["inductive"]
        for r in rec["results"]
        if (r["protocol"], r["variant"]) == ("key_lifecycle", "hardened")
    )


def test_stale_or_failing_record_is_refused(tmp_path: Path) -> None:
    rec = json.loads(RECORD.read_text())
    stale = tmp_path / "stale.json"
    rec["spec_digests"]["sts"] = "0" * 64
    stale.write_text(json.dumps(rec))
    with pytest.raises(VerdictRecordError, match="regenerate it with: ethvoip prove"):
        load_record(stale)
    rec = json.loads(RECORD.read_text())
    rec["lifecycle_digests"]["hardened"] = "0" * 64
    stale.write_text(json.dumps(rec))
    with pytest.raises(VerdictRecordError, match="stale for key_lifecycle/hardened"):
        load_record(stale)
    rec = json.loads(RECORD.read_text())
    rec["results"][0]["ok"] = False
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec))
    with pytest.raises(VerdictRecordError, match="does not match"):
        load_record(bad)
    (tmp_path / "junk.json").write_text("[]")
    with pytest.raises(VerdictRecordError, match="not a verdict record"):
        load_record(tmp_path / "junk.json")


def test_rendered_table_has_a_row_per_claim_and_says_when_it_was_made() -> None:
    rec = load_record(RECORD)
    lines = record_rst(rec)
    assert lines[0].startswith(f"Made {rec['made']} on {rec['machine']}")
    assert sum(line.startswith("   * - ") for line in lines) == len(rec["results"]) + 1
