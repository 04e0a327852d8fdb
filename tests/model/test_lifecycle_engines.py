"""The two engines of the life-cycle table agree: random legal call sequences (legal by the
plain-Python re-checker) are executions of the z3 unrolling, with the same states after every
call, and a call the re-checker refuses is refused by z3 too."""

from __future__ import annotations

import random
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.model import lifecycle as M
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import TraceError
from ethvoip.spec.lifecycle import PY, Call
from ethvoip.spec.lifecycle_eval import evaluate

CALLS = 5


def _candidates(v: LC.LifecycleVariant, st_: LC.State[Any], i: int, now: int) -> list[LT.Step]:
    """Every call with signatures freshly made by the key the table names."""
    out = []
    for f in v.functions:
        for actor in LC.ACTORS:
            for number in LC.NUMBERS:
                for key in LC.KEYS if f.uses_key else (None,):
                    c = Call(
                        LC.ACTORS.index(actor),
                        LC.NUMBERS.index(number),
                        LC.KEYS.index(key) if key else 0,
                        (),
                        i,
                    )
                    sigs = []
                    ok = True
                    for rule in f.sigs:
                        d = next(x for x in v.digests if x.name == rule.digest)
                        signer = st_.numbers["key"][c.number] if rule.signer == "current" else c.key
                        if signer < 0:
                            ok = False
                            break
                        sigs.append(
                            LT.SigRecord(rule.digest, tuple(d.fn(PY, st_, c)), LC.KEYS[signer])
                        )
                    if ok:
                        out.append(LT.Step("call", f.name, actor, number, key, tuple(sigs), now))
    return out


def _random_trace(variant: str, honest: bool, seed: int) -> tuple[LT.LifecycleTrace, list[Any]]:
    """A random legal trace of up to CALLS calls (with a theft and ticks thrown in)."""
    rng = random.Random(seed)
    v = LC.variant(variant)
    base = LT.LifecycleTrace(
        variant, LC.digest(v), "honest", None, "honest" if honest else "malicious", 0, "t", ()
    )
    steps: list[LT.Step] = []
    states: list[Any] = []
    now = 0
    for i in range(CALLS):
        if rng.random() < 0.2 and not any(s.action == "theft" for s in steps):
            steps.append(LT.Step("theft", None, None, None, None, (), now))
        current: list[Any] = []
        try:
            evaluate(base.__class__(**{**base.__dict__, "steps": tuple(steps)}), states=current)
        except TraceError:  # pragma: no cover - the prefix was legal when built
            raise
        st_ = current[-1] if current else LC.initial_state()
        legal = []
        for cand in _candidates(v, st_, i, now):
            trial = base.__class__(**{**base.__dict__, "steps": (*steps, cand)})
            try:
                evaluate(trial)
            except TraceError:
                continue
            legal.append(cand)
        # the search's budget: each party calls at most CALLS_PER_PARTY times
        made = [x.actor for x in steps if x.action == "call"]
        legal = [c for c in legal if made.count(c.actor) < LC.CALLS_PER_PARTY]
        if not legal:
            break
        # a function first, then one of its calls: registrations would crowd out the rest
        fn = rng.choice(sorted({c.function or "" for c in legal}))
        steps.append(rng.choice([c for c in legal if c.function == fn]))
        if now < LC.MAX_TIME and rng.random() < 0.4:
            steps.append(LT.Step("tick", None, None, None, None, (), now))
            now += 1
    t = base.__class__(**{**base.__dict__, "steps": tuple(steps)})
    evaluate(t, states=states)
    return t, states


def _pin(u: M.Unrolling, t: LT.LifecycleTrace) -> list[Any]:
    """Constraints making the unrolling take exactly the trace's steps."""
    v = LC.variant(t.variant)
    cons: list[Any] = []
    i, ticks, theft = -1, [0] * u.n_steps, -1
    for s in t.steps:
        if s.action == "tick":
            ticks[i] += 1
        elif s.action == "theft":
            theft = i + 1
        else:
            i += 1
            a = u.actions[i]
            f = v.function(s.function or "")
            cons += [a.kind == u.fn_kind(f), a.actor == LC.ACTORS.index(s.actor or "")]
            cons.append(a.number == LC.NUMBERS.index(s.number or ""))
            if s.key is not None:
                cons.append(a.key == LC.KEYS.index(s.key))
    calls = i + 1
    cons += [u.ticks[j] == n for j, n in enumerate(ticks[:calls])]
    cons.append(u.theft == theft)
    if calls < u.n_steps:
        cons.append(u.actions[calls].kind == M.IDLE)
    return cons


@pytest.mark.parametrize("variant", ["v1", "hardened"])
@given(seed=st.integers(0, 10_000), honest=st.booleans())
@settings(max_examples=5, deadline=None)
def test_legal_sequences_are_z3_executions_with_the_same_states(
    variant: str, seed: int, honest: bool
) -> None:
    t, states = _random_trace(variant, honest, seed)
    u = M.Unrolling(LC.variant(variant), CALLS, operator_honest=honest)
    s = u.solver()
    s.add(*_pin(u, t))
    assert s.check() == z3.sat
    m = s.model()
    for i, want in enumerate(states):
        got = u.states[i + 1]
        for f in ("status", "key", "version"):
            for n in range(len(LC.NUMBERS)):
                value = m.eval(got.numbers[f][n], model_completion=True).as_signed_long()
                assert value == want.numbers[f][n], (i, f, n)


def test_a_call_the_rechecker_refuses_is_refused_by_z3() -> None:
    # the thief approves: only the operator may
    t = LT.LifecycleTrace(
        "hardened",
        LC.digest(LC.variant("hardened")),
        "honest",
        None,
        "honest",
        0,
        "t",
        (LT.Step("call", "operatorRevoke", "thief", "n0", None, (), 0),),
    )
    with pytest.raises(TraceError):
        evaluate(t)
    u = M.Unrolling(LC.variant("hardened"), 1, operator_honest=True)
    s = u.solver()
    s.add(*_pin(u, t))
    assert s.check() == z3.unsat
