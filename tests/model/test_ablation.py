"""``ethvoip prove --ablate``: what removing each named check reopens, pinned from the spec's
narration and first principles (small bounds: every attack below needs one or two runs).

psk_handshake.  The narration says the hardened signature stops the splice even without
Lowe's fix.  Without Lowe's fix alone, e still gets N2 out of A (Lowe's decryption oracle),
but B finishes only on ``sign(<psk, Ks, A, B, N1, N2>, sk(A))`` for its own N1, N2 and its
own name: A signs that only in a session with B in which it received B's N1 back, which
e's relay does not give it (A's session with e signs ``<..., A, e, ...>``).  So B never
finishes a spliced session and no claim opens.  Symmetrically, with Lowe's fix and the bare
``sign(Ks, sk(A))``, A refuses B's message 4 in a session with e (it names B), so e never
learns N2 and cannot complete B's run: no claim opens.  Remove both and the paper's attack is
back: exactly the claims the paper variant loses to Lowe, with 2 runs.

sts.  Without the identities in the transcript, e relays A's ``g^x`` to B as his own
(``e, B, g^x``): B signs ``<sts_r, g^x, g^y>`` for e, and A accepts that signature as B's
answer to A.  A finishes believing it shares the key with B while B's run believes its peer
is e: A's agreement (``I_agree``) breaks with 2 runs, the identity misbinding that SIGMA's
identities exist for.  B never finishes (A's signature must verify under e's key), so the
key-share claims hold, and without a key registered by e under a victim's name (proof of
possession is still on) the Blake-Wilson-Menezes unknown key-share is not available.  Remove
the proof of possession as well and it is: the paper's Blake-Wilson-Menezes claims, 2 runs.
Without the role tags, B's own signature in message 2 is a valid message 3 of a session B
runs with itself (a subscriber calling his own number): e sends ``<b, b, g^z>`` and
reflects B's answer, and knows the key: ``R_secret_K`` with 1 run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ethvoip.attacks.cli import main
from ethvoip.model.ablate import (
    HONEST_FAILS,
    NOT_NEEDED,
    REOPENS,
    Removal,
    ablate,
    ablate_variant,
)
from ethvoip.spec import checknames as C
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import MalformedStructure, TraceError
from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Lookup,
    Protocol,
    Recv,
    Role,
    Send,
    Variant,
    Verdict,
    adds,
    agent,
    built,
    fresh,
    holds,
    var,
)
from ethvoip.spec.terms import Sort, inv, sign, sk
from tests.test_cli_docs import _check

DOCS = Path(__file__).resolve().parents[2] / "docs"


def paper_attacks(protocol: str) -> dict[str, int]:
    """The claims the paper variant loses, with their run counts, as the spec pins them."""
    v = CATALOGUE[protocol].variant("paper")
    return {c: e.runs for c, e in v.expected.items() if e.verdict is Verdict.ATTACK and e.runs}


def reopened(r: Removal) -> dict[str, int | None]:
    return {x.claim: x.result.runs for x in r.reopened}


def confirmed(r: Removal) -> None:
    assert r.ok and all(ok for _, ok in r.confirmed), r.confirmed


def test_psk_handshake_each_fix_alone_suffices_and_together_they_are_needed() -> None:
    got = {r.check: r for r in ablate_variant(CATALOGUE["psk_handshake"], "hardened", max_runs=2)}
    for check, other in ((C.LOWE_FIX, C.SESSION_SIGNATURE), (C.SESSION_SIGNATURE, C.LOWE_FIX)):
        r = got[check]
        assert r.status == NOT_NEEDED, (check, reopened(r))
        # backed by the other: without both, exactly the paper's attacks, with 2 runs
        assert [c for c, _ in r.backed_by] == [other]
        pair = dict(r.backed_by)[other]
        assert reopened(pair) == paper_attacks("psk_handshake")
        confirmed(pair)
    assert all(r.ok for r in got.values())


def test_sts_without_identities_reopens_the_misbinding_then_bwm_without_pop() -> None:
    p = CATALOGUE["sts"]
    ids = ablate(p, "hardened", C.STS_IDENTITIES, max_runs=2)
    assert reopened(ids) == {"I_agree": 2}
    confirmed(ids)
    bwm = ablate(p, "hardened", C.STS_IDENTITIES, C.POP, max_runs=2)
    assert reopened(bwm) == paper_attacks("sts")
    confirmed(bwm)
    tags = ablate(p, "hardened", C.ROLE_TAGS, max_runs=1)
    assert "R_secret_K" in reopened(tags) and reopened(tags)["R_secret_K"] == 1
    confirmed(tags)
    assert tags.reopened[0].trace is not None
    tr = tags.reopened[0].trace
    assert [(r.role, r.agent, str(r.params["A"])) for r in tr.runs] == [
        ("R", "a", "a")
    ]  # b with itself


def test_key_lookup_without_the_proof_is_the_paper_attack() -> None:
    r = ablate(CATALOGUE["key_lookup"], "hardened", C.STATE_PROOF, max_runs=1)
    assert r.status == REOPENS and reopened(r) == paper_attacks("key_lookup")
    confirmed(r)


def test_ablate_json_follows_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads((DOCS / "cli" / "ablate.schema.json").read_text(encoding="utf-8"))
    assert main(["prove", "--ablate", "--json", "--max-runs", "2", "psk_handshake"]) == 0
    out = json.loads(capsys.readouterr().out)
    _check(out, schema)
    removals = out["removals"]
    assert [r["check"] for r in removals] == list(
        CATALOGUE["psk_handshake"].variant("hardened").checks
    )
    assert any(r["backed_by"] for r in removals)  # the nested arrays both ways
    assert any(not r["backed_by"] for r in removals)
    with pytest.raises(AssertionError):  # and the checker itself can fail
        _check({"removals": [{**removals[0], "extra": 1}]}, schema)


def test_ablate_text_and_a_variant_without_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--ablate", "--max-runs", "1", "key_lookup"]) == 0
    out = capsys.readouterr().out
    assert "key_lookup/hardened" in out and "state_proof" in out and "I_secret_K (1)" in out
    assert main(["prove", "--ablate", "psk_handshake/paper"]) == 2
    assert "no named checks" in capsys.readouterr().err


def test_lifecycle_without_the_time_lock_the_operator_recovers_at_once() -> None:
    """Without ``now >= executableAt`` the operator announces a recovery to a key of its own
    and executes it in the same tick: claim 3 (the operator is bound by the time lock)."""
    from ethvoip.model.lifecycle import check
    from ethvoip.spec import lifecycle as LC
    from ethvoip.spec.lifecycle_eval import evaluate

    hardened = LC.variant("hardened")
    assert set(LC.checks(hardened)) == {
        c.id for c in C.CHECKS.values() if "key_lifecycle" in c.modelled
    }
    derived = LC.without(hardened, C.RECOVERY_TIMELOCK)
    assert all(g.check != C.RECOVERY_TIMELOCK for f in derived.functions for g in f.guards)
    q = next(q for q in derived.all_questions if q.claim is LC.ClaimId.OPERATOR_TIMELOCK)
    (r,) = check(derived, [q], max_steps=4, induction=False)
    assert r.verdict is LC.Expected.ATTACK and r.trace is not None
    assert evaluate(r.trace, variant=derived).violated
    assert [s.function for s in r.trace.steps if s.action == "call"][-1] == "executeRecovery"
    # the same calls on the full table: executeRecovery is refused by the time lock
    on_hardened = dataclasses.replace(r.trace, variant="hardened")
    with pytest.raises(TraceError, match=r"RecoveryNotReady"):
        evaluate(on_hardened, check_digest=False)


def _lookup_built(on: frozenset[str]) -> Variant:
    """A toy variant built from one check, ``lookup``: B looks A's key up and then checks A's
    signature with it.  Without the check the look-up goes but the signature check stays
    (a builder that drops too little): the derived variant cannot run honestly."""
    a, b = agent("A"), agent("B")
    n, ka = fresh("N", Sort.NONCE), var("KA", Sort.PUBKEY)
    vn = var("N", Sort.NONCE)
    steps = (Lookup("R_1", a, ka, checks=adds(on, "lookup")),) if "lookup" in on else ()
    i = Role("I", a, "initiator", (a, b), (sk(a),), (n,), (Send("I_1", sign(n, sk(a))),))
    r = Role("R", b, "responder", (b, a), (sk(b),), (), (*steps, Recv("R_2", sign(vn, inv(ka)))))
    claim = Claim("R_alive", ClaimKind.ALIVENESS, "R", "A took part", peer="I")
    return Variant("hardened", "toy", (i, r), (claim,), {"R_alive": holds()})


def test_a_removal_that_breaks_the_honest_run_is_reported_as_such() -> None:
    v = built(_lookup_built, ("lookup",))
    p = Protocol("toy", "toy", "test", "test", "", {"hardened": v})
    r = ablate(p, "hardened", "lookup", max_runs=1)
    assert r.status == HONEST_FAILS and "KA" in r.error and not r.rows
    assert r.ok  # decided: the front end's refusal is the answer, not a verdict


def test_an_unconfirmed_attack_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ethvoip.model.ablate as A
    from ethvoip.spec.evaluate import Evaluation

    monkeypatch.setattr(A, "evaluate", lambda *a, **k: Evaluation(False, "no", ()))
    assert main(["prove", "--ablate", "--max-runs", "1", "key_lookup"]) == 1
    assert "UNCONFIRMED" in capsys.readouterr().out


def test_traces_dir_gets_every_reopened_attack(tmp_path: Path) -> None:
    from ethvoip.model.ablate import with_variant
    from ethvoip.spec import trace as tracefmt
    from ethvoip.spec.evaluate import evaluate

    assert (
        main(["prove", "--ablate", "--max-runs", "1", "--traces-dir", str(tmp_path), "key_lookup"])
        == 0
    )
    stem = "key_lookup.hardened-without-state_proof.I_secret_K"
    assert {f.name for f in tmp_path.iterdir()} == {f"{stem}.{x}" for x in ("json", "txt", "svg")}
    p = CATALOGUE["key_lookup"]
    derived = with_variant(p, p.variant("hardened").without(C.STATE_PROOF))
    assert evaluate(derived, tracefmt.load(tmp_path / f"{stem}.json")).violated


def test_a_structural_fault_of_a_derived_variant_is_a_bug_never_a_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A derived variant whose *name* the front end refuses (as '+' once was) must stop the
    command, not count as "the honest run fails" or as a check not needed."""
    v = built(_lookup_built, ("lookup",))
    p = Protocol("toy", "toy", "test", "test", "", {"hardened": v})
    real = Variant.without

    def badly_named(self: Variant, *checks: str) -> Variant:
        return dataclasses.replace(real(self, *checks), name="hardened-without-a+b")

    monkeypatch.setattr(Variant, "without", badly_named)
    with pytest.raises(MalformedStructure, match="is not a name"):
        ablate(p, "hardened", "lookup", max_runs=1)
