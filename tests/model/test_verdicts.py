"""The verdict matrix the model must reach: the literature's table (tests/literature.py).

Searched here up to 3 runs (the 4-run sweep is ``ethvoip prove``).
"""

from __future__ import annotations

import pytest

from ethvoip.model.cli import Row, matches
from ethvoip.spec.catalogue import CATALOGUE
from tests.literature import PAPER, A, expected

from .conftest import TEST_BOUND

ALL = sorted(
    (p.name, v, c.name) for p in CATALOGUE.values() for v in p.variants for c in p.variant(v).claims
)


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_model_verdict_matches_literature(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = matrix[key]
    verdict, runs = expected(*key)
    assert row.result.verdict is verdict, row.result.reason
    if verdict is A:
        assert row.result.runs == runs  # the smallest attack, by iterative deepening
    else:
        assert row.result.runs == TEST_BOUND
        assert row.trace is None


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_model_agrees_with_spec_expectation(
    matrix: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = matrix[key]
    assert matches(row.expected, row.result)


def test_matrix_covers_every_claim(matrix: dict[tuple[str, str, str], Row]) -> None:
    assert set(matrix) == set(ALL)
    assert {(p, c) for p, v, c in ALL if v == "paper"} == set(PAPER)
