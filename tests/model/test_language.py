"""The constructs issue 15 §2 adds to the language, one by one: long-term keys ``k(A, S)``,
a server of its own (more honest agents), tickets forwarded unopened (``msg`` variables),
public names the intruder builds, and key compromise of old sessions (``Reveal``).

Each has an honest run (re-checked by the evaluator) and a soundness test: a planted flaw is
an attack, re-checked by the evaluator, never "no attack".  The refusals each have a test.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import z3

from ethvoip.model.claims import finished
from ethvoip.model.cli import honest_trace, prove
from ethvoip.model.encode import World
from ethvoip.model.search import _solver, check_variant
from ethvoip.model.symbolic import leaf_eq
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.checks import front_end
from ethvoip.spec.classics import ns_shared_key
from ethvoip.spec.deduction import Knowledge
from ethvoip.spec.errors import MalformedProtocol, TraceError, UnsupportedProtocol
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.notation import notation
from ethvoip.spec.protocol import Reveal, Variant, Verdict, var
from ethvoip.spec.semantics import INTRUDER
from ethvoip.spec.terms import (
    Atom,
    Sort,
    exp,
    from_json,
    ltk,
    match,
    pk,
    senc,
    sign,
    sk,
    to_json,
    tup,
)
from tests.literature_lang import UNTYPED_LANG
from tests.model import language_probes as probes

a, b = Atom("a", Sort.AGENT), Atom("b", Sort.AGENT)


def _verdicts(v: Variant, max_runs: int) -> dict[str, tuple[Verdict, int | None]]:
    """Every claim's verdict; every attack re-checked by the evaluator through the file."""
    p = probes.protocol(v)
    out = {}
    for row in prove(p, v.name, max_runs=max_runs, generated_by="pytest"):
        out[row.claim] = (row.result.verdict, row.result.runs)
        if row.result.verdict is Verdict.ATTACK:
            assert row.trace is not None
            got = evaluate(p, tracefmt.loads(tracefmt.dumps(row.trace)))
            assert got.violated, got.explanation
    return out


def _honest(v: Variant) -> tracefmt.Trace:
    p = probes.protocol(v)
    trace = honest_trace(p, v.name, "pytest")
    got = evaluate(p, tracefmt.loads(tracefmt.dumps(trace)))
    assert not got.violated and len(got.finished_runs) == len(v.roles)
    return trace


# -- k(A, S) ----------------------------------------------------------------------------


def test_long_term_key_terms_round_trip_match_and_print() -> None:
    t = senc(a, ltk(a, b))
    assert from_json(to_json(t)) == t
    assert match(senc(a, ltk(var("A", Sort.AGENT), b)), t) == {var("A", Sort.AGENT): a}
    assert ltk(a, b) != ltk(b, a)  # ordered: the key a shares with b
    assert notation(t) == "{|a|}k(a, b)"


def test_the_intruder_holds_his_own_long_term_keys_only() -> None:
    know = Knowledge([a, b], own=INTRUDER)
    assert know.derivable(ltk(INTRUDER, b)) and know.derivable(ltk(a, INTRUDER))
    assert not know.derivable(ltk(a, b))


def test_long_term_key_honest_run_and_a_planted_leak_is_an_attack() -> None:
    _honest(probes.shared_key(flaw=False))
    assert _verdicts(probes.shared_key(flaw=False), 2) == {"R_secret_N": (Verdict.NO_ATTACK, 2)}
    assert _verdicts(probes.shared_key(flaw=True), 2) == {"R_secret_N": (Verdict.ATTACK, 2)}


@pytest.mark.parametrize(("peer", "finishes"), [("e", True), ("b", False), ("a", False)])
def test_the_model_builds_k_e_x_and_never_k_a_x(peer: str, finishes: bool) -> None:
    # one run of B, nobody else: B finishes only on a message under k(A, B) the intruder
    # builds himself, which he can when A = e, and never for an honest A
    v = probes.receives_under_ltk()
    w = World(v, (v.role("R"),))
    s = _solver(10_000, w.ctx)
    s.add(*w.constraints)
    r = w.runs[0]
    s.add(w.z3(finished(r)), w.z3(leaf_eq(r.env.leaf(v.role("R").params[1]), w.agent[peer])))
    assert (s.check() == z3.sat) is finishes


# -- a server of its own, tickets -----------------------------------------------------


def test_a_server_of_its_own_and_a_forwarded_ticket_run_honestly() -> None:
    trace = _honest(probes.server_ticket(flaw=False))
    assert {r.agent for r in trace.runs} == {"a", "b", "c"}
    forwarded = [e for e in trace.events if e.label == "I_3"]
    assert forwarded and forwarded[0].term == next(e.term for e in trace.events if e.label == "R_3")


def test_server_ticket_flawless_holds_and_a_planted_leak_is_an_attack() -> None:
    assert _verdicts(probes.server_ticket(flaw=False), 3) == {"R_secret_K": (Verdict.NO_ATTACK, 3)}
    assert _verdicts(probes.server_ticket(flaw=True), 3) == {"R_secret_K": (Verdict.ATTACK, 2)}


def test_a_ticket_of_a_shape_the_model_cannot_encode_is_unsupported() -> None:
    v = probes.opaque_private_key()
    for f in (front_end, lambda v: check_variant(v, max_runs=1)):
        with pytest.raises(UnsupportedProtocol, match=r"unsupported: .*sk\(a\).* at R/R_1"):
            f(v)


def test_fewer_than_two_honest_agents_is_refused() -> None:
    v = dataclasses.replace(probes.shared_key(flaw=False), honest_agents=1)
    with pytest.raises(MalformedProtocol, match="honest_agents"):
        front_end(v)


# -- public names ---------------------------------------------------------------------


def test_the_intruder_builds_a_public_name() -> None:
    # the responder accepts <store, N> from anyone; with the name unbuildable the model
    # said "no attack" where the evaluator's intruder (rightly) builds it
    _honest(probes.public_name())
    assert _verdicts(probes.public_name(), 1) == {"R_alive": (Verdict.ATTACK, 1)}


# -- key compromise -------------------------------------------------------------------

NSSK = ns_shared_key.PROTOCOL


@functools.cache
def _ds_trace() -> tracefmt.Trace:
    """Denning-Sacco's attack as the model finds it (B's secrecy, three runs)."""
    v = NSSK.variant("compromise")
    (row,) = [r for r in prove(NSSK, v.name, max_runs=3) if r.claim == "R_secret_Kab"]
    assert (row.result.verdict, row.result.runs) == (Verdict.ATTACK, 3)
    assert row.trace is not None
    return row.trace


def test_denning_sacco_uses_the_compromise_and_is_rechecked() -> None:
    t = _ds_trace()
    assert [e for e in t.events if e.action == "reveal"], "the attack uses the old key"
    assert evaluate(NSSK, tracefmt.loads(tracefmt.dumps(t))).violated


def test_evaluator_refuses_a_reveal_after_the_claimant_started() -> None:
    t = _ds_trace()
    ev = list(t.events)
    i = next(k for k, e in enumerate(ev) if e.action == "reveal")
    claimant_first = min(k for k, e in enumerate(ev) if e.run == t.violation.run)  # type: ignore[union-attr]
    moved = ev.pop(i)
    ev.insert(claimant_first, moved)  # now just after the claimant's first event
    # the event numbers the derivations cite have moved: drop them, derivability stays checked
    ev = [dataclasses.replace(e, derivation=None) for e in ev]
    with pytest.raises(TraceError, match="not an old session"):
        evaluate(NSSK, dataclasses.replace(t, events=tuple(ev)))


def test_evaluator_refuses_a_reveal_of_an_unfinished_run_or_another_term() -> None:
    t = _ds_trace()
    ev = list(t.events)
    i = next(k for k, e in enumerate(ev) if e.action == "reveal")
    early = [ev[i], *ev[:i], *ev[i + 1 :]]  # before the server even ran
    with pytest.raises(TraceError, match="before it finished"):
        evaluate(NSSK, dataclasses.replace(t, events=tuple(early)))
    other = list(ev)
    other[i] = dataclasses.replace(ev[i], term=Atom("Na#2", Sort.NONCE))
    with pytest.raises(TraceError, match="may not reveal"):
        evaluate(NSSK, dataclasses.replace(t, events=tuple(other)))
    with pytest.raises(TraceError, match="may not reveal"):
        evaluate(NSSK, dataclasses.replace(t, variant="original"), check_digest=False)


def test_a_reveal_naming_no_role_or_an_unbound_term_is_malformed() -> None:
    v = NSSK.variant("compromise")
    with pytest.raises(MalformedProtocol, match="names no role"):
        front_end(dataclasses.replace(v, reveals=(Reveal("Z", var("Kab", Sort.KEY)),)))
    with pytest.raises(MalformedProtocol, match="never bound"):
        front_end(dataclasses.replace(v, reveals=(Reveal("R", var("Q", Sort.KEY)),)))


def test_descriptions_without_the_new_fields_keep_their_form() -> None:
    # traces carry the spec digest: variants that use no new field describe as before
    from ethvoip.spec.protocol import describe

    d = describe(probes.protocol(probes.shared_key(flaw=False)))
    assert "reveals" not in d["variants"]["shared_key"]
    assert "honest_agents" not in d["variants"]["shared_key"]
    d3 = describe(NSSK)["variants"]
    assert d3["compromise"]["honest_agents"] == 3 and d3["compromise"]["reveals"]


def test_a_no_attack_verdict_says_it_is_typed() -> None:
    (r,) = check_variant(probes.shared_key(flaw=False), max_runs=2)
    assert r.verdict is Verdict.NO_ATTACK and r.reason.startswith("typed")


# -- Diffie-Hellman over any public base -----------------------------------------------


@pytest.mark.parametrize("base", ["g", "q"])
def test_diffie_hellman_over_a_public_base_runs_and_a_planted_leak_is_an_attack(
    base: str,
) -> None:
    trace = _honest(probes.signed_dh(base, flaw=False))
    assert any(str(e.term).startswith(f"sign(<a, {base}^") for e in trace.events)
    assert _verdicts(probes.signed_dh(base, flaw=False), 2) == {"I_secret": (Verdict.NO_ATTACK, 2)}
    assert _verdicts(probes.signed_dh(base, flaw=True), 2) == {"I_secret": (Verdict.ATTACK, 2)}


def test_diffie_hellman_over_a_non_constant_base_is_unsupported() -> None:
    v = probes.signed_dh("q", flaw=False)
    i = v.role("I")
    peer = i.params[1]
    share = sign(tup(peer, exp(peer, i.fresh[0])), sk(i.agent))  # a name as the base
    bad = dataclasses.replace(i, steps=(dataclasses.replace(i.steps[0], term=share),))
    with pytest.raises(UnsupportedProtocol, match="Diffie-Hellman over base B"):
        front_end(dataclasses.replace(v, roles=(bad, v.role("R"))))


# -- ephemeral key pairs -----------------------------------------------------------------


def test_ephemeral_key_pairs_are_built_from_their_seed_only() -> None:
    ek = Atom("Ek#1", Sort.KEY)
    assert Knowledge([ek]).derivable(pk(ek)) and Knowledge([ek]).derivable(sk(ek))
    assert not Knowledge([pk(ek)]).derivable(sk(ek))
    assert not Knowledge([a]).derivable(sk(a))  # an agent's private key never


def test_ephemeral_pair_honest_run_and_a_planted_seed_leak_is_an_attack() -> None:
    trace = _honest(probes.ephemeral_pair(flaw=False))
    assert any("pk(Ek#1)" in str(e.term) for e in trace.events)
    assert _verdicts(probes.ephemeral_pair(flaw=False), 2) == {"R_secret_M": (Verdict.NO_ATTACK, 2)}
    assert _verdicts(probes.ephemeral_pair(flaw=True), 2) == {"R_secret_M": (Verdict.ATTACK, 2)}


def test_a_key_pair_of_a_name_or_constant_other_than_an_agent_is_unsupported() -> None:
    v = probes.ephemeral_pair(flaw=False)
    i = v.role("I")
    odd = sign(tup(i.params[1], pk(Atom("q", Sort.CONST))), sk(i.agent))
    bad = dataclasses.replace(i, steps=(dataclasses.replace(i.steps[0], term=odd),))
    with pytest.raises(UnsupportedProtocol, match=r"pk\(q\): a key pair of neither"):
        front_end(dataclasses.replace(v, roles=(bad, v.role("R"))))


# -- one front end --------------------------------------------------------------------

ACCEPTED = [
    probes.shared_key(flaw=False),
    probes.receives_under_ltk(),
    probes.server_ticket(flaw=True),
    probes.public_name(),
    probes.signed_dh("q", flaw=False),
    probes.ephemeral_pair(flaw=False),
    *NSSK.variants.values(),
]


@pytest.mark.parametrize("v", [*ACCEPTED, probes.opaque_private_key()], ids=lambda v: v.name)
def test_spec_checker_and_model_accept_the_same_new_constructs(v: Variant) -> None:
    def outcome(f: object) -> str:
        try:
            assert callable(f)
            f(v)
        except (MalformedProtocol, UnsupportedProtocol) as exc:
            return f"refused: {type(exc).__name__}"
        return "accepted"

    spec, model = outcome(front_end), outcome(lambda v: check_variant(v, max_runs=1))
    assert spec == model == ("accepted" if v in ACCEPTED else "refused: UnsupportedProtocol")


# -- the untyped mode ---------------------------------------------------------------------


def test_untyped_matching_binds_any_sort_typed_does_not() -> None:
    k = var("K", Sort.KEY)
    n = Atom("n", Sort.NONCE)
    assert match(senc(k, ltk(a, b)), senc(tup(n, a), ltk(a, b))) is None
    assert match(senc(k, ltk(a, b)), senc(tup(n, a), ltk(a, b)), untyped=True) == {k: tup(n, a)}


def test_untyped_mode_finds_the_otway_rees_type_flaw_and_the_evaluator_confirms_it() -> None:
    from ethvoip.model.export import build_trace
    from ethvoip.model.untyped import check_untyped
    from ethvoip.spec.classics import otway_rees

    p = otway_rees.PROTOCOL
    for (_, vname, claim), (verdict, runs) in UNTYPED_LANG.items():
        want = otway_rees.UNTYPED[vname][claim]
        assert (want.verdict, want.runs) == (verdict, runs)  # the module pins the textbook's
        assert runs is not None
        got = {r.claim.name: r for r in check_untyped(p.variant(vname), max_runs=runs)}
        r = got[claim]
        assert (r.verdict, r.runs) == (verdict, runs), r.reason
        assert r.reason.startswith("untyped") and r.world is not None and r.model is not None
        t = build_trace(p, vname, r.world, r.model, claim=r.claim, bound=runs, generated_by="t")
        t = tracefmt.loads(tracefmt.dumps(t))
        assert evaluate(p, t, untyped=True).violated
        with pytest.raises(TraceError, match="does not match"):
            evaluate(p, t)  # typed, the receiver refuses the triple as a key


def test_untyped_mode_keeps_typed_attacks_and_says_its_bound_on_no_attack() -> None:
    from ethvoip.model.untyped import check_untyped

    (flawed,) = check_untyped(probes.shared_key(flaw=True), max_runs=2)
    assert (flawed.verdict, flawed.runs, flawed.reason) == (Verdict.ATTACK, 2, "")
    (sound,) = check_untyped(probes.shared_key(flaw=False), max_runs=2)
    assert sound.verdict is Verdict.NO_ATTACK
    assert sound.reason.startswith("untyped: one variable of another shape, depth 3")


def test_prove_untyped_from_the_command_line_pins_the_type_flaws(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ethvoip prove --untyped``: Otway-Rees's two type flaws, each claim against the
    protocol's untyped expectation; typed, the same file holds (and says it is typed)."""
    import json

    from ethvoip.model import cli
    from ethvoip.spec.classics import otway_rees

    path = otway_rees.__file__
    assert cli.main(["--untyped", "--json", path]) == 0
    got = {r["claim"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    for claim, (verdict, runs) in (
        (c, v) for (p, _, c), v in UNTYPED_LANG.items() if p == "otway_rees"
    ):
        assert (got[claim]["verdict"], got[claim]["runs"]) == (verdict.value, runs)
        assert got[claim]["reason"].startswith("untyped")
    assert cli.main(["--json", path]) == 0
    typed = json.loads(capsys.readouterr().out)["results"]
    assert {r["verdict"] for r in typed} == {Verdict.NO_ATTACK.value}
    assert all(r["reason"].startswith("typed") for r in typed)
