"""Bounded search: iterative deepening over the number of runs, one z3 check per assignment.

For ``n`` runs, run 0 plays the claiming role and the other ``n - 1`` runs any multiset of
roles (runs are interchangeable, so multisets suffice); z3 chooses actors, intended peers,
what the intruder sends and when.  The first ``n`` with a satisfying assignment gives an
attack with the fewest runs; if every assignment up to the bound is unsatisfiable the claim
holds *within that bound*; a z3 ``unknown`` (timeout) makes the verdict unknown, never
"no attack".  One world is built per assignment and shared by all claims of its role
(push/pop), which is where most of the time would otherwise go.  Above
:data:`~.reduce.EXACT_RUNS` runs the top worlds of :mod:`.reduce` decide first: one world
per multiset of exactly ``K`` roles stands for every smaller world, and only the claims one
of them breaks are searched run count by run count (``reduce=False``: never).

Before any claim, :func:`check_variant` passes the variant through the one front end
(:func:`honest_run`): the spec's checks, its typed-language check and the model's own honest
run.  A protocol that fails them is an error (:class:`MalformedProtocol` or
:class:`UnsupportedProtocol` naming the step), never a verdict: in a model where honest
agents cannot finish, every claim would hold vacuously.
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import z3

from ethvoip.model.boundary import solver_boundary
from ethvoip.model.bounds import DEFAULT_MAX_RUNS as DEFAULT_MAX_RUNS  # re-exported
from ethvoip.model.claims import active, violation
from ethvoip.model.encode import Run, World
from ethvoip.model.reduce import EXACT_RUNS, claimant, top_assignments
from ethvoip.model.symbolic import Leaf, conj, leaf_eq
from ethvoip.spec.checks import front_end
from ethvoip.spec.errors import ModelError, UnsupportedProtocol
from ethvoip.spec.protocol import Claim, Role, Variant, Verdict
from ethvoip.spec.semantics import HonestEvent

#: z3 is deterministic for a fixed seed; pin it so verdicts and traces repeat exactly.
SEED = 0
DEFAULT_TIMEOUT_MS = 60_000


def _solver(timeout_ms: int, ctx: z3.Context) -> z3.Solver:
    z3.set_param("smt.random_seed", SEED)
    z3.set_param("sat.random_seed", SEED)
    s = z3.Solver(ctx=ctx)
    s.set("random_seed", SEED)
    s.set("timeout", timeout_ms)
    # z3's own SIGINT trap would swallow a Ctrl-C that lands in a check that then finishes
    # (the search goes on as if nothing happened); with it off, Python's handler keeps the
    # signal and raises KeyboardInterrupt when the check returns (see :func:`interrupt`).
    s.set("ctrl_c", False)
    return s


#: The solver inside :func:`_check` now, for :func:`interrupt` (one search per process).
_running: z3.Solver | None = None


def interrupt() -> None:
    """Stop the z3 check running now; safe from another thread (``Z3_interrupt``).

    ``ethvoip prove`` calls it when Ctrl-C arrives, so that a long check does not delay the
    KeyboardInterrupt until it ends.
    """
    solver = _running
    if solver is not None:
        solver.ctx.interrupt()


def _check(solver: z3.Solver) -> z3.CheckSatResult:
    """``solver.check()``, except that an interrupted check is Ctrl-C, never a verdict.

    A check stopped by :func:`interrupt` (or by z3's own SIGINT trap, if a solver has it on)
    answers ``unknown`` ("interrupted..."): that is the user stopping the search, not a
    verdict to record before going on.
    """
    global _running
    _running = solver
    try:
        status = solver.check()
    finally:
        _running = None
    if status == z3.unknown and "interrupted" in solver.reason_unknown():
        raise KeyboardInterrupt
    return status


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim, with the world and model of the attack if there is one."""

    claim: Claim
    verdict: Verdict
    runs: int | None  # attack: its run count; otherwise the bound that was searched
    seconds: float
    reason: str = ""
    world: World | None = None
    model: z3.ModelRef | None = None


def assignments(variant: Variant, claim_role: str, n: int) -> Iterator[tuple[Role, ...]]:
    """Role per run: run 0 the claiming role, the others a multiset of roles."""
    first = variant.role(claim_role)
    for rest in itertools.combinations_with_replacement(variant.roles, n - 1):
        yield (first, *rest)


@solver_boundary
def check_variant(
    variant: Variant,
    claims: Sequence[Claim] | None = None,
    *,
    max_runs: int = DEFAULT_MAX_RUNS,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    progress: Callable[[str], None] | None = None,
    reduce: bool = True,
    exact_runs: int = EXACT_RUNS,
) -> list[ClaimResult]:
    """Decide every claim (default: all of ``variant``) up to ``max_runs`` role runs.

    With ``reduce`` (the default) the run counts above ``exact_runs`` are first decided by
    the top worlds (:mod:`.reduce`); only a claim that one of them breaks (or on which z3
    gives up) is searched run count by run count there.  The verdicts are the same either
    way; ``reduce=False`` is the plain search, for comparison.
    """
    if max_runs < 1:
        raise ModelError("the bound must be at least one run")
    honest_run(variant, timeout_ms=timeout_ms)
    todo = list(variant.claims if claims is None else claims)
    if variant.reveals:
        # key compromise is timed against run 0 (encode.World._make_reveals), which a top
        # world's claimant need not be: those variants take the plain search, run by run
        reduce = False
    search = _Search(variant, timeout_ms, progress)
    exact = min(max_runs, max(exact_runs, 0)) if reduce else max_runs
    search.deepen(todo, 1, exact)
    if exact < max_runs:
        open_ = [c for c in todo if c.name not in search.results]
        suspects = search.top(open_, max_runs)
        search.deepen(suspects, exact + 1, max_runs)
        for c in suspects:
            if search.top_sat.get(c.name) and c.name not in search.results:
                # a top world broke it, yet no world of at most max_runs runs does: the
                # reduction is wrong, and no verdict from it may stand
                raise ModelError(
                    f"{variant.name} {c.name}: a top world of {max_runs} runs breaks the "
                    "claim but no smaller world does (a bug of the reduction; --no-reduce)"
                )
    return search.verdicts(todo, max_runs)


class _Search:
    """The state of one variant's search: verdicts so far, time per claim, vacuity."""

    def __init__(
        self, variant: Variant, timeout_ms: int, progress: Callable[[str], None] | None
    ) -> None:
        self.variant = variant
        self.timeout_ms = timeout_ms
        self.progress = progress
        self.results: dict[str, ClaimResult] = {}
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.unknown: dict[str, str] = {}
        # whether some world let the claiming run finish with honest peers at all: if none
        # did, every claim of that role would hold vacuously ("unknown", not "no attack")
        self.reached = {r.name: False for r in variant.roles}
        self.top_sat: dict[str, bool] = {}

    def _say(
        self, c: Claim, n: int, roles: Sequence[Role], status: object, world: str = ""
    ) -> None:
        if self.progress is not None:
            where = f" world {world}" if world else ""
            self.progress(
                f"{self.variant.name} {c.name} n={n} {[r.name for r in roles]}{where}: {status}"
            )

    def _reach(self, world: World, solver: z3.Solver, r: Run) -> None:
        if self.reached[r.role.name]:
            return
        solver.push()
        solver.add(world.z3(conj([active(world, r), leaf_eq(r.actor, world.agent["a"])])))
        self.reached[r.role.name] = _check(solver) == z3.sat
        solver.pop()

    def deepen(self, claims: Sequence[Claim], lo: int, hi: int) -> None:
        """Run counts ``lo..hi`` one by one, one world per role assignment (the plain search)."""
        by_role: dict[str, list[Claim]] = {}
        for c in claims:
            by_role.setdefault(c.role, []).append(c)
        for n in range(lo, hi + 1):
            for role, cs in by_role.items():
                todo = list(assignments(self.variant, role, n))
                for i, roles in enumerate(todo, start=1):
                    open_ = [c for c in cs if c.name not in self.results]
                    if not open_:
                        break
                    t0 = time.perf_counter()
                    world = World(self.variant, roles)
                    solver = _solver(self.timeout_ms, world.ctx)
                    solver.add(*world.constraints)
                    self._reach(world, solver, world.runs[0])
                    share = (time.perf_counter() - t0) / len(open_)
                    for c in open_:
                        where = f"{i}/{len(todo)}"
                        self._claim(world, solver, c, world.runs[0], n, roles, share, where)

    def _claim(
        self,
        world: World,
        solver: z3.Solver,
        c: Claim,
        r: Run,
        n: int,
        roles: Sequence[Role],
        share: float,
        where: str,
        *,
        top: bool = False,
    ) -> z3.CheckSatResult:
        t1 = time.perf_counter()
        solver.push()
        f = violation(world, c, r)
        solver.add(world.z3(f))
        if f is not False:
            self._say(c, n, roles, "solving", where)
        status = z3.unsat if f is False else _check(solver)
        self.seconds[c.name] += share + time.perf_counter() - t1
        if status == z3.sat and not top:
            model = _readable(solver, world, r)
            self.results[c.name] = ClaimResult(
                c, Verdict.ATTACK, n, self.seconds[c.name], "", world, model
            )
        elif status == z3.unknown and not top:
            self.unknown.setdefault(c.name, f"z3: {solver.reason_unknown()} at {n} runs")
        solver.pop()
        self._say(c, n, roles, status, where)
        return status

    def top(self, claims: Sequence[Claim], k: int) -> list[Claim]:
        """Decide ``claims`` on the top worlds of ``k`` runs; those some world breaks, or
        that z3 cannot decide there, are returned for the run-by-run search."""
        open_ = list(claims)
        suspects: dict[str, Claim] = {}
        todo = list(top_assignments(self.variant, k))
        for i, roles in enumerate(todo, start=1):
            here = [
                c for c in open_ if c.name not in suspects and any(r.name == c.role for r in roles)
            ]
            if not here:
                continue
            t0 = time.perf_counter()
            world = World(self.variant, roles, optional_runs=True)
            solver = _solver(self.timeout_ms, world.ctx)
            solver.add(*world.constraints)
            for role in dict.fromkeys(c.role for c in here):
                r = claimant(world, role)
                assert r is not None
                self._reach(world, solver, r)
            share = (time.perf_counter() - t0) / len(here)
            for c in here:
                r = claimant(world, c.role)
                assert r is not None
                where = f"{i}/{len(todo)} (top)"
                status = self._claim(world, solver, c, r, k, roles, share, where, top=True)
                if status != z3.unsat:
                    self.top_sat[c.name] = status == z3.sat
                    suspects[c.name] = c
        return [c for c in claims if c.name in suspects]

    def verdicts(self, todo: Sequence[Claim], max_runs: int) -> list[ClaimResult]:
        out: list[ClaimResult] = []
        for c in todo:
            secs = self.seconds[c.name]
            if c.name in self.results:
                out.append(self.results[c.name])
            elif c.name in self.unknown:
                out.append(ClaimResult(c, Verdict.UNKNOWN, max_runs, secs, self.unknown[c.name]))
            elif not self.reached[c.role]:
                why = f"vacuous: no run of {c.role} finishes with honest peers"
                out.append(
                    ClaimResult(c, Verdict.UNKNOWN, max_runs, secs, f"{why} within {max_runs} runs")
                )
            else:
                out.append(
                    ClaimResult(
                        c, Verdict.NO_ATTACK, max_runs, secs, f"typed, bound: {max_runs} runs"
                    )
                )
        return out


def _readable(solver: z3.Solver, world: World, r: Run) -> z3.ModelRef:
    """The attack with distinct agents in the claiming run's view, when one exists.

    Any attack proves the verdict; this only picks the textbook one (``a`` talks to ``e``,
    ``e`` impersonates ``a`` to ``b``) over a self-session where the solver finds both.
    """
    model = solver.model()
    names = [r.value(v.name) for v in world.variant.agent_vars]
    leaves_ = [x for x in names if isinstance(x, Leaf)]
    if len(leaves_) < 2:
        return model
    solver.push()
    solver.add(z3.Distinct(*(x.expr for x in leaves_)))
    if _check(solver) == z3.sat:
        model = solver.model()
    solver.pop()
    return model


@dataclass(frozen=True)
class HonestRun:
    world: World
    model: z3.ModelRef
    seconds: float


#: Front-end results per variant object within this process (``id`` -> (variant, run)):
#: ``ethvoip prove`` asks for the honest trace and then the claims, and pays once.  The
#: variant is kept in the entry so that its ``id`` cannot be reused by another object.
_HONEST: dict[int, tuple[Variant, HonestRun]] = {}


@solver_boundary
def honest_run(variant: Variant, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> HonestRun:
    """The front end: the spec's checks, then one run per role between honest agents who
    agree on who plays what over a passive network; every run must be able to finish.

    Raises :class:`~ethvoip.spec.errors.MalformedProtocol` (the spec's checks or its own
    honest run fail) or :class:`UnsupportedProtocol` (the spec's honest run completes but
    the model's cannot: the step and the message it could not match are named).
    """
    hit = _HONEST.get(id(variant))
    if hit is not None and hit[0] is variant:
        return hit[1]
    events = front_end(variant)
    out = _model_honest_run(variant, events, timeout_ms)
    _HONEST[id(variant)] = (variant, out)
    return out


def _model_honest_run(variant: Variant, events: list[HonestEvent], timeout_ms: int) -> HonestRun:
    t0 = time.perf_counter()
    # as many honest agents as roles, so that each role has its own player
    names = tuple("abcdfghijk"[: max(2, len(variant.roles))])
    world = World(variant, variant.roles, passive=True, honest=names)
    solver = _solver(timeout_ms, world.ctx)
    solver.add(*world.constraints)
    actors: dict[str, Leaf] = {}
    for run in world.runs:
        actors[run.role.agent.name] = run.actor
    players = list(actors)
    for i, a in enumerate(players):
        for b in players[i + 1 :]:
            solver.add(actors[a].expr != actors[b].expr)
    for run in world.runs:
        for name, actor in actors.items():
            val = run.value(name)
            if isinstance(val, Leaf):
                solver.add(val.expr == actor.expr)
    # the steps in the order the spec's honest run took them: the first one the model
    # cannot add is where (and on which message) its encoding departs from the spec
    run_of = {r.role.name: r for r in world.runs}
    for ev in events:
        run = run_of[ev.role]
        step = next(e for e in run.events if e.label == ev.label)
        assert step.moment.done is not None
        solver.add(step.moment.done)
        status = _check(solver)
        if status == z3.unknown:
            raise ModelError(
                f"variant {variant.name}: z3 gave up on the honest run at {ev.role}/{ev.label} "
                f"({solver.reason_unknown()})"
            )
        if status != z3.sat:
            raise UnsupportedProtocol(
                f"unsupported: the model's honest run is stuck at {ev.role}/{ev.label}: "
                f"it cannot {ev.action} {ev.term}, which the spec's honest run does ({status})"
            )
    for run in world.runs:
        d = run.last.moment.done
        assert d is not None
        solver.add(d)
    status = _check(solver)
    if status != z3.sat:
        raise ModelError(f"variant {variant.name}: honest agents cannot finish ({status})")
    return HonestRun(world, solver.model(), time.perf_counter() - t0)
