"""Well-formedness and honest-run checks: the catalogue passes, broken descriptions do not."""

from __future__ import annotations

import dataclasses

import pytest

from ethvoip.spec.catalogue import CATALOGUE, REQUIRED_VARIANTS, get
from ethvoip.spec.checks import check_protocol, check_variant
from ethvoip.spec.errors import MalformedProtocol
from ethvoip.spec.protocol import Recv, Role, Send, Variant, attack, holds
from ethvoip.spec.semantics import honest_run
from ethvoip.spec.terms import Fresh, Sort, Var, aenc, h, pk, sk, tup


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_protocol_has_both_variants_and_passes(name: str) -> None:
    p = get(name)
    assert set(REQUIRED_VARIANTS) <= set(p.variants)
    rows = check_protocol(p)
    assert [r.variant for r in rows] == list(p.variants)
    for v in p.variants.values():
        labels = [e.label for e in honest_run(v)]
        # every step of every role happens exactly once in the honest run
        assert sorted(labels) == sorted(s.label for r in v.roles for s in r.steps)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_narration_names_source_and_status(name: str) -> None:
    p = get(name)
    assert "Source:" in p.narration and "Status:" in p.narration
    for v in p.variants.values():
        for r in v.roles:
            for s in r.steps:
                assert s.label in {x.label for x in r.steps}


def _psk() -> Variant:
    return get("psk_handshake").variant("hardened")


def _replace_step(v: Variant, role: str, label: str, new: object) -> Variant:
    roles = []
    for r in v.roles:
        steps = tuple(new if s.label == label else s for s in r.steps)  # type: ignore[misc]
        roles.append(dataclasses.replace(r, steps=steps) if r.name == role else r)
    return dataclasses.replace(v, roles=tuple(roles))


def _fails(v: Variant, role: str | None, label: str | None, words: str) -> None:
    with pytest.raises(MalformedProtocol) as info:
        check_variant(v)
    assert words in str(info.value)
    assert info.value.role == role
    assert info.value.label == label


def test_sending_what_the_role_cannot_build_is_rejected() -> None:
    v = _replace_step(
        _psk(), "I", "I_2", Send("I_2", aenc(sk(Var("B", Sort.AGENT)), pk(Var("B", Sort.AGENT))))
    )
    _fails(v, "I", "I_2", "cannot build")


def test_binding_a_variable_inside_a_hash_is_rejected() -> None:
    hidden = Var("Z", Sort.NONCE)
    v = _replace_step(_psk(), "R", "R_4", Recv("R_4", h("h", hidden)))
    _fails(v, "R", "R_4", "cannot open")


def test_binding_inside_a_ciphertext_for_someone_else_is_rejected() -> None:
    other = Var("KX", Sort.PUBKEY)
    v = _replace_step(
        _psk(),
        "R",
        "R_1",
        Recv("R_1", aenc(tup(Var("N1", Sort.NONCE), Var("A", Sort.AGENT)), other)),
    )
    _fails(v, "R", "R_1", "cannot")


def test_duplicate_labels_are_rejected() -> None:
    v = _psk()
    step = v.role("I").steps[1]
    v2 = _replace_step(v, "I", "I_4", dataclasses.replace(step, label="I_2"))  # type: ignore[type-var]
    _fails(v2, "I", "I_2", "label used twice")


def test_undeclared_fresh_value_is_rejected() -> None:
    v = _replace_step(_psk(), "I", "I_4", Send("I_4", Fresh("Zz", Sort.NONCE)))
    _fails(v, "I", None, "not declared")


def test_every_claim_needs_an_expectation() -> None:
    v = _psk()
    expected = dict(v.expected)
    expected.pop("R_alive")
    _fails(dataclasses.replace(v, expected=expected), None, None, "do not match claims")


def test_expected_attack_needs_its_smallest_bound() -> None:
    v = _psk()
    expected = dict(v.expected)
    expected["R_alive"] = dataclasses.replace(attack(2, "x"), runs=None)
    _fails(dataclasses.replace(v, expected=expected), None, None, "smallest run count")
    expected["R_alive"] = holds()
    check_variant(dataclasses.replace(v, expected=expected))


def test_honest_run_that_cannot_finish_names_the_stuck_step() -> None:
    # the responder expects its nonce back under the wrong key: nobody ever sends that
    n2 = Fresh("N2", Sort.NONCE)
    v = _replace_step(_psk(), "R", "R_4", Recv("R_4", aenc(tup(n2, n2), pk(Var("B", Sort.AGENT)))))
    with pytest.raises(MalformedProtocol) as info:
        honest_run(v)
    assert (info.value.role, info.value.label) == ("R", "R_4")


def test_roles_must_name_their_agent_as_parameter() -> None:
    v = _psk()
    r = v.role("I")
    bad = dataclasses.replace(r, params=(Var("B", Sort.AGENT),))
    v2 = dataclasses.replace(v, roles=(bad, v.role("R")))
    with pytest.raises(MalformedProtocol):
        check_variant(v2)
    assert isinstance(r, Role)
