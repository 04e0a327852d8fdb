"""The reduction of the bounded search: the top worlds of ``K`` runs.

The plain search (:func:`ethvoip.model.search.check_variant` with ``reduce=False``) builds,
for every run count ``n <= K`` and every claiming role, one world per multiset of roles for
the other ``n - 1`` runs.  Building the formulas, not solving them, is where the time goes
(about 90 % on the hardened variants), so the reduction cuts the number of worlds.

A world built with ``optional_runs`` contains every world made of a subset of its runs (a
run that never starts constrains nothing).  So the worlds of exactly ``K`` runs, one per
multiset of roles, contain every world of at most ``K`` runs: a claim that no top world
breaks has no attack within ``K`` runs.  One top world serves the claims of every role it
holds: the claimant is the first run of its role (runs of a role are interchangeable).

Symmetry breaking between runs of a role (ordering them by their first step) was tried and
measured: z3's own time is under a tenth of the total and did not change, so it is not
used (``docs/model.rst`` gives the figures).

The argument in full is in ``docs/model.rst`` ("Bounded search that scales"); the tests
compare the verdicts with and without the reduction on every catalogue claim.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

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
