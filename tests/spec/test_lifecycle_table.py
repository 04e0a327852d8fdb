"""The life-cycle table itself: ``ethvoip check``'s well-formedness refusals, the honest
scenarios, the state diagram and function table drawn from it, the trace text."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from ethvoip.spec import lifecycle as LC
from ethvoip.spec.cli import main as check_main
from ethvoip.spec.errors import MalformedProtocol, UnknownProtocol
from ethvoip.spec.lifecycle_diagram import render
from ethvoip.spec.lifecycle_eval import check_table

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("name", list(LC.VARIANTS))
def test_every_variant_is_well_formed_and_runs_honestly(name: str) -> None:
    c = check_table(name)
    assert c.functions == len(LC.variant(name).functions) and c.honest_calls >= 2


def _swap(monkeypatch: pytest.MonkeyPatch, v: LC.LifecycleVariant) -> None:
    monkeypatch.setitem(LC.VARIANTS, v.name, v)  # type: ignore[index]


def test_a_signature_of_no_declared_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    v = LC.variant("hardened")
    revoke = v.function("revoke")
    bad = dataclasses.replace(revoke, sigs=(LC.SigRule("Nowhere", "current"),))
    _swap(monkeypatch, dataclasses.replace(v, functions=(*v.functions[:3], bad, *v.functions[4:])))
    with pytest.raises(MalformedProtocol, match="revoke signs"):
        check_table("hardened")


def test_a_claim_without_expectation_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    v = LC.variant("v1")
    expected = dict(v.expected)
    del expected["signature_cross_use"]
    _swap(monkeypatch, dataclasses.replace(v, expected=expected))
    with pytest.raises(MalformedProtocol, match="expectations"):
        check_table("v1")


def test_a_table_that_cannot_run_its_honest_scenario_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v = LC.variant("hardened")
    # revoke demanding a suspended record: the owner can no longer revoke its approved key
    revoke = dataclasses.replace(v.function("revoke"), status_from=frozenset({LC.Status.SUSPENDED}))
    fns = tuple(revoke if f.name == "revoke" else f for f in v.functions)
    _swap(monkeypatch, dataclasses.replace(v, functions=fns))
    with pytest.raises(MalformedProtocol, match="honest_reonboard"):
        check_table("hardened")
    assert check_main([]) == 1


def test_unknown_variant() -> None:
    with pytest.raises(UnknownProtocol, match="hardened"):
        LC.variant("v7")


@pytest.mark.parametrize("name", list(LC.VARIANTS))
def test_state_diagram_shows_every_status_and_function(name: str) -> None:
    v = LC.variant(name)
    root = ET.fromstring(render(v))
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for s in LC.statuses(v):
        assert s.name.title() in texts
    for f in v.functions:
        assert f.name in texts, f.name


def test_state_diagram_of_the_fix_has_the_kill_switch_apart_from_revocation() -> None:
    # hardened: operatorRevoke leads to Suspended (the key keeps its veto), revoke to Revoked
    edges = {(a.name, b.name, f.name) for a, b, f in LC.transitions(LC.variant("hardened"))}
    assert ("APPROVED", "SUSPENDED", "operatorRevoke") in edges
    assert ("APPROVED", "REVOKED", "revoke") in edges
    assert not any(f == "operatorRevoke" and b == "REVOKED" for _, b, f in edges)
    v1 = {(a.name, b.name, f.name) for a, b, f in LC.transitions(LC.variant("v1"))}
    assert ("APPROVED", "REVOKED", "operatorRevoke") in v1


def test_check_cli_prints_the_life_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["key_lifecycle"]) == 0
    out = capsys.readouterr().out
    assert "key_lifecycle: paper" in out and "hardened 8 functions" in out
