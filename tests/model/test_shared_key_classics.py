"""The classics that use the constructs of issue 15 §2 (long-term keys, a server of its own,
tickets, key compromise): every pinned textbook verdict, via the model, at the smallest bound
that settles it; every attack and every honest run re-checked by the independent evaluator.

The yardstick is ``tests/literature_lang.py``, restated from each protocol's source (never
from the model's output); each module pins the same verdicts in its ``expected`` (checked
here too).  The bound is the attack's run count, or for a claim that holds, 3 runs (one per
role: the fewest in which every run of a three-party protocol can finish).
"""

from __future__ import annotations

import pytest

from ethvoip.model.cli import honest_trace, prove
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.classics import (
    kerberos,
    ns_shared_key,
    otway_rees,
    woo_lam,
    yahalom,
)
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import Protocol, Verdict
from tests.literature_lang import CLASSIC_VARIANTS_LANG, expected_lang

CLASSICS: list[Protocol] = [
    m.PROTOCOL for m in (ns_shared_key, otway_rees, yahalom, woo_lam, kerberos)
]
VARIANTS = [(p, v) for p in CLASSICS for v in p.variants]
HOLD_BOUND = 3


def test_the_restatement_covers_these_classics_and_their_pins() -> None:
    assert {p.name: tuple(p.variants) for p in CLASSICS} == CLASSIC_VARIANTS_LANG
    for p, v in VARIANTS:
        for claim, e in p.variant(v).expected.items():
            assert (e.verdict, e.runs) == expected_lang(p.name, v, claim), (p.name, v, claim)
            assert e.why, "cited beside the pin"


def _bound(p: Protocol, v: str) -> int:
    runs = [e.runs for e in p.variant(v).expected.values() if e.runs is not None]
    return max([*runs, HOLD_BOUND if len(runs) < len(p.variant(v).expected) else 1])


@pytest.mark.parametrize(("p", "v"), VARIANTS, ids=[f"{p.name}/{v}" for p, v in VARIANTS])
def test_textbook_verdicts_and_attack_traces(p: Protocol, v: str) -> None:
    rows = prove(p, v, max_runs=_bound(p, v), generated_by="pytest")
    assert {r.claim for r in rows} == set(p.variant(v).expected)
    for row in rows:
        verdict, runs = expected_lang(p.name, v, row.claim)
        got = (row.result.verdict, row.result.runs if runs else None)
        assert got == (verdict, runs), (row.claim, row.result.reason)
        if row.result.verdict is Verdict.ATTACK:
            assert row.trace is not None
            got = evaluate(p, tracefmt.loads(tracefmt.dumps(row.trace)))
            assert got.violated, got.explanation


@pytest.mark.parametrize(("p", "v"), VARIANTS, ids=[f"{p.name}/{v}" for p, v in VARIANTS])
def test_honest_run_is_confirmed(p: Protocol, v: str) -> None:
    trace = honest_trace(p, v, "pytest")
    got = evaluate(p, tracefmt.loads(tracefmt.dumps(trace)))
    assert not got.violated
    assert len(got.finished_runs) == len(p.variant(v).roles)


def test_three_party_classics_have_a_server_of_their_own() -> None:
    for p in (ns_shared_key.PROTOCOL, otway_rees.PROTOCOL, yahalom.PROTOCOL, kerberos.PROTOCOL):
        for v in p.variants.values():
            assert v.honest_agents == 3
            trace = honest_trace(p, v.name, "pytest")
            assert len({r.agent for r in trace.runs}) == 3
