"""The unbounded mode (model/horn.py, model/unbounded.py): pinned verdicts for the catalogue,
and the checks that keep a "proved" honest.

The pins come from the protocols and the literature, not from running the code: a paper flaw
the bounded model attacks must come out "cannot prove" (the abstraction over-approximates
every execution, so it derives every real attack; "proved" there would be unsound), and the
hardened variants' claims are the textbook fixes (NSL, RFC 3830 public-key mode, SIGMA-style
STS, proof of possession) which ProVerif proves for unbounded sessions.  Injective agreement
is checked in its non-injective form only: "proved non-injective".
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings

from ethvoip.model.unbounded import Checker, UVerdict
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.protocol import ClaimKind, Verdict
from tests.model import test_sound_property as sound_property
from tests.model.small_protocols import derived_key

P, NI, NO = UVerdict.PROVED, UVerdict.PROVED_NI, UVerdict.CANNOT_PROVE

PINS: dict[str, dict[str, UVerdict]] = {
    # Needham-Schroeder: Lowe's attack breaks every responder guarantee but aliveness; the
    # initiator's guarantees and its secret survive (Lowe 1996)
    "psk_handshake/paper": {
        "I_secret_Ks": P,
        "R_secret_Ks": NO,
        "R_alive": P,
        "R_weak_agree": NO,
        "R_agree_nonces": NO,
        "R_agree_Ks": NO,
        "I_agree": NI,
        "R_key_share": NO,
    },
    # NSL plus a signature binding Ks to both names and nonces: everything holds
    "psk_handshake/hardened": {
        "I_secret_Ks": P,
        "R_secret_Ks": P,
        "R_alive": P,
        "R_weak_agree": P,
        "R_agree_nonces": P,
        "R_agree_Ks": NI,
        "I_agree": NI,
        "R_key_share": P,
    },
    # a bare a=k: key: anyone can encrypt a key to B; only the caller's key stays secret
    "mikey_key_transport/paper": {
        "I_secret_K": P,
        "R_secret_K": NO,
        "R_alive": NO,
        "R_weak_agree": NO,
        "R_agree_K": NO,
    },
    # RFC 3830 public-key mode: SIGNi covers IDi, IDr, PKE and KEMAC; the replay cache (the
    # one-to-one part of R_agree_K) is state the abstraction does not have
    "mikey_key_transport/hardened": {
        "I_secret_K": P,
        "R_secret_K": P,
        "R_alive": P,
        "R_weak_agree": P,
        "R_agree_K": NI,
    },
    # Blake-Wilson-Menezes: g^(xy) stays secret, B's signature is fresh, but the identities
    # are not bound (unknown key-share)
    "sts/paper": {
        "I_secret_K": P,
        "R_secret_K": P,
        "I_alive": P,
        "I_agree": NO,
        "R_agree": NO,
        "R_dialog": NO,
        "I_key_share": NO,
        "R_key_share": NO,
    },
    # SIGMA-style identities and role tags in the signed transcript (Krawczyk 2003)
    "sts/hardened": {
        "I_secret_K": P,
        "R_secret_K": P,
        "I_alive": P,
        "I_agree": P,
        "R_agree": P,
        "R_dialog": P,
        "I_key_share": P,
        "R_key_share": P,
    },
    # B authenticates whoever message 1 names: the hijack and the cross-call attacks
    "sts/unbound": {
        "I_secret_K": P,
        "R_secret_K": NO,
        "I_alive": P,
        "I_agree": NO,
        "R_agree": NO,
        "R_dialog": NO,
        "I_key_share": NO,
        "R_key_share": NO,
    },
    # front-running and h(receipt) on chain
    "keystore_registration/paper": {"O_agree_key": NO, "O_secret_password": NO},
    # the receipt names the key, possession is proved, Pw travels under pk(S)
    "keystore_registration/hardened": {"O_agree_key": P, "O_secret_password": P},
    # the node picks the key / a state signed by the chain names it
    "key_lookup/paper": {"I_secret_K": NO},
    "key_lookup/hardened": {"I_secret_K": P},
}

#: sts/unbound is the largest abstraction (B's peer is any agent): seconds, not tenths
SLOW = {"sts/unbound"}


def test_pins_cover_the_catalogue() -> None:
    names = {
        f"{p.name}/{v}": set(p.variant(v).expected) for p in CATALOGUE.values() for v in p.variants
    }
    assert {k: set(v) for k, v in PINS.items()} == names


@pytest.mark.parametrize("target", [t for t in PINS if t not in SLOW])
def test_unbounded_verdicts_are_the_pinned_ones(target: str) -> None:
    pname, vname = target.split("/")
    v = CATALOGUE[pname].variant(vname)
    got = {r.claim.name: r.verdict for r in Checker(v).check()}
    assert got == PINS[target]


def test_pins_never_prove_what_the_bounded_model_attacks() -> None:
    # the pins themselves against the spec's bounded expectations: an attack is never proved
    for target, pins in PINS.items():
        pname, vname = target.split("/")
        v = CATALOGUE[pname].variant(vname)
        for claim, verdict in pins.items():
            if v.expected[claim].verdict is Verdict.ATTACK:
                assert verdict is NO, (target, claim)
            if v.claim(claim).kind is ClaimKind.I_AGREEMENT and verdict is not NO:
                assert verdict is NI, (target, claim)  # injectivity is never claimed


def test_every_honest_run_is_derivable_in_the_abstraction() -> None:
    # otherwise every "proved" would be vacuous: each role of each variant finishes with
    # each role played by its own honest agent
    for p in CATALOGUE.values():
        for vname, v in p.variants.items():
            if f"{p.name}/{vname}" in SLOW:
                continue
            ch = Checker(v)
            assert all(ch.reached(r) for r in v.roles), (p.name, vname)


def test_an_unreachable_claimant_is_cannot_tell_not_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    v = CATALOGUE["psk_handshake"].variant("hardened")
    ch = Checker(v)
    monkeypatch.setattr(Checker, "reached", lambda self, role: False)
    r = ch.agreement(v.claim("R_weak_agree"), 0.0)
    assert r.verdict is UVerdict.CANNOT_TELL and "vacuous" in r.reason


def test_a_received_derived_key_is_unsupported_never_proved() -> None:
    # kdf(N) received into a key variable: the universe holds atoms, pk(agent) and g^x only
    for flaw in (True, False):
        (r,) = Checker(derived_key("kdf", flaw=flaw)).check()
        assert r.verdict is UVerdict.UNSUPPORTED and "kdf(N#1) received" in r.reason


def test_a_planted_flaw_is_never_proved() -> None:
    (flawed,) = Checker(derived_key("atomic", flaw=True)).check()
    (fixed,) = Checker(derived_key("atomic", flaw=False)).check()
    assert (flawed.verdict, fixed.verdict) == (NO, P)


def test_agreement_blocks_only_the_marked_begin_event() -> None:
    # without the marks, blocking every begin event of A with B would prove Lowe's victim
    # claim; with them, the responder's agreement on the nonces is not proved on the paper
    # variant and is on the hardened one
    paper = CATALOGUE["psk_handshake"].variant("paper")
    hardened = CATALOGUE["psk_handshake"].variant("hardened")
    c = "R_agree_nonces"
    assert Checker(paper).agreement(paper.claim(c), 0.0).verdict is NO
    assert Checker(hardened).agreement(hardened.claim(c), 0.0).verdict is P


def test_two_data_positions_that_may_share_a_value_are_unsupported() -> None:
    # one mark per position: a value at two positions cannot carry both marks, and blocking
    # by marks would then be unsound; refused, never proved
    import dataclasses

    from ethvoip.spec.protocol import Claim, holds
    from ethvoip.spec.protocols.psk_handshake import A, B, vN1

    v = CATALOGUE["psk_handshake"].variant("hardened")
    dup = Claim(
        "dup",
        ClaimKind.NI_AGREEMENT,
        "R",
        "N1 twice",
        peer="I",
        data=(A, B, vN1, vN1),
        peer_at="I_4",
    )
    (r,) = Checker(dataclasses.replace(v, claims=(dup,), expected={"dup": holds()})).check()
    assert r.verdict is UVerdict.UNSUPPORTED and "two data positions" in r.reason


def test_a_proof_of_a_pinned_attack_is_a_mismatch() -> None:
    from ethvoip.model.unbounded import UResult
    from ethvoip.model.unbounded_cli import URow
    from ethvoip.spec.protocol import attack, holds

    v = CATALOGUE["psk_handshake"].variant("paper")
    c = v.claim("R_secret_Ks")
    row = URow("psk_handshake", "paper", attack(2, ""), UResult(c, P, 0.0, ""))
    assert not row.ok
    assert URow("p", "v", holds(), UResult(c, P, 0.0, "")).ok
    assert URow("p", "v", attack(2, ""), UResult(c, NO, 0.0, "")).ok
    assert not URow("p", "v", holds(), UResult(c, UVerdict.CANNOT_TELL, 0.0, "")).ok


@pytest.mark.parametrize(
    "argv",
    [
        ["--unbounded", "--max-runs", "3", "sts"],
        ["--unbounded", "--traces-dir", "x", "sts"],
        ["--unbounded", "key_lifecycle"],
    ],
)
def test_options_that_do_not_apply_to_unbounded_are_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from ethvoip.model.cli import main

    assert main(argv) == 2
    assert "unbounded" in capsys.readouterr().err


def test_a_received_constant_is_unsupported() -> None:
    # the intruder may send a constant the description never names: no abstract value for it
    from ethvoip.spec.protocol import Claim, Recv, Role, Send, Variant, holds
    from ethvoip.spec.terms import Sort, Var, aenc, const, pk, sk, tup
    from tests.model.small_protocols import A, B, M

    tag = Var("T", Sort.CONST)
    i = Role("I", A, "initiator", (A, B), (sk(A),), (), (Send("I_1", tup(const("hi"), A)),))
    r = Role(
        "R",
        B,
        "responder",
        (B,),
        (sk(B),),
        (M,),
        (Recv("R_1", tup(tag, A)), Send("R_2", aenc(M, pk(A)))),
    )
    claim = Claim("R_secret_M", ClaimKind.SECRECY, "R", "M", term=M)
    v = Variant("const", "a received constant", (i, r), (claim,), {"R_secret_M": holds()})
    (got,) = Checker(v).check()
    assert got.verdict is UVerdict.UNSUPPORTED and "received constant T" in got.reason


@settings(max_examples=15)
@given(sound_property.shapes)
def test_on_random_protocols_nothing_the_bounded_model_attacks_is_proved(
    s: sound_property.Shape,
) -> None:
    # the two models against each other: an attack the bounded search finds (re-checked by
    # the evaluator in test_sound_property) is never "proved" here, and a planted flaw
    # never either
    from ethvoip.model.search import check_variant

    v = sound_property.build(s)
    bounded = {r.claim.name: r.verdict for r in check_variant(v, max_runs=3)}
    unbounded = {r.claim.name: r.verdict for r in Checker(v).check()}
    for name, verdict in unbounded.items():
        event(f"{name}: {verdict.value}")
        if bounded[name] is Verdict.ATTACK:
            assert verdict in (NO, UVerdict.UNSUPPORTED), name
    if s.flaw:
        assert unbounded["I_secret_N1"] in (NO, UVerdict.UNSUPPORTED)
    if s.flaw_r:
        assert unbounded["R_secret_N2"] in (NO, UVerdict.UNSUPPORTED)


def test_constructs_the_abstraction_does_not_know_are_unsupported_never_proved() -> None:
    """Key compromise, long-term shared keys (issue 15 §2's language) are refused whole: a
    compromise left out would prove secrecy that Denning-Sacco breaks."""
    import dataclasses

    from ethvoip.spec.protocol import Reveal
    from tests.model import language_probes

    hardened = CATALOGUE["psk_handshake"].variant("hardened")
    ks = next(f for f in hardened.role("I").fresh if f.name == "Ks")
    compromised = dataclasses.replace(hardened, reveals=(Reveal("I", ks),))
    for v in (compromised, language_probes.shared_key(flaw=False)):
        got = Checker(v).check()
        assert got and {r.verdict for r in got} == {UVerdict.UNSUPPORTED}, v.name
