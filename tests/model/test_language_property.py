"""Property: random small protocols over the constructs of issue 15 §2, every verdict re-checked.

The grammar: A sends B its nonce, in clear, under their long-term key ``k(A, B)``, under
``pk(B)``, or signed; possibly with a fresh key of hers that B receives into a key variable.
B answers with its own nonce (or a hash of A's), in clear, under ``k(A, B)`` or under the
received key.  The variant may let the key of old sessions leak (a ``Reveal`` of either
role's nonce), and a *planted flaw* may send A's nonce in clear at the end.  For each:

* every attack the model reports re-checks as a violation in the independent evaluator,
  read back through the trace file format;
* a planted flaw is never "no attack": A's secrecy claim must come back as an attack.

Derandomized (the ``ci`` profile) and small.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ethvoip.model.cli import prove
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Protocol,
    Recv,
    Reveal,
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
from ethvoip.spec.terms import Sort, Term, aenc, h, ltk, pk, senc, sign, sk, tup

A, B = agent("A"), agent("B")
N1, N2, KF = fresh("N1", Sort.NONCE), fresh("N2", Sort.NONCE), fresh("KF", Sort.KEY)
vN1, vN2, vK = var("N1", Sort.NONCE), var("N2", Sort.NONCE), var("KF", Sort.KEY)


@dataclass(frozen=True)
class Shape:
    w1: str  # plain | ltk | aenc | sig
    key_in_1: bool  # message 1 carries a fresh key of A's, received by B into a key variable
    w2: str  # plain | ltk | key (under the received key; needs key_in_1)
    hash_in_2: bool
    reveal: str  # none | I | R: the nonce of an old, finished run of that role leaks
    flaw: bool  # A sends N1 in clear at the end


shapes = st.builds(
    Shape,
    st.sampled_from(("plain", "ltk", "aenc", "sig")),
    st.booleans(),
    st.sampled_from(("plain", "ltk", "key")),
    st.booleans(),
    st.sampled_from(("none", "I", "R")),
    st.booleans(),
)


def build(s: Shape) -> Variant:
    def msg1(n1: Term, k: Term) -> Term:
        body = tup(n1, A, k) if s.key_in_1 or s.w2 == "key" else tup(n1, A)
        return {
            "plain": body,
            "ltk": senc(body, ltk(A, B)),
            "aenc": aenc(body, pk(B)),
            "sig": sign(body, sk(A)),
        }[s.w1]

    def msg2(n1: Term, n2: Term, k: Term) -> Term:
        body = tup(h("h", n1) if s.hash_in_2 else n1, n2)
        return {"plain": body, "ltk": senc(body, ltk(A, B)), "key": senc(body, k)}[s.w2]

    i_steps: list[Step] = [Send("I_1", msg1(N1, KF)), Recv("I_2", msg2(N1, vN2, KF))]
    r_steps: list[Step] = [Recv("R_1", msg1(vN1, vK)), Send("R_2", msg2(vN1, N2, vK))]
    if s.flaw:
        i_steps.append(Send("I_3", N1, note="planted flaw"))
    i = Role("I", A, "initiator", (A, B), (sk(A),), (N1, KF), tuple(i_steps))
    r = Role("R", B, "responder", (B, A), (sk(B),), (N2,), tuple(r_steps))
    reveals = {"none": (), "I": (Reveal("I", N1),), "R": (Reveal("R", N2),)}[s.reveal]
    claims = (
        Claim("I_secret_N1", ClaimKind.SECRECY, "I", "A's nonce", term=N1),
        Claim("R_secret_N2", ClaimKind.SECRECY, "R", "B's nonce", term=N2),
        Claim("R_alive", ClaimKind.ALIVENESS, "R", "A took part", peer="I"),
    )
    # placeholders the property does not read (the spec demands them)
    return Variant(
        "gen", "generated", (i, r), claims, {c.name: holds() for c in claims}, reveals=reveals
    )


@settings(max_examples=15)
@given(shapes)
@example(Shape("ltk", False, "ltk", False, "R", True))
@example(Shape("plain", True, "key", False, "I", False))
def test_every_verdict_rechecks_and_a_planted_flaw_is_found(s: Shape) -> None:
    source = "tests/model/test_language_property.py"
    p = Protocol("gen", "generated", source, "test", "", {"gen": build(s)})
    rows = {r.claim: r for r in prove(p, "gen", max_runs=3, generated_by="hypothesis")}
    for row in rows.values():
        assert row.result.verdict is not Verdict.UNKNOWN, row.result.reason
        if row.result.verdict is Verdict.ATTACK:
            assert row.trace is not None
            got = evaluate(p, tracefmt.loads(tracefmt.dumps(row.trace)))
            assert got.violated, (row.claim, got.explanation)
    if s.flaw:
        assert rows["I_secret_N1"].result.verdict is Verdict.ATTACK
