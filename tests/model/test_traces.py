"""Every attack and every honest run the model reports, re-checked by the independent
evaluator of :mod:`ethvoip.spec.evaluate` (no solver, its own Dolev-Yao deduction)."""

from __future__ import annotations

import pytest

from ethvoip.model.cli import Row, honest_trace
from ethvoip.model.export import alice_bob
from ethvoip.model.svg import render
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.evaluate import evaluate

from .test_verdicts import ALL, PAPER

ATTACKS = sorted((p, "paper", c) for (p, c), (v, _) in PAPER.items() if v.value == "attack")
VARIANTS = [(p.name, v) for p in CATALOGUE.values() for v in p.variants]


@pytest.mark.parametrize("key", ATTACKS, ids=["/".join(k) for k in ATTACKS])
def test_attack_trace_is_confirmed_by_evaluator(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = matrix[key]
    assert row.trace is not None
    # through the file format, as the conformance replay reads it
    trace = tracefmt.loads(tracefmt.dumps(row.trace))
    result = evaluate(CATALOGUE[key[0]], trace)
    assert result.violated, result.explanation
    assert trace.claim == key[2] and trace.bound == row.result.runs
    assert len(trace.runs) <= trace.bound


@pytest.mark.parametrize("key", ATTACKS, ids=["/".join(k) for k in ATTACKS])
def test_every_forged_message_carries_a_derivation(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    trace = matrix[key].trace
    assert trace is not None
    sent = set()
    for ev in trace.events:
        if ev.action == "send":
            sent.add(ev.term)
        elif ev.action == "recv":
            assert (ev.derivation is None) == (ev.term in sent)
            if ev.derivation is not None:
                assert ev.derivation.term == ev.term


@pytest.mark.parametrize("pv", VARIANTS, ids=["/".join(k) for k in VARIANTS])
def test_honest_run_finishes_and_is_confirmed(pv: tuple[str, str]) -> None:
    p = CATALOGUE[pv[0]]
    trace = honest_trace(p, pv[1], "pytest")
    result = evaluate(p, trace)
    assert not result.violated
    assert len(result.finished_runs) == len(p.variant(pv[1]).roles)
    assert all(ev.derivation is None for ev in trace.events)


def test_lowe_trace_reads_as_lowe(matrix: dict[tuple[str, str, str], Row]) -> None:
    """The responder's secrecy attack is Lowe's: the victim initiator talks to e."""
    trace = matrix[("psk_handshake", "paper", "R_secret_Ks")].trace
    assert trace is not None
    roles = {r.role: r for r in trace.runs}
    assert set(roles) == {"I", "R"}
    assert str(roles["I"].params["B"]) == "e"
    assert str(roles["R"].params["B"]) != str(roles["I"].params["A"])
    text = alice_bob(trace)
    assert "forged" in text and "violated: R_secret_Ks" in text


@pytest.mark.parametrize("key", ATTACKS[:3], ids=["/".join(k) for k in ATTACKS[:3]])
def test_svg_is_well_formed(matrix: dict[tuple[str, str, str], Row], key: tuple[str, ...]) -> None:
    import xml.etree.ElementTree as ET

    trace = matrix[key].trace  # type: ignore[index]
    assert trace is not None
    root = ET.fromstring(render(trace))
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for ev in trace.events:
        assert ev.label in texts


def test_all_is_nonempty() -> None:
    assert len(ALL) >= 40
