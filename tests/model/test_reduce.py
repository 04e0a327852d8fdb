"""The reductions of the bounded search (:mod:`ethvoip.model.reduce`) lose no attack.

The verdicts with the reductions on everything (no run count searched world by world
first: ``exact_runs=0``) are compared with the plain search on every catalogue claim, and
every paper attack must still be found at its pinned run count.
"""

from __future__ import annotations

import io

import pytest
import z3

from ethvoip.model import search
from ethvoip.model.cli import main
from ethvoip.model.encode import World
from ethvoip.model.search import check_variant
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.errors import ModelError
from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Recv,
    Role,
    Send,
    Step,
    Variant,
    Verdict,
    agent,
    fresh,
    holds,
    var,
)
from ethvoip.spec.terms import Sort, sign, sk, tup

#: Small enough for seconds, large enough for the top worlds to hold unstarted runs (the
#: paper attacks need up to 3 runs; a bound of 3 pads the 1- and 2-run ones).
BOUND = 3

VARIANTS = [(p.name, v) for p in CATALOGUE.values() for v in p.variants]


@pytest.mark.parametrize("pv", VARIANTS, ids=["/".join(k) for k in VARIANTS])
def test_reduced_search_gives_the_plain_verdicts(pv: tuple[str, str]) -> None:
    v = CATALOGUE[pv[0]].variant(pv[1])
    plain = {
        r.claim.name: (r.verdict, r.runs) for r in check_variant(v, max_runs=BOUND, reduce=False)
    }
    reduced = {
        r.claim.name: (r.verdict, r.runs)
        for r in check_variant(v, max_runs=BOUND, reduce=True, exact_runs=0)
    }
    assert reduced == plain
    for name, (verdict, runs) in reduced.items():
        e = v.expected.get(name)
        if e is not None and e.verdict is Verdict.ATTACK and e.runs is not None:
            assert (verdict, runs) == (Verdict.ATTACK, e.runs), name


def test_an_unstarted_run_constrains_nothing() -> None:
    """With ``optional_runs`` a run that never starts may have any actor, even ``e``; a run
    that does start is honest, as in every world (else top worlds would drop executions)."""
    v = get("keystore_registration").variant("hardened")
    roles = (v.roles[0], *v.roles)
    for optional, expect in ((True, z3.sat), (False, z3.unsat)):
        w = World(v, roles, optional_runs=optional)
        s = z3.Solver(ctx=w.ctx)
        s.add(*w.constraints)
        last = w.runs[-1]
        started = last.events[0].moment.done
        assert started is not None
        s.add(z3.Not(started), last.actor.expr == w.e.expr)
        assert s.check() == expect
    w = World(v, roles, optional_runs=True)
    s = z3.Solver(ctx=w.ctx)
    s.add(*w.constraints)
    last = w.runs[-1]
    assert last.events[0].moment.done is not None
    s.add(last.events[0].moment.done, last.actor.expr == w.e.expr)
    assert s.check() == z3.unsat


def test_a_top_world_attack_that_no_smaller_world_confirms_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run-by-run search re-checks every claim a top world breaks; if it finds no
    attack, the reduction is wrong and no verdict may come out of it."""

    def lying_top(self: search._Search, claims: list[object], k: int) -> list[object]:
        for c in claims:
            self.top_sat[c.name] = True  # type: ignore[attr-defined]
        return claims

    monkeypatch.setattr(search._Search, "top", lying_top)
    v = get("mikey_key_transport").variant("hardened")
    with pytest.raises(ModelError, match="bug of the reduction"):
        check_variant(v, max_runs=2, exact_runs=1)


def test_no_reduce_switch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet", "--no-reduce", "--max-runs", "2", "mikey_key_transport"]) == 0
    out = capsys.readouterr().out
    assert "R_secret_K" in out and "MISMATCH" not in out


def test_progress_names_each_world_and_the_top_ones() -> None:
    """The live line says which world of how many it is on, and when it is a top world."""
    from ethvoip.model.cli import LiveLine

    said: list[str] = []
    v = get("mikey_key_transport").variant("hardened")
    check_variant(v, max_runs=2, exact_runs=1, progress=said.append)
    top = [m for m in said if "(top)" in m]
    assert top and all(" n=2 " in m for m in top)
    assert any(" world 1/1: " in m for m in said if " n=1 " in m)
    line = LiveLine(io.StringIO(), "[1/1] mikey_key_transport/hardened")
    line.update(top[-1])
    assert ", 2 runs, world " in line.text() and "(top)" in line.text()


def _signed_hello(challenge: bool) -> Variant:
    """B signs ``<A, B>`` for A (with ``challenge``: and A's fresh nonce); A accepts it.

    Without the nonce, one signature of B serves two runs of A: non-injective agreement
    holds, injective agreement falls to a replay with 3 runs (two of A, one of B)."""
    A, B = agent("A"), agent("B")
    n, vn = fresh("N", Sort.NONCE), var("N", Sort.NONCE)
    if challenge:
        i_steps: tuple[Step, ...] = (
            Send("I_1", tup(A, B, n)),
            Recv("I_2", sign(tup(A, B, n), sk(B))),
        )
        r_steps: tuple[Step, ...] = (
            Recv("R_1", tup(A, B, vn)),
            Send("R_2", sign(tup(A, B, vn), sk(B))),
        )
    else:
        i_steps = (Send("I_1", tup(A, B)), Recv("I_2", sign(tup(A, B), sk(B))))
        r_steps = (Recv("R_1", tup(A, B)), Send("R_2", sign(tup(A, B), sk(B))))
    i = Role("I", A, "A", (A, B), (), (n,) if challenge else (), i_steps)
    r = Role("R", B, "B", (B, A), (sk(B),), (), r_steps)
    claims = tuple(
        Claim(name, kind, "I", "", peer="R", data=(A, B), peer_at="R_2")
        for name, kind in (("inj", ClaimKind.I_AGREEMENT), ("ni", ClaimKind.NI_AGREEMENT))
    )
    return Variant("t", "", (i, r), claims, {c.name: holds() for c in claims})


@pytest.mark.parametrize("reduce", [False, True])
def test_injective_agreement_is_broken_by_a_replay_and_held_by_a_challenge(reduce: bool) -> None:
    """The Hall encoding of injective agreement: two runs of A on one run of B is a
    violation (3 runs), a fresh challenge makes it hold; non-injective holds in both."""
    got = {
        r.claim.name: (r.verdict, r.runs)
        for r in check_variant(_signed_hello(False), max_runs=4, reduce=reduce, exact_runs=1)
    }
    assert got == {"inj": (Verdict.ATTACK, 3), "ni": (Verdict.NO_ATTACK, 4)}
    got = {
        r.claim.name: r.verdict
        for r in check_variant(_signed_hello(True), max_runs=4, reduce=reduce, exact_runs=1)
    }
    assert got == {"inj": Verdict.NO_ATTACK, "ni": Verdict.NO_ATTACK}
