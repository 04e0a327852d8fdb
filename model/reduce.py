"""Reductions of the bounded search: the top worlds, and symmetry between runs of a role.

The plain search (:func:`ethvoip.model.search.check_variant` with ``reduce=False``) builds,
for every run count ``n <= K`` and every claiming role, one world per multiset of roles for
the other ``n - 1`` runs.  Building the formulas, not solving them, is where the time goes
(more than 90 % on the hardened variants), so the reductions cut the number of worlds:

* **Top worlds.**  A world built with ``optional_runs`` contains every world made of a subset
  of its runs (a run that never starts constrains nothing).  So the worlds of exactly ``K``
  runs, one per multiset of roles, contain every world of at most ``K`` runs: a claim that no
  top world breaks has no attack within ``K`` runs.  One top world serves the claims of
  every role it holds: the claimant is the first run of its role.
* **Symmetry.**  Runs of one role are interchangeable (the same constraints up to renaming
  their variables and fresh names).  Apart from the first run of each role (a claimant),
  the runs of a role are ordered: started runs before runs that never start, and among
  started ones by the time of their first step.  Every execution can be renamed into that
  order, so no attack is lost; z3 no longer explores the same execution once per order.

The argument in full is in ``docs/model.rst`` ("Bounded search that scales"); the tests
compare the verdicts with and without the reductions on every catalogue claim.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import z3

from ethvoip.model.encode import Run, World
from ethvoip.spec.protocol import Role, Variant

#: Up to this many runs the search goes world by world, run count by run count, as without
#: reductions: every attack of the literature on these protocols needs two or three runs, so
#: attacks (and their traces) are found exactly as before; the top worlds decide the rest.
EXACT_RUNS = 3


def top_assignments(variant: Variant, k: int) -> Iterator[tuple[Role, ...]]:
    """Every multiset of ``k`` roles, runs of a role next to each other."""
    yield from itertools.combinations_with_replacement(variant.roles, k)


def claimant(world: World, role: str) -> Run | None:
    """The first run of ``role`` in ``world`` (the one that claims), if it has one."""
    return next((r for r in world.runs if r.role.name == role), None)


def symmetry(world: World) -> list[z3.BoolRef]:
    """Order the runs of each role after its first: started ones first, by first-step time."""
    out: list[z3.BoolRef] = []
    by_role: dict[str, list[Run]] = {}
    for r in world.runs:
        by_role.setdefault(r.role.name, []).append(r)
    for runs in by_role.values():
        for r1, r2 in itertools.pairwise(runs[1:]):
            m1, m2 = r1.events[0].moment, r2.events[0].moment
            assert m1.done is not None and m2.done is not None
            assert m1.time is not None and m2.time is not None
            out.append(z3.Implies(m2.done, z3.And(m1.done, m1.time <= m2.time)))
    return out
