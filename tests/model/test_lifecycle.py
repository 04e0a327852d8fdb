"""The key life-cycle checker (issue 13): the holes of v1 found and re-checked without z3,
the hardened design proved by an inductive invariant that really can fail, honest scenarios
that the z3 encoding admits, and the re-checker refusing illegal traces."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.model import lifecycle as M
from ethvoip.model.cli import main
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import StaleTrace, TraceError
from ethvoip.spec.lifecycle import ClaimId, Expected
from ethvoip.spec.lifecycle_eval import HONEST, build_honest, evaluate

TRACES = Path(__file__).resolve().parents[1] / "traces" / "key_lifecycle"


@pytest.fixture(scope="module")
def v1() -> dict[str, M.Result]:
    return {r.question.name: r for r in M.check(LC.variant("v1"), induction=False)}


def _calls(t: LT.LifecycleTrace) -> list[tuple[str | None, str | None]]:
    return [(s.actor, s.function) for s in t.steps if s.action == "call"]


def test_v1_every_claim_is_broken_and_each_attack_is_confirmed_without_z3(
    v1: dict[str, M.Result],
) -> None:
    for name in ("1_revoked_key_stays_dead", "2_thief_gets_nothing", "signature_cross_use"):
        r = v1[name]
        assert r.verdict is Expected.ATTACK and r.trace is not None
        again = evaluate(LT.loads(LT.dumps(r.trace)))
        assert again.violated, again.explanation
    assert {c.id.value for c in LC.CLAIMS} <= {n for n, r in v1.items() if r.trace}


def test_v1_stolen_key_reuse_is_the_issue_13_story(v1: dict[str, M.Result]) -> None:
    # issue 13: after revoke, the thief registers the SAME key again and the service approves
    t = v1["2_thief_gets_nothing"].trace
    assert t is not None
    calls = _calls(t)
    revoke = calls.index(("owner", "revoke"))
    assert ("thief", "register") in calls[revoke:]
    assert calls[-1] == ("operator", "approve")
    thief_reg = next(s for s in t.steps if s.actor == "thief" and s.function == "register")
    assert thief_reg.key == "kA1"  # the stolen key itself


def test_v1_operator_bypass_needs_no_clock(v1: dict[str, M.Result]) -> None:
    # issue 13: operatorRevoke + register + approve installs a new key at once
    t = v1["3_operator_bound_by_timelock"].trace
    assert t is not None and t.operator == "malicious"
    assert [f for _, f in _calls(t)][-3:] == ["operatorRevoke", "register", "approve"]
    assert all(s.action != "tick" for s in t.steps)


def test_v1_cross_use_is_accepted_by_two_functions(v1: dict[str, M.Result]) -> None:
    t = v1["signature_cross_use"].trace
    assert t is not None
    seen: dict[tuple[str, tuple[int, ...], str], str] = {}
    cross = False
    for s in t.steps:
        for g in s.sigs:
            k = (g.digest, g.fields, g.key)
            if k in seen and seen[k] != s.function:
                cross = True
            seen.setdefault(k, s.function or "")
    assert cross


def test_hardened_claims_hold_by_induction_and_the_induction_can_fail() -> None:
    for c in LC.CLAIMS:
        assert M.prove_inductive(LC.variant("hardened"), c).proved, c.id
    # the same invariant on v1 (which has attacks) is refused: the check is not vacuous
    for c in LC.CLAIMS:
        assert not M.prove_inductive(LC.variant("v1"), c).proved, c.id


def test_inductive_step_is_not_vacuous() -> None:
    """Every function can run from some state the invariant admits."""
    u = M.Unrolling(LC.variant("hardened"), 1, operator_honest=True, inductive=True)
    s = u.solver()
    s.add(*(f for _, f in M.invariant(u, 0)))
    for f in LC.variant("hardened").functions:
        s.push()
        s.add(u.is_call(0, f.name))
        assert s.check() == z3.sat, f.name
        s.pop()


@pytest.mark.parametrize("variant", ["v1", "hardened"])
def test_lemmas_are_implied(variant: str) -> None:
    """The counters' monotonicity the search states again follows from the table alone."""
    for honest in (True, False):
        u = M.Unrolling(
            LC.variant(variant), 1, operator_honest=honest, inductive=True, lemmas=False
        )
        s = u.solver()
        s.add(z3.Not(z3.And(*M.Unrolling.lemmas(u.states[0], u.states[1]))))
        assert s.check() == z3.unsat


@pytest.mark.parametrize(("variant", "name"), [(v, n) for v, sc in HONEST.items() for n in sc])
def test_honest_scenario_is_legal_and_the_z3_encoding_admits_it(variant: str, name: str) -> None:
    t = build_honest(variant, name, "pytest")
    assert not evaluate(t).violated
    # the bounded search can take exactly these steps (no constraint of its own forbids them)
    calls = [s for s in t.steps if s.action == "call"]
    u = M.Unrolling(LC.variant(variant), len(calls), operator_honest=True)
    s = u.solver()
    i = -1
    ticks = [0] * len(calls)
    for step in t.steps:
        if step.action == "tick":
            ticks[i] += 1
            continue
        i += 1
        a = u.actions[i]
        f = LC.variant(variant).function(step.function or "")
        s.add(a.kind == u.fn_kind(f), a.actor == LC.ACTORS.index(step.actor or ""))
        s.add(a.number == LC.NUMBERS.index(step.number or ""))
        if step.key is not None:
            s.add(a.key == LC.KEYS.index(step.key))
    s.add(*(u.ticks[j] == n for j, n in enumerate(ticks)))
    assert s.check() == z3.sat


def _legal() -> LT.LifecycleTrace:
    return build_honest("hardened", "honest_reonboard", "pytest")


def _with_call(t: LT.LifecycleTrace, index: int, **change: object) -> LT.LifecycleTrace:
    steps = list(t.steps)
    steps[index] = dataclasses.replace(steps[index], **change)  # type: ignore[arg-type]
    return dataclasses.replace(t, steps=tuple(steps))


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (1, {"actor": "owner"}, "operator's"),  # approve is the operator's
        (2, {"actor": "thief"}, "cannot make a signature"),  # revoke signed by kA1 only
        (
            2,
            {"sigs": (LT.SigRecord("Revoke", (0, 0, 0, 0), "kA1"),)},
            "digest is",
        ),  # a stale version
        (
            3,
            {"key": "kA1", "sigs": (LT.SigRecord("Register", (0, 0, 0, 1), "kA1"),)},
            "KeyAlreadyUsed",
        ),  # a revoked key never comes back
        (4, {"key": "kT"}, "NotPending"),
    ],
)
def test_evaluator_refuses_an_illegal_call(
    index: int, change: dict[str, object], message: str
) -> None:
    with pytest.raises(TraceError, match=message):
        evaluate(_with_call(_legal(), index, **change))


def test_evaluator_refuses_what_the_service_refuses() -> None:
    # the thief registers his own key for the owner's number: the contract takes the pending
    # entry, the service has no receipt of his for it
    t = build_honest("hardened", "honest_reonboard", "pytest")
    steps = [
        LT.Step(
            "call",
            "register",
            "thief",
            "n0",
            "kT",
            (LT.SigRecord("Register", (0, 2, 1, 0), "kT"),),
            0,
        ),
        LT.Step("call", "approve", "operator", "n0", "kT", (), 0),
    ]
    with pytest.raises(TraceError, match="service refuses"):
        evaluate(dataclasses.replace(t, steps=tuple(steps)))


def test_evaluator_refuses_a_stale_trace_and_a_wrong_claim() -> None:
    t = _legal()
    with pytest.raises(StaleTrace, match="regenerate"):
        evaluate(dataclasses.replace(t, spec_digest="0" * 64))
    bad = dataclasses.replace(t, kind="attack", claim="5_nothing", violation=LT.Violation(0, "x"))
    with pytest.raises(TraceError, match="no claim"):
        evaluate(bad)


def test_an_attack_trace_whose_violation_is_elsewhere_is_not_confirmed(
    v1: dict[str, M.Result],
) -> None:
    t = v1["2_thief_gets_nothing"].trace
    assert t is not None and t.violation is not None
    moved = dataclasses.replace(t, violation=LT.Violation(0, t.violation.explanation))
    assert not evaluate(moved).violated


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=20,
    )
)
def test_trace_decoder_fuzz(obj: object) -> None:
    with contextlib.suppress(TraceError):
        LT.from_dict(obj)


def test_trace_decoder_fuzz_near_valid() -> None:
    good = json.loads(LT.dumps(_legal()))
    for key in ("steps", "kind", "bound", "variant"):
        broken = dict(good)
        broken[key] = {"nope": 1}
        with pytest.raises(TraceError):
            LT.from_dict(broken)


def test_committed_traces_are_fresh_complete_and_confirmed() -> None:
    want = set()
    for vname, v in LC.VARIANTS.items():
        want |= {f"key_lifecycle.{vname}.{n}" for n in HONEST[vname]}
        want |= {
            f"key_lifecycle.{vname}.{q}"
            for q, e in v.expected.items()
            if e.verdict is Expected.ATTACK
        }
    files = sorted(TRACES.glob("*.json"))
    assert {p.stem for p in files} == want
    for p in files:
        t = LT.load(p)
        assert evaluate(t).violated == (t.kind == "attack"), p.name
        assert "--traces-dir tests/traces" in t.generated_by


def test_prove_cli_runs_the_life_cycle_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["key_lifecycle/paper", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"] == []
    rows = {r["claim"]: r for r in out["lifecycle"]}
    assert rows[ClaimId.OPERATOR_TIMELOCK.value]["verdict"] == "attack"
    assert rows[ClaimId.KEY_DEAD.value]["verdict"] == "not applicable"
    assert main(["key_lifecycle/v9", "--quiet"]) == 2
