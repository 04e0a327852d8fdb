"""The named checks in the spec: one list of ids, hardened variants built from them, and the
steps that say which check they add are exactly the steps its removal changes."""

from __future__ import annotations

import pytest

from ethvoip.spec import checknames
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.checks import front_end
from ethvoip.spec.errors import UnknownProtocol
from ethvoip.spec.protocol import Recv, Send, Step, Variant
from ethvoip.spec.protocols import sts

HARDENED = [(p.name, p.variant("hardened")) for p in CATALOGUE.values()]
REMOVALS = [(name, v, c) for name, v in HARDENED for c in v.checks]


def _semantic(s: Step) -> tuple[object, ...]:
    """A step without its note and check annotation (what the model reads)."""
    if isinstance(s, Send):
        return ("send", s.term)
    if isinstance(s, Recv):
        return ("recv", s.pattern, s.once)
    return ("lookup", s.name, s.key)


def _steps(v: Variant) -> dict[tuple[str, str], Step]:
    return {(r.name, s.label): s for r in v.roles for s in r.steps}


def changed(v: Variant, d: Variant) -> set[tuple[str, str]]:
    """(role, label) of every step that differs between two variants, or is in one only."""
    a, b = _steps(v), _steps(d)
    return {
        k
        for k in a.keys() | b.keys()
        if k not in a or k not in b or _semantic(a[k]) != _semantic(b[k])
    }


@pytest.mark.parametrize("name,v", HARDENED, ids=[n for n, _ in HARDENED])
def test_every_hardened_variant_is_built_from_named_checks(name: str, v: Variant) -> None:
    assert v.checks and v.build is not None
    assert set(v.checks) <= set(checknames.CHECKS)
    # and the ids' own list says which models state them, the same way round
    stated = {c.id for c in checknames.CHECKS.values() if name in c.modelled}
    assert stated == set(v.checks)
    # rebuilt from all its checks, it is itself
    assert v.build(frozenset(v.checks)).roles == v.roles


@pytest.mark.parametrize("name,v,check", REMOVALS, ids=[f"{n}-{c}" for n, _, c in REMOVALS])
def test_annotated_steps_are_the_ones_the_removal_changes(
    name: str, v: Variant, check: str
) -> None:
    d = v.without(check)
    annotated = {(r.name, s.label) for r in v.roles for s in r.steps if check in s.checks}
    assert changed(v, d) == annotated
    if not annotated:  # a check of the variant itself (the key directory's)
        assert v.pop_required != d.pop_required
    # the derived variant carries no annotation of the removed check, and keeps the others
    assert not any(check in s.checks for r in d.roles for s in r.steps)
    assert d.checks == tuple(c for c in v.checks if c != check)
    assert d.name == f"hardened-without-{check}" and d.expected == v.expected
    front_end(d)  # the spec's checks and honest run pass: ablations are real protocols


def test_sts_unbound_is_hardened_without_the_dialog_binding() -> None:
    derived = sts.HARDENED.without(checknames.DIALOG_BINDING)
    assert derived.roles == sts.UNBOUND.roles
    assert sts.UNBOUND.pop_required


def test_unknown_check_is_refused() -> None:
    v = CATALOGUE["psk_handshake"].variant("hardened")
    with pytest.raises(UnknownProtocol, match="lowe_fix"):
        v.without("no_such_check")
    with pytest.raises(UnknownProtocol):
        CATALOGUE["psk_handshake"].variant("paper").without(checknames.LOWE_FIX)
    with pytest.raises(UnknownProtocol, match="no check"):
        checknames.get("no_such_check")


def test_check_ids_are_one_list() -> None:
    ids = [c.id for c in checknames._ALL]
    assert len(ids) == len(set(ids))
    for c in checknames.CHECKS.values():
        # a check no model states says why and where it is argued instead
        assert bool(c.modelled) != bool(c.argued), c.id


@pytest.mark.parametrize("name", ["psk_handshake", "key_lookup"])
def test_without_every_check_is_the_paper_variant(name: str) -> None:
    """Where the hardened design is the paper's plus its checks, removing them all gives the
    paper's variant back: the named checks are the whole difference.  (Not so for MIKEY's
    RFC 3830 envelope, STS's transcript order or the registration's message flow, which
    differ from the paper beyond their checks.)"""
    p = CATALOGUE[name]
    h = p.variant("hardened")
    bare = h.without(*h.checks)
    paper = p.variant("paper")
    assert bare.pop_required == paper.pop_required
    assert [[_semantic(s) for s in r.steps] for r in bare.roles] == [
        [_semantic(s) for s in r.steps] for r in paper.roles
    ]
