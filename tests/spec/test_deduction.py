"""Dolev-Yao deduction: what the intruder can and cannot obtain (textbook facts)."""

from __future__ import annotations

from ethvoip.spec.deduction import Knowledge
from ethvoip.spec.terms import Atom, G, Sort, aenc, exp, h, pk, senc, sign, sk, tup

a, b, e = (Atom(n, Sort.AGENT) for n in "abe")
n, k = Atom("n#1", Sort.NONCE), Atom("k#1", Sort.KEY)
x, y = Atom("x#1", Sort.EXP), Atom("y#2", Sort.EXP)


def test_ciphertext_opens_only_with_the_private_key() -> None:
    assert not Knowledge([aenc(n, pk(b))]).derivable(n)
    assert Knowledge([aenc(n, pk(b)), sk(b)]).derivable(n)


def test_key_learnt_later_opens_an_older_ciphertext() -> None:
    know = Knowledge([senc(n, k)])
    assert not know.derivable(n)
    know.add(tup(a, k))
    assert know.derivable(n)


def test_signature_reveals_its_message_but_cannot_be_forged() -> None:
    know = Knowledge([sign(tup(n, a), sk(a))])
    assert know.derivable(n)
    assert not know.derivable(sign(n, sk(a)))
    assert know.derivable(sign(n, sk(e))) is False  # he does not hold sk(e) here
    assert Knowledge([n, sk(e)]).derivable(sign(n, sk(e)))


def test_public_names_and_keys() -> None:
    know = Knowledge([])
    assert know.derivable(pk(a)) and know.derivable(a)
    assert not know.derivable(sk(a)) and not know.derivable(n)


def test_diffie_hellman_needs_one_exponent() -> None:
    gxy = exp(exp(G, x), y)
    assert Knowledge([exp(G, x), y]).derivable(gxy)
    assert Knowledge([exp(G, y), x]).derivable(gxy)
    assert not Knowledge([exp(G, x), exp(G, y)]).derivable(gxy)


def test_hash_is_one_way() -> None:
    assert Knowledge([n]).derivable(h("h", n))
    assert not Knowledge([h("h", n)]).derivable(n)


def test_explanations_follow_the_steps() -> None:
    know = Knowledge([sk(e)])
    know.observe(aenc(tup(n, a), pk(e)), event=3)
    d = know.explain(aenc(tup(n, a), pk(b)))
    assert d.rule == "aenc"
    body = d.premises[0]
    assert body.term == tup(n, a)
    assert body.rule == "decrypt" and body.premises[0].rule == "observed"
    assert body.premises[0].event == 3


def test_a_name_seen_in_a_message_is_still_explained_as_public() -> None:
    know = Knowledge([])
    know.observe(tup(n, a), event=0)
    assert know.explain(a).rule == "public"  # the shortest explanation, not "item 1 of"
    assert know.explain(n).rule == "project"
    assert know.derivation(sk(a)) is None
