"""The committed model traces (tests/traces/) are current, complete and re-checkable.

A trace carries the digest of the spec it was made from; when the spec changes the trace is
stale and this test fails with the command that regenerates it (the trace's
``generated_by``).  The set of attack traces must also be exactly the set of attacks the
spec expects (``Variant.expected``), so a missing or surplus trace is caught too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.errors import StaleTrace
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import Verdict

TRACES = Path(__file__).resolve().parents[1] / "traces"
ALL = sorted(TRACES.glob("*.json"))


def test_there_are_traces() -> None:
    assert len(ALL) >= 20


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_trace_is_fresh_and_named_after_its_content(path: Path) -> None:
    t = tracefmt.load(path)
    try:
        t.check_fresh(get(t.protocol))
    except StaleTrace as exc:  # the message carries the regeneration command
        pytest.fail(f"{path.name}: {exc}")
    assert path.stem == f"{t.protocol}.{t.variant}.{t.claim or 'honest'}"
    assert "--traces-dir tests/traces" in t.generated_by


def test_every_expected_attack_and_honest_run_has_a_trace() -> None:
    want = set()
    for p in CATALOGUE.values():
        for v in p.variants.values():
            want.add(f"{p.name}.{v.name}.honest")
            want |= {
                f"{p.name}.{v.name}.{claim}"
                for claim, exp in v.expected.items()
                if exp.verdict is Verdict.ATTACK
            }
    assert {p.stem for p in ALL} == want


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_trace_passes_the_independent_evaluator(path: Path) -> None:
    t = tracefmt.load(path)
    result = evaluate(get(t.protocol), t)
    assert result.violated == (t.kind == "attack")


def test_a_changed_spec_makes_the_trace_stale_with_the_command() -> None:
    t = tracefmt.load(TRACES / "psk_handshake.paper.R_secret_Ks.json")
    other = get("sts")  # a different protocol's digest stands in for an edited spec
    forged = tracefmt.loads(tracefmt.dumps(t).replace(t.spec_digest, other.digest()))
    with pytest.raises(StaleTrace, match=r"ethvoip prove .*--traces-dir tests/traces"):
        forged.check_fresh(get("psk_handshake"))
