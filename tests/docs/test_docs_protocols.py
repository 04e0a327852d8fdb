"""Protocol pages from the spec: notation, honest-run charts, the page nodes, hand-drawn charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from docutils import nodes
from docutils.core import publish_doctree
from ethvoip_flow import honest_flow
from ethvoip_spec import parse_chart, protocol_nodes, variant_chart

from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.msc import ChartError, Event
from ethvoip.spec.notation import notation
from ethvoip.spec.protocol import (
    Claim,
    ClaimKind,
    Protocol,
    Recv,
    Role,
    Send,
    Variant,
    agent,
    attack,
    fresh,
    holds,
    var,
)
from ethvoip.spec.terms import Sort, Term, aenc, const, exp, h, inv, pk, senc, sign, sk, tup

CASES = [(p, v) for p in CATALOGUE.values() for v in p.variants.values()]
IDS = [f"{p.name}-{v.name}" for p, v in CASES]


def svg_texts(svg: str) -> str:
    root = ET.fromstring(svg)
    return "\n".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))


A, B = agent("A"), agent("B")
N1, N2, X = fresh("N1", Sort.NONCE), fresh("N2", Sort.NONCE), fresh("x", Sort.EXP)
KB = var("KB", Sort.PUBKEY)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # the notation of the paper's section III.C and of Lowe (1996)
        (aenc(tup(N1, A), pk(B)), "{N1, A}pk(B)"),
        (aenc(tup(N1, N2, B), KB), "{N1, N2, B}KB"),
        (aenc(tup(sign(N1, sk(A)), N2), pk(B)), "{sign(N1, sk(A)), N2}pk(B)"),
        (sign(tup(const("psk"), A, B), sk(A)), "sign(<psk, A, B>, sk(A))"),
        (senc(N1, h("kdf", N1, N2)), "{|N1|}kdf(N1, N2)"),
        (sign(N1, inv(KB)), "sign(N1, KB⁻¹)"),
        (inv(pk(A)), "sk(A)"),
        (exp(const("g"), X), "g^x"),
        (tup(A, tup(B, N1)), "<A, <B, N1>>"),
    ],
)
def test_notation(term: Term, expected: str) -> None:
    assert notation(term) == expected


@pytest.mark.parametrize(("protocol", "variant"), CASES, ids=IDS)
def test_every_variant_runs_honestly_and_its_chart_shows_every_step(
    protocol: Protocol, variant: Variant
) -> None:
    flow, svg = variant_chart(variant)
    assert flow.complete, flow.problems
    shown = svg_texts(svg)
    for role in variant.roles:
        for label in role.labels:
            assert label in shown, f"{label} missing from the chart of {protocol.name}"


def test_psk_handshake_arrows_pair_steps_as_the_paper_numbers_them() -> None:
    # Fig. 5 / III.C: message 2 (I_2) reaches B first (R_1), B's answer (R_3) is A's
    # message 4 (I_3), then A's messages 5 and 6 (I_4, I_5) are B's R_4, R_5.
    for v in CATALOGUE["psk_handshake"].variants.values():
        pairs = [(r.label, r.dst_label) for r in honest_flow(v).rows if r.kind == "message"]
        assert pairs == [("I_2", "R_1"), ("R_3", "I_3"), ("I_4", "R_4"), ("I_5", "R_5")]


def test_a_stuck_honest_run_is_reported_with_every_step_still_drawn() -> None:
    # the responder waits for {N1}pk(B) but the initiator sends {N1, A}pk(B): never matches
    vn1 = var("N1", Sort.NONCE)
    init = Role(
        "I", A, "initiator", (A, B), (sk(A),), (N1,), (Send("I_1", aenc(tup(N1, A), pk(B))),)
    )
    resp = Role("R", B, "responder", (B, A), (sk(B),), (), (Recv("R_1", aenc(vn1, pk(B))),))
    v = Variant("paper", "broken on purpose", (init, resp), (), {})
    flow, svg = variant_chart(v)
    assert not flow.complete
    assert any("R_1" in p for p in flow.problems)
    shown = svg_texts(svg)
    assert "I_1" in shown and "R_1" in shown


def _parse_rst(text: str) -> list[nodes.Node]:
    return list(publish_doctree(text).children)


@pytest.mark.parametrize("protocol", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_page_of_every_catalogue_protocol(protocol: Protocol) -> None:
    page, problems = protocol_nodes(protocol, _parse_rst)
    assert problems == []
    (section,) = page
    text = section.astext()
    assert protocol.title in text and protocol.source in text and protocol.status in text
    raws = [n for n in section.findall(nodes.raw)]
    assert len(raws) == len(protocol.variants)  # one chart per variant
    for raw in raws:
        ET.fromstring(raw.astext().removeprefix('<div class="ethvoip-msc">').removesuffix("</div>"))
    for v in protocol.variants.values():
        assert v.name in text and v.summary in text
        for role in v.roles:
            for label in role.labels:
                assert label in text
        for claim in v.claims:
            assert claim.name in text and claim.description in text
            assert v.expected[claim.name].verdict.value in text


def test_page_shows_the_smallest_attack_bound_per_variant() -> None:
    a, b = agent("A"), agent("B")
    role = Role("I", a, "only", (a, b), (), (), (Send("I_1", const("hello")),))
    claims = (
        Claim("c1", ClaimKind.ALIVENESS, "I", "one", peer="I"),
        Claim("c2", ClaimKind.ALIVENESS, "I", "two", peer="I"),
    )
    paper = Variant("paper", "s", (role,), claims, {"c1": attack(4, "w"), "c2": attack(3, "w")})
    hard = Variant("hardened", "s", (role,), claims, {"c1": holds(), "c2": holds()})
    p = Protocol("toy", "Toy", "nowhere", "test", "", {"paper": paper, "hardened": hard})
    (section,) = protocol_nodes(p, _parse_rst)[0]
    text = section.astext()
    assert "as few as 3 role runs" in text
    assert "hardened: no attack is expected" in text


def test_hand_written_chart_syntax() -> None:
    lanes, events = parse_chart(
        ["App -> Operator : 2 : wallet, receipt", "", "# a comment", "Operator : 5 : a : b"]
    )
    assert lanes == ["App", "Operator"]
    assert events == [
        Event("App", "Operator", "2", "wallet, receipt"),
        Event("Operator", "Operator", "5", "a : b"),
    ]
    with pytest.raises(ChartError):
        parse_chart(["A -> B no colons"])
    with pytest.raises(ChartError):
        parse_chart(["A -> C : 1 : x"], ["A", "B"])
    with pytest.raises(ChartError):
        parse_chart([" -> B : 1 : x"])
    with pytest.raises(ChartError):
        parse_chart([])
