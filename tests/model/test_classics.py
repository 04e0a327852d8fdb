"""The classic library (spec/classics/): textbook verdicts, found by the model, re-checked.

The yardstick is tests/literature.py (``CLASSICS``), restated from each protocol's source,
never from the model's output.  Every claim of every classic is decided at the smallest bound
its textbook attack needs (two runs: the attacks below all take two, so a fixed variant
holding at two is the comparison that matters; ``ethvoip prove --classics`` searches 4).
Every attack trace goes through JSON and the independent evaluator.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ethvoip.model.cli import Row, matches, prove
from ethvoip.spec import library
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import Verdict
from tests.literature import CLASSIC_VARIANTS, CLASSICS, classic_expected
from tests.literature_lang import CLASSIC_VARIANTS_LANG

#: The three-party classics (a server, tickets, key compromise) are decided by the model in
#: test_shared_key_classics.py, each at its own bound (their holds need 3 runs, which would
#: triple this module's time); their pins are checked here like every other classic's.
DECIDED_HERE = [p for p in library.classics().values() if p.name not in CLASSIC_VARIANTS_LANG]

#: The smallest bound every textbook attack decided here needs.
BOUND = max(
    runs
    for (name, _, _), (_, runs) in CLASSICS.items()
    if runs is not None and name not in CLASSIC_VARIANTS_LANG
)

ALL = sorted(
    (p.name, v, c.name)
    for p in library.classics().values()
    for v in p.variants
    for c in p.variant(v).claims
)
MODELLED = [k for k in ALL if k[0] not in CLASSIC_VARIANTS_LANG]


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str, str], Row]:
    out = {}
    for p in DECIDED_HERE:
        for v in p.variants:
            for r in prove(p, v, max_runs=BOUND, generated_by="pytest tests/model/test_classics"):
                out[(p.name, v, r.claim)] = r
    return out


def test_the_library_is_every_module_of_the_package() -> None:
    folder = Path(library._package.__file__).parent
    files = sorted(f.stem for f in folder.glob("*.py") if not f.stem.startswith("_"))
    assert library.modules() == files
    assert len(library.classics()) == len(files)
    assert not set(library.classics()) & set(CATALOGUE)


def test_the_restated_literature_covers_exactly_the_library() -> None:
    got = {p.name: tuple(p.variants) for p in library.classics().values()}
    assert got == CLASSIC_VARIANTS
    assert {k for k in CLASSICS} <= set(ALL)


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_spec_pins_the_textbook_verdict(key: tuple[str, str, str]) -> None:
    p = library.classics()[key[0]]
    e = p.variant(key[1]).expected[key[2]]
    assert (e.verdict, e.runs) == classic_expected(*key)
    assert e.why  # cited beside the pin


@pytest.mark.parametrize("key", MODELLED, ids=["/".join(k) for k in MODELLED])
def test_model_finds_the_textbook_verdict(
    rows: dict[tuple[str, str, str], Row], key: tuple[str, str, str]
) -> None:
    row = rows[key]
    verdict, runs = classic_expected(*key)
    assert (row.result.verdict, row.result.runs) == (verdict, runs or BOUND), row.result.reason
    assert matches(row.expected, row.result)
    if verdict is Verdict.ATTACK:
        assert row.trace is not None
        p = library.classics()[key[0]]
        checked = evaluate(p, tracefmt.loads(tracefmt.dumps(row.trace)))
        assert checked.violated, checked.explanation
    else:
        assert row.trace is None


def test_every_classic_cites_its_source() -> None:
    for p in library.classics().values():
        assert p.source and "Source:" in p.narration, p.name
