"""The expected verdicts pinned in the spec agree with the literature (tests/literature.py)."""

from __future__ import annotations

import pytest

from ethvoip.spec.catalogue import CATALOGUE
from tests.literature import PAPER, H


@pytest.mark.parametrize("key", sorted(PAPER))
def test_paper_expectation(key: tuple[str, str]) -> None:
    protocol, claim = key
    e = CATALOGUE[protocol].variant("paper").expected[claim]
    assert (e.verdict, e.runs) == PAPER[key]


def test_paper_table_covers_every_paper_claim() -> None:
    claims = {(p.name, c.name) for p in CATALOGUE.values() for c in p.variant("paper").claims}
    assert claims == set(PAPER)


@pytest.mark.parametrize("protocol", list(CATALOGUE))
def test_every_hardened_claim_is_expected_to_hold(protocol: str) -> None:
    v = CATALOGUE[protocol].variant("hardened")
    assert v.pop_required
    assert {c.name for c in v.claims} == {
        c.name for c in CATALOGUE[protocol].variant("paper").claims
    }
    assert all(e.verdict is H for e in v.expected.values())
