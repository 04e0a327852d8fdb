"""An untyped mode, bounded in term depth: the type-flaw attacks the typed model cannot find.

The typed encoding (:mod:`ethvoip.model.symbolic`) gives every received variable the shape of
its value in the honest run: a key variable holds a key.  A real receiver that does not check
types accepts any term there, which is how Otway-Rees falls (A takes the triple ``M, A, B``
of her own first message, replayed, for the key).  Searching every shape at once is out of
reach of this encoding (z3 answers ``unknown`` on untyped variables, docs/model.rst); this
mode searches a bounded part of it, and says which:

* **one variable at a time** takes another shape: a received variable of sort nonce or key
  of one role (in every run of that role), the others keep their typed shapes;
* the other shapes are those of the subterms of the honest run's messages, of depth at most
  ``depth`` (an atom has depth 0, ``<a, b>`` depth 1): the terms a type flaw can substitute
  are the protocol's own (tuples are pairs nested to the right, as the protocol writes them);
* the runs, as in the typed mode, up to ``max_runs``.

A claim the typed mode breaks keeps its typed attack.  Otherwise an untyped attack is
reported with its confusion (which variable, which shape) in the reason, and its trace
re-checks in the evaluator with untyped matching (``evaluate(..., untyped=True)``); "no
attack" says the bound it searched, untyped and typed alike, and is never read as more.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence

import z3

from ethvoip.model.claims import violation
from ethvoip.model.encode import World, receive_shapes
from ethvoip.model.search import (
    DEFAULT_TIMEOUT_MS,
    ClaimResult,
    _check,
    _readable,
    _solver,
    assignments,
    check_variant,
)
from ethvoip.spec import terms as T
from ethvoip.spec.checks import representable
from ethvoip.spec.notation import notation
from ethvoip.spec.protocol import Claim, Variant, Verdict
from ethvoip.spec.semantics import honest_run
from ethvoip.spec.terms import Sort

#: Subterms of the protocol's messages up to this depth are tried by default.
DEFAULT_DEPTH = 3

#: Sorts of the variables that may take another shape (names, keys of agents and group
#: elements keep theirs: the claims and look-ups read them as such).
CONFUSABLE = frozenset({Sort.NONCE, Sort.KEY})

Confusion = Mapping[tuple[str, str], T.Term]


def depth(t: T.Term) -> int:
    """Term depth: 0 for an atom, 1 + the deepest child otherwise."""
    kids = T.children(t)
    return 0 if not kids else 1 + max(depth(k) for k in kids)


def shape_of(t: T.Term) -> object:
    """``t`` with every atom replaced by its sort: what two candidate shapes share."""
    if isinstance(t, T.Atom):
        return t.sort
    if isinstance(t, T.Hash):
        return ("hash", t.fn, *(shape_of(a) for a in t.args))
    return (type(t).__name__, *(shape_of(c) for c in T.children(t)))


def candidate_shapes(variant: Variant, max_depth: int) -> list[T.Term]:
    """The distinct shapes of the subterms of the honest run's messages, up to ``max_depth``,
    that the model can encode."""
    out: dict[object, T.Term] = {}
    for ev in honest_run(variant):
        if ev.action != "send":
            continue
        for s in T.subterms(ev.term):
            if depth(s) <= max_depth and representable(s, opaque=True):
                out.setdefault(shape_of(s), s)
    return list(out.values())


def confusions(variant: Variant, max_depth: int) -> Iterator[tuple[str, Confusion]]:
    """(description, shapes override): one received variable given another shape."""
    shapes = candidate_shapes(variant, max_depth)
    for (role, name), honest in sorted(receive_shapes(variant).items()):
        if T.sort_of(honest) not in CONFUSABLE or not isinstance(honest, T.Atom):
            continue
        for s in shapes:
            if shape_of(s) != shape_of(honest):
                yield f"{role}'s {name} as {notation(s)}", {(role, name): s}


def check_untyped(
    variant: Variant,
    claims: Sequence[Claim] | None = None,
    *,
    max_runs: int = 2,
    max_depth: int = DEFAULT_DEPTH,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> list[ClaimResult]:
    """Every claim (default: all), typed first, then untyped within the bounds above."""
    typed = check_variant(variant, claims, max_runs=max_runs, timeout_ms=timeout_ms)
    tried = list(confusions(variant, max_depth))
    bound = f"untyped: one variable of another shape, depth {max_depth}, bound: {max_runs} runs"
    out: list[ClaimResult] = []
    for r in typed:
        if r.verdict is Verdict.ATTACK:
            out.append(r)
            continue
        t0 = time.perf_counter()
        found, gave_up = _search(variant, r.claim, tried, max_runs, timeout_ms)
        secs = r.seconds + time.perf_counter() - t0
        if found is not None:
            n, why, world, model = found
            reason = f"untyped (depth {max_depth}): {why}"
            out.append(ClaimResult(r.claim, Verdict.ATTACK, n, secs, reason, world, model))
        elif gave_up or r.verdict is Verdict.UNKNOWN:
            out.append(ClaimResult(r.claim, Verdict.UNKNOWN, max_runs, secs, gave_up or r.reason))
        else:
            out.append(ClaimResult(r.claim, Verdict.NO_ATTACK, max_runs, secs, bound))
    return out


def _search(
    variant: Variant,
    claim: Claim,
    tried: list[tuple[str, Confusion]],
    max_runs: int,
    timeout_ms: int,
) -> tuple[tuple[int, str, World, z3.ModelRef] | None, str]:
    """The first untyped attack, fewest runs first; or why z3 gave up (``""``: it did not)."""
    gave_up = ""
    for n in range(1, max_runs + 1):
        for roles in assignments(variant, claim.role, n):
            played = {r.name for r in roles}
            for why, shapes in tried:
                if not {role for role, _ in shapes} <= played:
                    continue  # that role plays no run here: the typed world, already done
                world = World(variant, roles, shapes=shapes)
                solver = _solver(timeout_ms, world.ctx)
                solver.add(*world.constraints)
                solver.add(world.z3(violation(world, claim)))
                status = _check(solver)
                if status == z3.sat:
                    return (n, why, world, _readable(solver, world, world.runs[0])), ""
                if status == z3.unknown:
                    gave_up = gave_up or f"z3: {solver.reason_unknown()} at {n} runs ({why})"
    return None, gave_up
