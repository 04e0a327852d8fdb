"""The model's dated verdict record that the docs render: fresh, complete, as expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ethvoip_verdicts import VerdictRecordError, load_record, matrices, provenance, verdict_text

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


def test_matrix_is_one_table_per_protocol_with_variants_side_by_side() -> None:
    rec = load_record(RECORD)
    assert provenance(rec).startswith(f"Made {rec['made']} on {rec['machine']}")
    got = matrices(rec)
    assert [m.protocol for m in got] == list(CATALOGUE)
    shown = 0
    for m in got:
        protocol = CATALOGUE[m.protocol]
        assert m.variants == list(protocol.variants)
        assert set(m.claims) == {c.name for v in protocol.variants.values() for c in v.claims}
        for claim, cells in zip(m.claims, m.cells, strict=True):
            for variant, r in zip(m.variants, cells, strict=True):
                if r is None:
                    assert claim not in {c.name for c in protocol.variant(variant).claims}
                    continue
                assert (r["protocol"], r["variant"], r["claim"]) == (m.protocol, variant, claim)
                shown += 1
    assert shown == len(rec["results"])  # every result in exactly one cell


def test_a_cell_says_the_verdict_and_its_bound() -> None:
    attack = {"verdict": "attack", "runs": 2, "reason": ""}
    holds = {"verdict": "no attack within bound", "runs": 4, "reason": "bound: 4 runs"}
    unknown = {"verdict": "unknown", "runs": 4, "reason": "z3 gave up"}
    assert verdict_text(attack) == "attack with 2 runs"
    assert verdict_text(dict(attack, runs=1)) == "attack with 1 run"
    assert verdict_text(holds) == "no attack within 4 runs"
    assert verdict_text(unknown) == "unknown (z3 gave up)"


def test_a_variant_without_a_claim_gets_an_empty_cell_not_a_shifted_row() -> None:
    rec = load_record(RECORD)
    first = rec["results"][0]
    dropped = dict(rec, results=[r for r in rec["results"] if r is not first])
    m = next(m for m in matrices(dropped) if m.protocol == first["protocol"])
    row = m.cells[m.claims.index(first["claim"])]
    assert row[m.variants.index(first["variant"])] is None
    assert all(r is None or r["claim"] == first["claim"] for r in row)
