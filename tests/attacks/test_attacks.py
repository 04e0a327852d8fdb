"""Each attack reproduces on the paper code and is blocked on hardened by the named check;
the runner's JSON schema and exit codes; the hand-written splice trace is a real attack."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ethvoip.attacks import lowe, mikey_substitution, runner, splice, sts_uks
from ethvoip.attacks.base import AttackResult
from ethvoip.spec.catalogue import get
from ethvoip.spec.errors import Check
from ethvoip.spec.evaluate import evaluate

#: attack -> (step, check) of the hardened rejection, read off the hardened handlers'
#: documented checks (impl/handshake/{psk,mikey,sts}.py).
EXPECTED = {
    "lowe": ("I_3", Check.IDENTITY_BINDING),  # Lowe's fix
    "splice": ("R_5", Check.SIGNATURE),  # signature binds the session
    "mikey_substitution": ("R_3", Check.SIGNATURE),  # SIGNi with pk(A)
    "sts_uks": ("I_3", Check.IDENTITY_BINDING),  # SIGMA names
}
MODULES = {
    "lowe": lowe,
    "splice": splice,
    "mikey_substitution": mikey_substitution,
    "sts_uks": sts_uks,
}


@pytest.fixture(scope="module")
def results() -> dict[str, AttackResult]:
    return {name: m.ATTACK.run() for name, m in MODULES.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_attack_reproduces_and_is_blocked_by_the_named_check(
    results: dict[str, AttackResult], name: str
) -> None:
    r = results[name]
    assert r.paper_reproduced, r.intruder_ends_with
    assert r.hardened_blocked
    label, check = EXPECTED[name]
    assert r.blocked_by.startswith(f"{label}: ")
    assert r.checks == (check,) and r.check is check
    assert any("REJECTS" in s.text for s in r.hardened_steps)


def test_lowe_intruder_ends_with_the_session_key(results: dict[str, AttackResult]) -> None:
    r = results["lowe"]
    assert "the intruder computes its session key Ks#2 = " in r.intruder_ends_with
    # the victim a (responder) believes in b, and b's run believes in e
    assert r.intruder_ends_with.startswith("a finished believing in b")


def test_splice_trace_is_an_attack_for_the_independent_evaluator() -> None:
    t = splice.splice_trace()
    result = evaluate(get("psk_handshake"), t)
    assert result.violated, result.explanation
    # the spliced signature comes from session 1 while B's nonce is session 2's
    last = t.events[-1]
    assert last.label == "R_5" and "Ks#1" in str(last.term) and "N2#2" in str(last.term)


def test_json_schema_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["lowe", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [a] = doc["attacks"]
    assert {
        "name",
        "protocol",
        "paper_reproduced",
        "hardened_blocked",
        "blocked_by",
        "check",
        "checks",
        "steps",
    } <= set(a)
    assert a["name"] == "lowe" and a["paper_reproduced"] and a["hardened_blocked"]
    assert a["check"] == "identity_binding" and a["checks"] == ["identity_binding"]
    assert all(set(s) == {"label", "actor", "text"} for s in a["steps"])
    assert [s["label"] for s in a["steps"]][:3] == ["I_1", "I_2", "R_1"]


def test_unknown_attack_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["nosuch"]) == 2
    assert "unknown attack" in capsys.readouterr().err


def test_exit_1_when_an_attack_is_not_blocked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = lowe.ATTACK.run

    def unblocked() -> AttackResult:
        r = real()
        r.hardened_blocked = False
        return r

    monkeypatch.setattr(lowe, "ATTACK", dataclasses.replace(lowe.ATTACK, run=unblocked))
    assert runner.main(["lowe"]) == 1
    assert "NOT blocked" in capsys.readouterr().out


def test_text_output_narrates_labels(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["sts_uks"]) == 0
    out = capsys.readouterr().out
    assert "I_2   b: I#2" in out and "BLOCKED by I_3" in out
