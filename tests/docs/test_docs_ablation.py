"""The table of checks the docs render: the committed ablation record fresh and complete, every
check of spec/checknames.py a row, joined with the attack scripts and the mutants file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ethvoip_ablation import (
    AblationRecordError,
    attack_checks,
    by_file,
    load_mutants,
    load_record,
    model_text,
    mutants_text,
    rows,
)

from ethvoip.attacks.runner import NO_ATTACK_SCRIPT
from ethvoip.spec.checknames import CHECKS

MODEL = Path(__file__).resolve().parents[2] / "docs" / "model"


def test_committed_record_is_fresh_and_every_check_has_a_row() -> None:
    rec = load_record(MODEL / "ablation.json")
    got = rows(rec, attack_checks(), load_mutants(MODEL / "mutants.json"), NO_ATTACK_SCRIPT)
    assert [r.check for r in got] == list(CHECKS)
    by_id = {r.check: r for r in got}
    for c in CHECKS.values():
        r = by_id[c.id]
        # a modelled check has its model column from the record, an argued one says why
        assert bool(r.model) == bool(c.modelled), c.id
        assert r.attacks or r.no_script, c.id
    # pinned from the narration (tests/model/test_ablation.py derives them at small bounds)
    assert "not needed alone" in by_id["lowe_fix"].model[0]
    assert "backed by session_signature" in by_id["lowe_fix"].model[0]
    assert by_id["sts_identities"].model == ["sts: reopens I_agree (2 runs)"]
    assert ("lowe", "psk_handshake") in by_id["lowe_fix"].attacks


def test_stale_or_incomplete_records_and_unknown_mutant_ids_are_refused(tmp_path: Path) -> None:
    rec = json.loads((MODEL / "ablation.json").read_text(encoding="utf-8"))
    stale = {**rec, "spec_digests": {**rec["spec_digests"], "sts": "0" * 64}}
    (tmp_path / "a.json").write_text(json.dumps(stale), encoding="utf-8")
    with pytest.raises(AblationRecordError, match="stale"):
        load_record(tmp_path / "a.json")
    short = {**rec, "removals": [r for r in rec["removals"] if r["check"] != "lowe_fix"]}
    (tmp_path / "b.json").write_text(json.dumps(short), encoding="utf-8")
    with pytest.raises(AblationRecordError, match="lowe_fix"):
        load_record(tmp_path / "b.json")
    (tmp_path / "m.json").write_text(json.dumps({"kills": {"no_such": ["t"]}}), encoding="utf-8")
    with pytest.raises(AblationRecordError, match="no_such"):
        load_mutants(tmp_path / "m.json")


def test_mutants_column_counts_outcomes_and_flags_a_check_nothing_shows(tmp_path: Path) -> None:
    kills = {"lowe_fix": ["tests/a/test_x.py::test_one[p1]", "tests/a/test_x.py::test_one[p2]"]}
    counts = {"lowe_fix": {"mutants": 3, "killed": 2, "survived": 1}, "pop": {"mutants": 1}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"kills": kills, "counts": counts}), encoding="utf-8")
    mutants = load_mutants(path)
    assert mutants_text(mutants["lowe_fix"]) == "3 mutants: 2 killed, 1 surviving"
    assert mutants_text(None).startswith("no mutant")
    assert by_file(mutants["lowe_fix"].tests) == [("test_x.py", ["test_one"])]
    rec = load_record(MODEL / "ablation.json")
    got = {r.check: r for r in rows(rec, {}, mutants, NO_ATTACK_SCRIPT)}
    assert got["lowe_fix"].surviving == 1 and not got["lowe_fix"].finding
    assert got["pop"].finding  # no attack given here, no killing test
    assert got["role_tags"].finding


def test_committed_mutants_file_is_the_join_of_the_report() -> None:
    from tests.mutation.join import mutants_file

    report = json.loads((MODEL.parent / "mutation" / "report.json").read_text(encoding="utf-8"))
    committed = json.loads((MODEL / "mutants.json").read_text(encoding="utf-8"))
    assert committed == mutants_file(report)
    assert committed["kills"], "no named check has a killing test: the join matched nothing"


def test_model_text_says_backed_by_and_inductive() -> None:
    base = {"protocol": "key_lifecycle", "status": "not needed within bound", "bound": 6}
    claim = {"claim": "c", "verdict": "no attack within bound", "inductive": True}
    text = model_text({**base, "claims": [claim], "backed_by": [], "error": ""})
    assert text == (
        "key_lifecycle: not needed alone within 6 calls (inductive: nor in executions of any "
        "length)"
    )
