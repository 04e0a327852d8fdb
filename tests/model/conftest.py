"""Shared, computed-once model results for the model tests (bound 3 keeps the share fast)."""

from __future__ import annotations

import pytest

from ethvoip.model.cli import Row, prove
from ethvoip.spec.catalogue import CATALOGUE

#: The tests search up to this many runs; the 4-run sweep belongs to ``ethvoip prove`` / bench.
TEST_BOUND = 3


@pytest.fixture(scope="session")
def matrix() -> dict[tuple[str, str, str], Row]:
    out: dict[tuple[str, str, str], Row] = {}
    for p in CATALOGUE.values():
        for v in p.variants:
            for row in prove(p, v, max_runs=TEST_BOUND, generated_by="pytest tests/model"):
                out[(p.name, v, row.claim)] = row
    return out
